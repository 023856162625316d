/* registry.c - Beckn participant keys from a local file and a remote
 * DeDi-style registry, with a bounded, thread-safe cache. The contract is in
 * registry.h.
 *
 * Design: local records are an immutable array filled at open. Remote
 * answers live in a fixed array of BECKN_REGISTRY_CACHE_MAX slots scanned
 * linearly (a 64-bit hash is compared before the strings); when it is full,
 * the slot that expires first is reused, so short-lived negative answers are
 * evicted before positive ones. The mutex guards only the cache; HTTP runs
 * without it, so two threads missing the same key may both ask the registry
 * (harmless: the second answer overwrites the first).
 */
#include "gateway/beckn/registry.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/p2p_json.h"
#include "common/p2p_log.h"

#define DEFAULT_POSITIVE_TTL_S 300
#define DEFAULT_NEGATIVE_TTL_S 30
#define DEFAULT_TIMEOUT_MS 2000

struct cache_entry {
    bool used;
    bool found;         /* false: a cached "not found" */
    uint64_t hash;      /* of subscriber_id '|' key_id */
    int64_t expires_ms; /* monotonic clock */
    struct beckn_peer peer;
};

struct beckn_registry {
    struct beckn_peer *local; /* from the participants file, immutable */
    size_t nlocal;
    char *url;  /* base URL without trailing '/', or NULL */
    char *name; /* registry name, set when url is */
    int64_t positive_ttl_ms, negative_ttl_ms;
    long timeout_ms;
    pthread_mutex_t mu; /* guards cache */
    struct cache_entry *cache;
};

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* FNV-1a over "sub|key". */
static uint64_t key_hash(const char *sub, const char *key)
{
    uint64_t h = 14695981039346656037ULL;
    for (const char *p = sub; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ '|') * 1099511628211ULL;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

/* ---- configuration ---------------------------------------------------- */

static const char *env_or_null(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int beckn_registry_config_from_env(struct beckn_registry_config *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->file = env_or_null("BECKN_REGISTRY_FILE");
    cfg->url = env_or_null("BECKN_REGISTRY_URL");
    cfg->name = env_or_null("BECKN_REGISTRY_NAME");
    const char *ttl = env_or_null("BECKN_REGISTRY_CACHE_SECONDS");
    if (ttl) {
        char *end;
        errno = 0;
        long v = strtol(ttl, &end, 10);
        if (errno || *end || v < 1 || v > 86400) {
            snprintf(err, errlen, "BECKN_REGISTRY_CACHE_SECONDS must be 1..86400, got \"%s\"",
                     ttl);
            return -1;
        }
        cfg->positive_ttl_s = (int)v;
    }
    return 0;
}

/* ---- the participants file -------------------------------------------- */

static bool type_valid(const char *t)
{
    return strcmp(t, "BAP") == 0 || strcmp(t, "BPP") == 0 || strcmp(t, "CDS") == 0 ||
           strcmp(t, "BG") == 0;
}

/* Reads one participants-file entry into *p. */
static int load_entry(const json_t *e, struct beckn_peer *p, struct p2p_violation *v)
{
    char pk_b64[64];
    bool has_url;
    memset(p, 0, sizeof *p);
    if (!json_is_object(e))
        return p2p_violate(v, "wrong_type", "entry", "entry must be an object");
    if (p2p_json_str(e, "subscriber_id", p->subscriber_id, sizeof p->subscriber_id, v) ||
        p2p_json_str(e, "key_id", p->key_id, sizeof p->key_id, v) ||
        p2p_json_str(e, "signing_public_key", pk_b64, sizeof pk_b64, v) ||
        p2p_json_str(e, "type", p->type, sizeof p->type, v) ||
        p2p_json_opt_str(e, "url", p->url, sizeof p->url, &has_url, v))
        return -1;
    if (!beckn_id_valid(p->subscriber_id))
        return p2p_violate(v, "invalid_field", "subscriber_id", "has '|', '\"', '\\' or controls");
    if (!beckn_id_valid(p->key_id))
        return p2p_violate(v, "invalid_field", "key_id", "has '|', '\"', '\\' or controls");
    if (beckn_public_key_from_b64(pk_b64, p->pk) != 0)
        return p2p_violate(v, "invalid_field", "signing_public_key",
                           "must be base64 of a 32-byte Ed25519 key");
    if (!type_valid(p->type))
        return p2p_violate(v, "invalid_field", "type", "must be BAP, BPP, CDS or BG");
    return 0;
}

static const struct beckn_peer *find_local(const struct beckn_registry *r, const char *sub,
                                           const char *key)
{
    for (size_t i = 0; i < r->nlocal; i++)
        if (strcmp(r->local[i].subscriber_id, sub) == 0 &&
            (!key || strcmp(r->local[i].key_id, key) == 0))
            return &r->local[i];
    return NULL;
}

static int load_file(struct beckn_registry *r, const char *path, char *err, size_t errlen)
{
    json_error_t jerr;
    struct p2p_violation v;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
        return -1;
    }
    int rc = -1;
    size_t n = json_is_array(root) ? json_array_size(root) : 0;
    if (!json_is_array(root)) {
        snprintf(err, errlen, "%s: must be a JSON array of participants", path);
        goto done;
    }
    if (n > 0 && !(r->local = calloc(n, sizeof *r->local))) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (load_entry(json_array_get(root, i), &r->local[i], &v) != 0) {
            snprintf(err, errlen, "%s: entry %zu: %s: %s", path, i, v.field, v.message);
            goto done;
        }
        if (find_local(r, r->local[i].subscriber_id, r->local[i].key_id)) {
            snprintf(err, errlen, "%s: entry %zu: duplicate subscriber_id/key_id", path, i);
            goto done;
        }
        r->nlocal = i + 1;
    }
    rc = 0;
done:
    json_decref(root);
    return rc;
}

