#include "gateway/rebuild_status_api.h"

#include <stdio.h>
#include <string.h>

#include "gateway/auth.h"
#include "gateway/http.h"
#include "gateway/read_db.h"

#define RUNS_DEFAULT 10
#define RUNS_MAX 100

static json_t *run_json(const PGresult *r, int i)
{
    int64_t events = read_db_int(r, i, 4), total = read_db_int(r, i, 5);
    bool has_total = !PQgetisnull(r, i, 5);
    json_t *o = json_pack("{s:I, s:s, s:I}", "run_id", (json_int_t)read_db_int(r, i, 0), "status",
                          PQgetvalue(r, i, 1), "events", (json_int_t)events);
    if (!o)
        return NULL;
    json_object_set_new(o, "started_at", read_db_time(r, i, 2, true));
    json_object_set_new(o, "finished_at", read_db_time(r, i, 3, true));
    json_object_set_new(o, "total_events", read_db_int_or_null(r, i, 5));
    /* total_events is counted from offsets, which include the transaction
     * markers of the engine's topics: a finished run is complete whatever the
     * ratio says, a running one is at most 99 % */
    json_t *progress = strcmp(PQgetvalue(r, i, 1), "swapped") == 0 ? json_integer(100)
                       : has_total && total > 0
                           ? json_integer(events >= total ? 99 : events * 100 / total)
                           : json_null();
    json_object_set_new(o, "progress_percent", progress);
    json_object_set_new(o, "events_per_sec", read_db_int_or_null(r, i, 6));
    json_object_set_new(o, "message",
                        PQgetisnull(r, i, 7) ? json_null() : json_string(PQgetvalue(r, i, 7)));
    return o;
}

int rebuild_status_api(struct mg_connection *c, void *cbdata)
{
    (void)cbdata;
    int64_t limit;
    int status = read_db_route(c, "/api/operator/rebuild", "GET");
    if (status || (status = auth_require_operator(c)) ||
        (status = read_db_query_int(c, "limit", 1, RUNS_MAX, RUNS_DEFAULT, &limit)))
        return status;
    char limit_text[24];
    snprintf(limit_text, sizeof limit_text, "%lld", (long long)limit);
    const char *params[1] = {limit_text};
    PGresult *r = read_db_query(
        c,
        "select run_id, status, (extract(epoch from started_at) * 1000)::bigint,"
        " (extract(epoch from finished_at) * 1000)::bigint, events, total_events,"
        " round(events_per_sec)::bigint, message"
        " from public.rebuild_runs order by started_at desc, run_id desc limit $1::int",
        1, params);
    if (!r)
        return 503;
    json_t *runs = json_array();
    for (int i = 0; runs && i < PQntuples(r); i++)
        json_array_append_new(runs, run_json(r, i));
    PQclear(r);
    json_t *latest = runs && json_array_size(runs) ? json_incref(json_array_get(runs, 0))
                                                   : json_null();
    return http_reply_json(c, 200,
                           json_pack("{s:o, s:o}", "latest", latest, "runs",
                                     runs ? runs : json_array()));
}
