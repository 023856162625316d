/* COPY text-format rows and their sending (projections/copy_writer.h). */
#include "projections/copy_writer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(struct copy_buf *b, size_t n)
{
    if (b->oom)
        return false;
    if (b->len + n + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 1u << 16;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) {
        b->oom = true;
        return false;
    }
    b->data = grown;
    b->cap = cap;
    return true;
}

static void separate(struct copy_buf *b)
{
    if (b->in_row && reserve(b, 1))
        b->data[b->len++] = '\t';
    b->in_row = true;
}

static void append(struct copy_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void append_escaped(struct copy_buf *b, const char *s)
{
    size_t n = strlen(s);
    if (!reserve(b, 2 * n))
        return;
    char *out = b->data + b->len;
    for (; *s; s++) {
        switch (*s) {
        case '\\': *out++ = '\\'; *out++ = '\\'; break;
        case '\t': *out++ = '\\'; *out++ = 't'; break;
        case '\n': *out++ = '\\'; *out++ = 'n'; break;
        case '\r': *out++ = '\\'; *out++ = 'r'; break;
        default: *out++ = *s;
        }
    }
    b->len = (size_t)(out - b->data);
    b->data[b->len] = '\0';
}

void copy_null(struct copy_buf *b)
{
    separate(b);
    append(b, "\\N", 2);
}

void copy_text(struct copy_buf *b, const char *s)
{
    if (!s) {
        copy_null(b);
        return;
    }
    separate(b);
    append_escaped(b, s);
}

void copy_int(struct copy_buf *b, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    separate(b);
    append(b, num, (size_t)n);
}

void copy_nint(struct copy_buf *b, struct nint v)
{
    if (v.set)
        copy_int(b, v.v);
    else
        copy_null(b);
}

void copy_member(struct copy_buf *b, const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        copy_null(b);
    } else if (json_is_string(v)) {
        copy_text(b, json_string_value(v));
    } else if (json_is_integer(v)) {
        copy_int(b, (int64_t)json_integer_value(v));
    } else if (json_is_true(v) || json_is_false(v)) {
        copy_text(b, json_is_true(v) ? "true" : "false");
    } else {
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
        if (!text)
            b->oom = true;
        copy_text(b, text ? text : "");
        free(text);
    }
}

void copy_fragment(struct copy_buf *b, const char *fragment)
{
    separate(b);
    append(b, fragment, strlen(fragment));
}

void copy_end_row(struct copy_buf *b)
{
    append(b, "\n", 1);
    b->in_row = false;
    b->rows++;
}

void copy_reset(struct copy_buf *b)
{
    b->len = 0;
    b->rows = 0;
    b->in_row = false;
    if (b->data)
        b->data[0] = '\0';
}

struct copy_stream {
    PGconn *db;
    size_t handed;   /* bytes of the buffer handed to libpq */
    size_t next_try; /* buffer length at which to try again while libpq is still sending */
    bool failed;
    char err[512];
};

static void stream_close(struct copy_buf *b)
{
    if (!b->stream)
        return;
    PQfinish(b->stream->db); /* a COPY still running is aborted */
    free(b->stream);
    b->stream = NULL;
}

int copy_stream_start(struct copy_buf *b, const char *conninfo, const char *copy_sql, char *err,
                      size_t errlen)
{
    struct copy_stream *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    b->stream = s;
    s->db = PQconnectdb(conninfo);
    PGresult *r = NULL;
    if (PQstatus(s->db) != CONNECTION_OK) {
        snprintf(err, errlen, "%s", PQerrorMessage(s->db));
    } else {
        r = PQexec(s->db, "set synchronous_commit = off");
        PQclear(r);
        r = PQexec(s->db, copy_sql);
        if (PQresultStatus(r) != PGRES_COPY_IN || PQsetnonblocking(s->db, 1)) {
            snprintf(err, errlen, "%s: %s", copy_sql, PQerrorMessage(s->db));
        } else {
            PQclear(r);
            return 0;
        }
    }
    PQclear(r);
    stream_close(b);
    return -1;
}

/* libpq is handed at most this much at a time, and only once it sent all
 * it had: a partial send moves libpq's remaining bytes to the front of its
 * buffer, so a large backlog there would be moved again and again. */
