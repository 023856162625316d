/* Helpers shared by the read-model modules (projections/projection.h). */
#include "projections/projection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_log.h"

int projection_prepare(PGconn *db, const char *name, const char *sql)
{
    PGresult *r = PQprepare(db, name, sql, 0, NULL);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        p2p_log(P2P_ERROR, "prepare_failed", "%s: %s", name, PQerrorMessage(db));
    PQclear(r);
    return ok ? 0 : -1;
}

void projection_send(const struct projection_context *c, const char *name,
                     const struct projected_event *e, int nextra, const char *const *extra)
{
    const char *values[4] = {e->json, NULL, NULL, NULL};
    for (int i = 0; i < nextra && i < 3; i++)
        values[i + 1] = extra[i];
    pipeline_send(c->pl, name, 1 + (nextra < 3 ? nextra : 3), values, -1, name);
}

const char *projection_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

void projection_array_add(struct projection_context *c, enum projection_array_kind k, const char *json)
{
    struct projection_array *a = &c->arrays[k];
    size_t n = strlen(json);
    if (a->len + n + 3 > a->cap) {
        size_t cap = (a->cap ? a->cap * 2 : 65536) + n;
        char *grown = realloc(a->text, cap);
        if (!grown) {
            p2p_log(P2P_ERROR, "out_of_memory", "no room for a batch of %d events", a->n);
            c->pl->failed = true;
            return;
        }
        a->text = grown;
        a->cap = cap;
    }
    a->text[a->len++] = a->n ? ',' : '[';
    memcpy(a->text + a->len, json, n);
    a->len += n;
    a->n++;
}

void projection_array_send_with(struct projection_context *c, enum projection_array_kind k, const char *stmt,
                                int nextra, const char *const *extra)
{
    struct projection_array *a = &c->arrays[k];
    if (a->n == 0)
        return;
    a->text[a->len++] = ']';
    a->text[a->len] = '\0';
    const char *values[4] = {a->text, NULL, NULL, NULL};
    for (int i = 0; i < nextra && i < 3; i++)
        values[i + 1] = extra[i];
    pipeline_send(c->pl, stmt, 1 + (nextra < 3 ? nextra : 3), values, -1, stmt);
    a->len = 0;
    a->n = 0;
}

void projection_array_send(struct projection_context *c, enum projection_array_kind k, const char *stmt)
{
    projection_array_send_with(c, k, stmt, 0, NULL);
}

void projection_array_add_tagged(struct projection_context *c, enum projection_array_kind k, const char *tag,
                                 const struct projected_event *e)
{
    size_t n = strlen(e->json) + strlen(tag) + 64;
    char *text = malloc(n);
    if (!text) {
        c->pl->failed = true;
        return;
    }
    snprintf(text, n, "{\"t\":\"%s\",\"p\":%d,\"o\":%lld,\"v\":%s}", tag, (int)e->partition,
             (long long)e->offset, e->json);
    projection_array_add(c, k, text);
    free(text);
}

void projection_flush(struct projection_context *c)
{
    offers_projection_flush(c); /* before fills: they count sold energy of offers known by then */
    orders_projection_flush(c);
    fills_projection_flush(c);
    command_results_projection_flush(c);
    accounts_projection_flush(c);
    participants_projection_flush(c);
}

void projection_context_free(struct projection_context *c)
{
    for (int k = 0; k < ARRAY_KINDS; k++) {
        free(c->arrays[k].text);
        memset(&c->arrays[k], 0, sizeof c->arrays[k]);
    }
}
