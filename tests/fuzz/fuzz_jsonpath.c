/* libFuzzer target: untrusted discover filter expressions through the
 * JSONPath parser (gateway/beckn/jsonpath.c), the way the CDS reads
 * message.filters.expression. Invariants: a refusal always says what was
 * expected at which offset; an accepted filter evaluates (twice, with the
 * same answer) over a DEG catalog item with offers and over odd documents
 * without crashing; nothing leaks (ASan). Built and run by tests/fuzz/run.sh. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/beckn/jsonpath.h"

static void check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_jsonpath: invariant broken: %s\n", what);
        abort();
    }
}

static const char *const documents[] = {
    "{\"@type\":\"beckn:Item\",\"beckn:id\":\"energy-resource-solar-001\","
    "\"beckn:networkId\":[\"p2p-interdiscom-trading-pilot-network\",\"n2\"],\"beckn:isActive\":true,"
    "\"beckn:itemAttributes\":{\"@type\":\"EnergyResource\",\"sourceType\":\"SOLAR\","
    "\"deliveryMode\":\"GRID_INJECTION\",\"meterId\":\"der://meter/100200300\","
    "\"availableQuantity\":30.5,\"productionWindow\":[{\"@type\":\"beckn:TimePeriod\","
    "\"schema:startTime\":\"2026-01-09T10:00:00Z\",\"schema:endTime\":\"2026-01-09T18:00:00Z\"}]},"
    "\"beckn:offers\":[{\"beckn:id\":\"offer-morning-001\",\"beckn:offerAttributes\":{"
    "\"beckn:price\":{\"value\":0.15,\"currency\":\"USD\"},\"beckn:timeWindow\":{"
    "\"schema:startTime\":\"2026-01-09T06:00:00+05:30\",\"schema:endTime\":\"2026-01-09T12:00:00.5Z\"}}},"
    "{\"beckn:id\":\"offer-afternoon-001\",\"beckn:offerAttributes\":{\"beckn:price\":{\"value\":18}}}]}",
    "[1,[2,[3,null,true,false,\"2026-01-09T10:00:00Z\"]],{\"a\":{\"b\":[{\"c\":1e300}]}}]",
    "\"2026-01-09T10:00:00Z\"",
    "{}",
};

static json_t *docs[sizeof documents / sizeof *documents];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!docs[0])
        for (size_t i = 0; i < sizeof documents / sizeof *documents; i++) {
            docs[i] = json_loads(documents[i], JSON_DECODE_ANY, NULL);
            check(docs[i] != NULL, "fixture parses");
        }
    struct jsonpath_filter *f = NULL;
    char err[256];
    err[0] = '\0';
    if (jsonpath_parse((const char *)data, size, &f, err, sizeof err) != 0) {
        check(f == NULL, "no filter on failure");
        check(err[0] != '\0', "refusal has a message");
        check(size == 0 || size > JSONPATH_MAX_TEXT || strstr(err, "offset") != NULL,
              "refusal names an offset");
        return 0;
    }
    check(f != NULL, "filter on success");
    for (size_t i = 0; i < sizeof documents / sizeof *documents; i++) {
        bool first = jsonpath_match(f, docs[i]);
        check(first == jsonpath_match(f, docs[i]), "evaluation is deterministic");
    }
    jsonpath_free(f);
    return 0;
}
