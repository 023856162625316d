/* Helpers shared by the read-model modules (projections/projection.h). */
#include "projections/projection.h"

#include <stdio.h>

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
