/* Test vectors A and B of beckn.md §4.3 (BECKN-006), shared by the Beckn
 * unit tests: vector A's exact body bytes, public key and signed header, and
 * vector B's public key. */
#ifndef P2P_BECKN_VECTORS_H
#define P2P_BECKN_VECTORS_H

static const char body_a[] =
    "{\"context\":{\"domain\":\"nic2004:60212\",\"country\":\"IND\",\"city\":\"Kochi\","
    "\"action\":\"search\",\"core_version\":\"0.9.1\",\"bap_id\":\"bap.stayhalo.in\","
    "\"bap_uri\":\"https://8f9f-49-207-209-131.ngrok.io/protocol/\","
    "\"transaction_id\":\"e6d9f908-1d26-4ff3-a6d1-3af3d3721054\","
    "\"message_id\":\"a2fe6d52-9fe4-4d1a-9d0b-dccb8b48522d\","
    "\"timestamp\":\"2022-01-04T09:17:55.971Z\",\"ttl\":\"P1M\"},"
    "\"message\":{\"intent\":{\"fulfillment\":{\"start\":{\"location\":{\"gps\":\"10.108768, "
    "76.347517\"}},\"end\":{\"location\":{\"gps\":\"10.102997, 76.353480\"}}}}}}";
static const char pk_a[] = "awGPjRK6i/Vg/lWr+0xObclVxlwZXvTjWYtlu6NeOHk=";
static const char header_a[] =
    "Signature keyId=\"example-bap.com|ae3ea24b-cfec-495e-81f8-044aaef164ac|ed25519\","
    "algorithm=\"ed25519\",created=\"1641287875\",expires=\"1641291475\","
    "headers=\"(created) (expires) digest\","
    "signature=\"cjbhP0PFyrlSCNszJM1F/YmHDVAWsZqJUPzojnE/7TJU3fJ/rmIlgaUHEr5E0/2PIyf0tpSnWtT6cyNNlpmoAQ==\"";
static const char pk_b[] = "7YRZXVeIJ0/Va56vYgzT1Uirg6mnq3FY0MBZY9DJft0=";

#endif