/* ---- open / close ----------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int setup_remote(struct beckn_registry *r, const struct beckn_registry_config *cfg,
                        char *err, size_t errlen)
{
    if (strncmp(cfg->url, "http://", 7) != 0 && strncmp(cfg->url, "https://", 8) != 0) {
        snprintf(err, errlen, "registry URL must start with http:// or https://");
        return -1;
    }
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK) {
        snprintf(err, errlen, "curl_global_init: %s", curl_easy_strerror(curl_init_rc));
        return -1;
    }
    r->url = strdup(cfg->url);
    r->name = strdup(cfg->name && *cfg->name ? cfg->name : BECKN_REGISTRY_DEFAULT_NAME);
    r->cache = calloc(BECKN_REGISTRY_CACHE_MAX, sizeof *r->cache);
    if (!r->url || !r->name || !r->cache) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = strlen(r->url);
    while (n > 0 && r->url[n - 1] == '/')
        r->url[--n] = '\0';
    return 0;
}

int beckn_registry_open(struct beckn_registry **out, const struct beckn_registry_config *cfg,
                        char *err, size_t errlen)
{
    bool has_file = cfg->file && *cfg->file, has_url = cfg->url && *cfg->url;
    if (!has_file && !has_url) {
        snprintf(err, errlen, "registry needs a participants file or a registry URL");
        return -1;
    }
    struct beckn_registry *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        snprintf(err, errlen, "pthread_mutex_init failed");
        free(r);
        return -1;
    }
    r->positive_ttl_ms = 1000LL * (cfg->positive_ttl_s > 0 ? cfg->positive_ttl_s
                                                           : DEFAULT_POSITIVE_TTL_S);
    r->negative_ttl_ms = 1000LL * (cfg->negative_ttl_s > 0 ? cfg->negative_ttl_s
                                                           : DEFAULT_NEGATIVE_TTL_S);
    r->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    if ((has_file && load_file(r, cfg->file, err, errlen) != 0) ||
        (has_url && setup_remote(r, cfg, err, errlen) != 0)) {
        beckn_registry_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

void beckn_registry_close(struct beckn_registry *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->mu);
    free(r->local);
    free(r->url);
    free(r->name);
    free(r->cache);
    free(r);
}

/* ---- cache ------------------------------------------------------------ */