#define STREAM_CHUNK (1u << 20)
#define STREAM_MIN (1u << 18)

void copy_stream_pump(struct copy_buf *b)
{
    struct copy_stream *s = b->stream;
    if (!s || s->failed || b->oom || b->in_row || b->len - s->handed < STREAM_MIN || b->len < s->next_try)
        return;
    int pending = PQflush(s->db);
    if (pending == 1) {
        s->next_try = b->len + STREAM_MIN; /* PostgreSQL is behind: retry later, not every row */
        return;
    }
    size_t n = b->len - s->handed < STREAM_CHUNK ? b->len - s->handed : STREAM_CHUNK;
    if (pending < 0 || PQputCopyData(s->db, b->data + s->handed, (int)n) != 1 || PQflush(s->db) < 0) {
        snprintf(s->err, sizeof s->err, "streaming rows: %s", PQerrorMessage(s->db));
        s->failed = true;
        return;
    }
    s->handed += n;
    s->next_try = 0;
    if (s->handed == b->len) {
        copy_reset(b);
        s->handed = 0;
    }
}

/* Sends the rest, ends the COPY and reads its result. */
static int stream_finish(struct copy_buf *b, char *err, size_t errlen)
{
    struct copy_stream *s = b->stream;
    int rc = 0;
    if (s->failed || b->oom) {
        snprintf(err, errlen, "%s", b->oom ? "out of memory building rows" : s->err);
        rc = -1;
    } else if (PQsetnonblocking(s->db, 0) || (b->len > s->handed && PQputCopyData(s->db, b->data + s->handed, (int)(b->len - s->handed)) != 1) ||
               PQputCopyEnd(s->db, NULL) != 1) {
        snprintf(err, errlen, "streaming rows: %s", PQerrorMessage(s->db));
        rc = -1;
    }
    PGresult *r;
    while (rc == 0 && (r = PQgetResult(s->db))) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            snprintf(err, errlen, "streaming rows: %s", PQresultErrorMessage(r));
            rc = -1;
        }
        PQclear(r);
    }
    stream_close(b);
    copy_reset(b);
    return rc;
}

void copy_free(struct copy_buf *b)
{
    stream_close(b);
    free(b->data);
    memset(b, 0, sizeof *b);
}

int64_t json_member_int(const json_t *obj, const char *key)
{
    return json_member_nint(obj, key).v;
}

struct nint json_member_nint(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    struct nint out = {0, false};
    if (json_is_integer(v)) {
        out.v = (int64_t)json_integer_value(v);
        out.set = true;
    } else if (json_is_string(v)) {
        out.v = strtoll(json_string_value(v), NULL, 10);
        out.set = true;
    } else if (json_is_real(v)) {
        out.v = (int64_t)json_real_value(v);
        out.set = true;
    }
    return out;
}

int copy_send(PGconn *db, const char *copy_sql, struct copy_buf *b, char *err, size_t errlen)
{
    if (b->stream)
        return stream_finish(b, err, errlen);
    if (b->oom) {
        snprintf(err, errlen, "out of memory building the rows of: %s", copy_sql);
        return -1;
    }
    PGresult *r = PQexec(db, copy_sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        snprintf(err, errlen, "%s: %s", copy_sql, PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    const size_t chunk = 1u << 20;
    int ok = 1;
    for (size_t at = 0; ok == 1 && at < b->len; at += chunk) {
        size_t n = b->len - at < chunk ? b->len - at : chunk;
        ok = PQputCopyData(db, b->data + at, (int)n);
    }
    if (PQputCopyEnd(db, ok == 1 ? NULL : "sending failed") != 1 || ok != 1) {
        snprintf(err, errlen, "%s: %s", copy_sql, PQerrorMessage(db));
        while ((r = PQgetResult(db)))
            PQclear(r);
        return -1;
    }
    int rc = 0;
    while ((r = PQgetResult(db))) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0) {
            snprintf(err, errlen, "%s: %s", copy_sql, PQresultErrorMessage(r));
            rc = -1;
        }
        PQclear(r);
    }
    return rc;
}
