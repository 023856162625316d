/* Rows in PostgreSQL's COPY text format, built in memory and sent with
 * COPY ... FROM STDIN (PQputCopyData): fields separated by tabs, rows ended
 * by newlines, NULL as \N, backslash, tab, newline and carriage return
 * escaped. A buffer that ran out of memory remembers it (oom) and sending it
 * fails, so callers check once at the end. The buffer is always
 * NUL-terminated, so a row part can be kept as a string (a "fragment") and
 * appended later with copy_fragment. */
#ifndef P2P_COPY_WRITER_H
#define P2P_COPY_WRITER_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct copy_stream;

struct copy_buf {
    struct copy_stream *stream; /* set: the rows stream to a COPY running meanwhile */
    char *data;
    size_t len, cap;
    size_t rows;
    bool oom;
    bool in_row; /* a field was written since the last row end */
};

/* An integer that may be NULL. */
struct nint {
    int64_t v;
    bool set;
};

void copy_text(struct copy_buf *b, const char *s);          /* NULL -> \N */
void copy_int(struct copy_buf *b, int64_t v);
void copy_nint(struct copy_buf *b, struct nint v);
void copy_null(struct copy_buf *b);
/* Field `key` of obj as PostgreSQL's obj->>'key' renders it (\N when absent
 * or JSON null). */
void copy_member(struct copy_buf *b, const json_t *obj, const char *key);
/* Appends fields already encoded (tab-separated) as the next fields. */
void copy_fragment(struct copy_buf *b, const char *fragment);
void copy_end_row(struct copy_buf *b);
void copy_reset(struct copy_buf *b);
void copy_free(struct copy_buf *b);

/* obj->>'key' as an integer (0 when absent: callers use it for NOT NULL
 * columns the engine always fills). */
int64_t json_member_int(const json_t *obj, const char *key);
/* The same, NULL when absent or JSON null. */
struct nint json_member_nint(const json_t *obj, const char *key);

/* Runs `copy_sql` (a COPY ... FROM STDIN) and sends the buffer's rows.
 * Returns 0, or -1 with err. A streaming buffer (copy_stream_start) instead
 * sends its last rows and ends its own COPY (db and copy_sql unused). */
int copy_send(PGconn *db, const char *copy_sql, struct copy_buf *b, char *err, size_t errlen);

/* Starts `copy_sql` on a connection of its own and makes b stream to it:
 * copy_stream_pump hands the rows built so far to libpq without waiting
 * (PostgreSQL loads them while the caller goes on), copy_send ends it.
 * Returns 0 or -1 with err (b is then a plain buffer). */
int copy_stream_start(struct copy_buf *b, const char *conninfo, const char *copy_sql, char *err,
                      size_t errlen);
/* Between rows: sends what is buffered once it is worth a write. Failures
 * are kept and reported by copy_send. */
void copy_stream_pump(struct copy_buf *b);

#endif