/* Finds a live entry; caller holds r->mu. */
static struct cache_entry *cache_find(struct beckn_registry *r, const char *sub,
                                      const char *key, int64_t now_ms)
{
    uint64_t h = key_hash(sub, key);
    for (size_t i = 0; i < BECKN_REGISTRY_CACHE_MAX; i++) {
        struct cache_entry *e = &r->cache[i];
        if (e->used && e->hash == h && e->expires_ms > now_ms &&
            strcmp(e->peer.subscriber_id, sub) == 0 && strcmp(e->peer.key_id, key) == 0)
            return e;
    }
    return NULL;
}

/* The slot to (re)use for sub/key: its own, else a free one, else the one
 * expiring first (expired ones expire first). Caller holds r->mu. */
static struct cache_entry *cache_slot(struct beckn_registry *r, const char *sub,
                                      const char *key)
{
    uint64_t h = key_hash(sub, key);
    struct cache_entry *victim = &r->cache[0];
    for (size_t i = 0; i < BECKN_REGISTRY_CACHE_MAX; i++) {
        struct cache_entry *e = &r->cache[i];
        if (e->used && e->hash == h && strcmp(e->peer.subscriber_id, sub) == 0 &&
            strcmp(e->peer.key_id, key) == 0)
            return e;
        if (victim->used && (!e->used || e->expires_ms < victim->expires_ms))
            victim = e;
    }
    return victim;
}

static void cache_put(struct beckn_registry *r, const char *sub, const char *key,
                      const struct beckn_peer *found)
{
    int64_t now_ms = monotonic_ms();
    pthread_mutex_lock(&r->mu);
    struct cache_entry *e = cache_slot(r, sub, key);
    memset(e, 0, sizeof *e);
    e->used = true;
    e->hash = key_hash(sub, key);
    e->found = found != NULL;
    e->expires_ms = now_ms + (found ? r->positive_ttl_ms : r->negative_ttl_ms);
    if (found)
        e->peer = *found;
    snprintf(e->peer.subscriber_id, sizeof e->peer.subscriber_id, "%s", sub);
    snprintf(e->peer.key_id, sizeof e->peer.key_id, "%s", key);
    pthread_mutex_unlock(&r->mu);
}

/* ---- remote lookup ---------------------------------------------------- */

struct body_buf {
    char *data; /* BECKN_REGISTRY_BODY_MAX bytes */
    size_t len;
    bool overflow;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct body_buf *b = userdata;
    size_t n = size * nmemb;
    if (n > BECKN_REGISTRY_BODY_MAX - b->len) {
        b->overflow = true;
        return 0; /* makes curl abort with CURLE_WRITE_ERROR */
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    return n;
}

/* A definitive "no such key" is routine (info); failing to ask is a warning. */
static void log_failure(enum beckn_registry_result res, const char *sub, const char *key,
                        const char *reason)
{
    p2p_log_fields(res == BECKN_REG_NOT_FOUND ? P2P_INFO : P2P_WARN,
                   res == BECKN_REG_NOT_FOUND ? "beckn_registry_key_not_found"
                                              : "beckn_registry_lookup_failed",
                   json_pack("{s:s?, s:s?, s:s}", "subscriber_id", sub, "key_id", key,
                             "reason", reason));
}

/* "{base}/lookup/{sub}/{name}/{key}" with escaped segments; caller frees. */
static char *lookup_url(CURL *c, const struct beckn_registry *r, const char *sub,
                        const char *key)
{
    char *es = curl_easy_escape(c, sub, 0);
    char *en = curl_easy_escape(c, r->name, 0);
    char *ek = curl_easy_escape(c, key, 0);
    char *url = NULL;
    if (es && en && ek) {
        size_t n = strlen(r->url) + strlen(es) + strlen(en) + strlen(ek) + sizeof "/lookup///";
        if ((url = malloc(n)))
            snprintf(url, n, "%s/lookup/%s/%s/%s", r->url, es, en, ek);
    }
    curl_free(es);
    curl_free(en);
    curl_free(ek);
    return url;
}

/* One GET with every limit set. Returns the curl result; *status is the
 * HTTP status when the transfer completed. */
static CURLcode http_get(const struct beckn_registry *r, CURL *c, const char *url,
                         struct body_buf *b, long *status)
{
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
    CURLcode rc = hdrs ? CURLE_OK : CURLE_OUT_OF_MEMORY;
    if (!rc) rc = curl_easy_setopt(c, CURLOPT_URL, url);
    if (!rc) rc = curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (!rc) rc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!rc) rc = curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    if (!rc) rc = curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (!rc) rc = curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    if (!rc) rc = curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms);
    if (!rc) rc = curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                                   (curl_off_t)BECKN_REGISTRY_BODY_MAX);
    if (!rc) rc = curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    if (!rc) rc = curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    if (!rc) rc = curl_easy_setopt(c, CURLOPT_USERAGENT, "p2p-energy-beckn/0.1");
    if (!rc) rc = curl_easy_perform(c);
    if (!rc) rc = curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(hdrs);
    return rc;
}

