/* client.c - signed Beckn POSTs over libcurl (client.h). */
#include "gateway/beckn/client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct beckn_client {
    CURL *curl;
};

struct answer {
    char *data;
    size_t len;
    bool too_big;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct answer *a = userdata;
    size_t n = size * nmemb;
    if (a->len + n > BECKN_CLIENT_BODY_MAX) {
        a->too_big = true;
        return 0; /* aborts the transfer */
    }
    char *grown = realloc(a->data, a->len + n + 1);
    if (!grown)
        return 0;
    memcpy(grown + a->len, ptr, n);
    a->data = grown;
    a->len += n;
    a->data[a->len] = '\0';
    return n;
}

struct beckn_client *beckn_client_new(void)
{
    struct beckn_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->curl = curl_easy_init();
    if (!c->curl) {
        free(c);
        return NULL;
    }
    return c;
}

void beckn_client_free(struct beckn_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c);
}

static void copy_str(const json_t *v, char *out, size_t cap)
{
    if (json_is_string(v))
        snprintf(out, cap, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, cap, "%lld", (long long)json_integer_value(v));
}

static void read_error(const json_t *err, struct beckn_post_result *out)
{
    if (!json_is_object(err))
        return;
    const json_t *code = json_object_get(err, "code");
    if (!code)
        code = json_object_get(err, "errorCode");
    const json_t *msg = json_object_get(err, "message");
    if (!msg)
        msg = json_object_get(err, "errorMessage");
    copy_str(code, out->error_code, sizeof out->error_code);
    copy_str(msg, out->error_message, sizeof out->error_message);
}

static enum beckn_ack ack_of(const json_t *v)
{
    if (!json_is_string(v))
        return BECKN_ACK_UNKNOWN;
    if (strcmp(json_string_value(v), "ACK") == 0)
        return BECKN_ACK_ACK;
    if (strcmp(json_string_value(v), "NACK") == 0)
        return BECKN_ACK_NACK;
    return BECKN_ACK_UNKNOWN;
}

void beckn_parse_ack(const char *body, size_t len, struct beckn_post_result *out)
{
    out->ack = BECKN_ACK_UNKNOWN;
    out->error_code[0] = out->error_message[0] = '\0';
    json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
    if (!json_is_object(root)) {
        json_decref(root);
        return;
    }
    const json_t *message = json_object_get(root, "message");
    const json_t *ack = json_object_get(message, "ack");
    enum beckn_ack a = ack_of(json_object_get(ack, "status"));     /* onix v1.3, v1.1 */
    if (a == BECKN_ACK_UNKNOWN)
        a = ack_of(json_object_get(root, "ack_status"));            /* RC AckResponse, DEG */
    if (a == BECKN_ACK_UNKNOWN)
        a = ack_of(json_object_get(message, "status"));             /* onix >= v1.7 */
    if (a == BECKN_ACK_UNKNOWN)
        a = ack_of(json_object_get(root, "status"));                /* LTS Ack */
    out->ack = a;
    const json_t *err = json_object_get(message, "error");
    if (!err)
        err = json_object_get(root, "error");
    read_error(err, out);
    json_decref(root);
}

bool beckn_post_delivered(const struct beckn_post_result *r)
{
    return r->http_status >= 200 && r->http_status < 300 && r->ack != BECKN_ACK_NACK;
}

bool beckn_post_retryable(const struct beckn_post_result *r)
{
    int s = r->http_status;
    return s == 0 || s == 401 || s == 408 || s == 425 || s == 429 || s >= 500;
}

int beckn_client_post(struct beckn_client *c, const struct beckn_key *k, const char *url,
                      const char *body, size_t len, int64_t now_s, int64_t ttl_s,
                      int timeout_ms, struct beckn_post_result *out)
{
    memset(out, 0, sizeof *out);
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
        snprintf(out->transport_error, sizeof out->transport_error, "not an http(s) URL");
        return -1;
    }
    char header[BECKN_HEADER_MAX + 32];
    int n = snprintf(header, sizeof header, "Authorization: ");
    if (beckn_sign(k, body, len, now_s, now_s + ttl_s, header + n, sizeof header - (size_t)n) < 0) {
        snprintf(out->transport_error, sizeof out->transport_error, "cannot sign the body");
        return -1;
    }
    struct curl_slist *headers = NULL, *h;
    h = curl_slist_append(headers, "Content-Type: application/json");
    if (h)
        headers = h;
    h = h ? curl_slist_append(headers, header) : NULL;
    if (h)
        headers = h;
    h = h ? curl_slist_append(headers, "Expect:") : NULL; /* no 100-continue round trip */
    if (!h) {
        curl_slist_free_all(headers);
        snprintf(out->transport_error, sizeof out->transport_error, "out of memory");
        return -1;
    }
    headers = h;
    struct answer a = {0};
    CURL *e = c->curl;
    curl_easy_reset(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
#if CURL_AT_LEAST_VERSION(7, 85, 0)
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &a);
    CURLcode rc = curl_easy_perform(e);
    curl_slist_free_all(headers);
    int result = 0;
    if (rc != CURLE_OK) {
        snprintf(out->transport_error, sizeof out->transport_error, "%s",
                 a.too_big ? "the answer exceeds the size limit" : curl_easy_strerror(rc));
        result = -1;
    } else {
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        out->http_status = (int)status;
        beckn_parse_ack(a.data, a.len, out);
    }
    free(a.data);
    return result;
}