/* Turns a 200 body into a peer. Unparseable JSON is UNAVAILABLE (the
 * registry is broken); a well-formed answer without a usable record for
 * this subscriber is NOT_FOUND. */
static enum beckn_registry_result parse_record(const struct body_buf *b, const char *sub,
                                               const char *key, struct beckn_peer *p,
                                               const char **reason)
{
    struct p2p_violation v;
    char pk_b64[64], rec_sub[BECKN_ID_MAX];
    bool has_type, has_url, has_sub;
    json_t *root = p2p_json_parse_object(b->data, b->len, &v);
    if (!root) {
        *reason = "response is not a JSON object";
        return BECKN_REG_UNAVAILABLE;
    }
    enum beckn_registry_result res = BECKN_REG_NOT_FOUND;
    json_t *details = json_object_get(json_object_get(root, "data"), "details");
    memset(p, 0, sizeof *p);
    *reason = "record has no usable data.details";
    if (!json_is_object(details) ||
        p2p_json_str(details, "signing_public_key", pk_b64, sizeof pk_b64, &v) ||
        p2p_json_opt_str(details, "type", p->type, sizeof p->type, &has_type, &v) ||
        p2p_json_opt_str(details, "url", p->url, sizeof p->url, &has_url, &v) ||
        p2p_json_opt_str(details, "subscriber_id", rec_sub, sizeof rec_sub, &has_sub, &v))
        goto done;
    *reason = "signing_public_key is not base64 of 32 bytes";
    if (beckn_public_key_from_b64(pk_b64, p->pk) != 0)
        goto done;
    *reason = "record belongs to another subscriber";
    if (has_sub && strcmp(rec_sub, sub) != 0)
        goto done;
    snprintf(p->subscriber_id, sizeof p->subscriber_id, "%s", sub);
    snprintf(p->key_id, sizeof p->key_id, "%s", key);
    res = BECKN_REG_OK;
done:
    json_decref(root);
    return res;
}

static enum beckn_registry_result fetch_remote(const struct beckn_registry *r,
                                               const char *sub, const char *key,
                                               struct beckn_peer *out)
{
    struct body_buf b = {malloc(BECKN_REGISTRY_BODY_MAX), 0, false};
    CURL *c = curl_easy_init();
    char *url = c ? lookup_url(c, r, sub, key) : NULL;
    enum beckn_registry_result res = BECKN_REG_UNAVAILABLE;
    const char *reason = "out of memory";
    long status = 0;
    if (b.data && c && url) {
        CURLcode rc = http_get(r, c, url, &b, &status);
        if (rc != CURLE_OK)
            reason = b.overflow ? "response larger than 64 KiB" : curl_easy_strerror(rc);
        else if (status == 404) {
            res = BECKN_REG_NOT_FOUND;
            reason = "registry has no such record (404)";
        } else if (status != 200)
            reason = "unexpected HTTP status";
        else
            res = parse_record(&b, sub, key, out, &reason);
    }
    if (res != BECKN_REG_OK)
        log_failure(res, sub, key, reason);
    free(url);
    curl_easy_cleanup(c);
    free(b.data);
    return res;
}

/* ---- lookups ---------------------------------------------------------- */

enum beckn_registry_result beckn_registry_lookup(struct beckn_registry *r,
                                                 const char *subscriber_id, const char *key_id,
                                                 struct beckn_peer *out)
{
    if (!beckn_id_valid(subscriber_id) || !beckn_id_valid(key_id))
        return BECKN_REG_NOT_FOUND;
    const struct beckn_peer *local = find_local(r, subscriber_id, key_id);
    if (local) {
        *out = *local;
        return BECKN_REG_OK;
    }
    if (!r->url)
        return BECKN_REG_NOT_FOUND;

    pthread_mutex_lock(&r->mu);
    struct cache_entry *e = cache_find(r, subscriber_id, key_id, monotonic_ms());
    bool hit = e != NULL, found = hit && e->found;
    if (found)
        *out = e->peer;
    pthread_mutex_unlock(&r->mu);
    if (hit)
        return found ? BECKN_REG_OK : BECKN_REG_NOT_FOUND;

    struct beckn_peer p;
    enum beckn_registry_result res = fetch_remote(r, subscriber_id, key_id, &p);
    if (res != BECKN_REG_UNAVAILABLE)
        cache_put(r, subscriber_id, key_id, res == BECKN_REG_OK ? &p : NULL);
    if (res == BECKN_REG_OK)
        *out = p;
    return res;
}

enum beckn_registry_result beckn_registry_lookup_subscriber(struct beckn_registry *r,
                                                            const char *subscriber_id,
                                                            struct beckn_peer *out)
{
    if (!beckn_id_valid(subscriber_id))
        return BECKN_REG_NOT_FOUND;
    const struct beckn_peer *local = find_local(r, subscriber_id, NULL);
    if (local) {
        *out = *local;
        return BECKN_REG_OK;
    }
    if (!r->cache)
        return BECKN_REG_NOT_FOUND;
    enum beckn_registry_result res = BECKN_REG_NOT_FOUND;
    int64_t now_ms = monotonic_ms();
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < BECKN_REGISTRY_CACHE_MAX && res != BECKN_REG_OK; i++) {
        const struct cache_entry *e = &r->cache[i];
        if (e->used && e->found && e->expires_ms > now_ms &&
            strcmp(e->peer.subscriber_id, subscriber_id) == 0) {
            *out = e->peer;
            res = BECKN_REG_OK;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return res;
}

/* ---- the receiver algorithm ------------------------------------------- */

enum beckn_auth_error beckn_authenticate(struct beckn_registry *r, const char *header,
                                         const void *body, size_t len, int64_t now,
                                         int64_t skew_s, struct beckn_auth *auth,
                                         struct beckn_peer *peer, const char **why)
{
    struct beckn_peer p;
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    if (!header || !*header) {
        *why = "no Authorization header";
        return BECKN_AUTH_MISSING;
    }
    if (beckn_auth_parse(header, auth, why) != 0)
        return BECKN_AUTH_MALFORMED;
    /* The time window first: a stale or future header costs no registry call. */
    enum beckn_auth_error e = beckn_auth_check_time(auth, now, skew_s);
    if (e != BECKN_AUTH_OK)
        return e;
    switch (beckn_registry_lookup(r, auth->subscriber_id, auth->key_id, &p)) {
    case BECKN_REG_OK:
        break;
    case BECKN_REG_NOT_FOUND:
        return BECKN_AUTH_KEY_NOT_FOUND;
    default:
        return BECKN_AUTH_REGISTRY_UNAVAILABLE;
    }
    e = beckn_verify(auth, p.pk, body, len, now, skew_s);
    if (e == BECKN_AUTH_OK && peer)
        *peer = p;
    return e;
}
