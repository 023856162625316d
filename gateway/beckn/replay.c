/* replay.c - the message_id replay store (replay.h). */
#include "gateway/beckn/replay.h"

#include <stdio.h>
#include <stdlib.h>

enum beckn_replay_result beckn_replay_record(PGconn *db, const char *sender,
                                             const char *message_id, const char *action,
                                             const char *transaction_id, int64_t now_ms,
                                             int64_t expires_at_ms, char *err, size_t errlen)
{
    char now[24], exp[24];
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    snprintf(exp, sizeof exp, "%lld", (long long)expires_at_ms);
    const char *params[6] = {sender, message_id, action, transaction_id, now, exp};
    /* A row that exists and has not expired makes the update's WHERE false:
     * no row comes back, which is how a replay shows. */
    PGresult *r = PQexecParams(
        db,
        "insert into beckn_inbound_messages (sender, message_id, action, transaction_id,"
        " received_at_ms, expires_at_ms) values ($1, $2, $3, $4, $5::bigint, $6::bigint)"
        " on conflict (sender, message_id) do update set action = excluded.action,"
        " transaction_id = excluded.transaction_id, received_at_ms = excluded.received_at_ms,"
        " expires_at_ms = excluded.expires_at_ms"
        " where beckn_inbound_messages.expires_at_ms < excluded.received_at_ms"
        " returning 1",
        6, NULL, params, NULL, NULL, 0);
    enum beckn_replay_result out;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s", PQerrorMessage(db));
        out = BECKN_REPLAY_ERROR;
    } else {
        out = PQntuples(r) == 1 ? BECKN_REPLAY_NEW : BECKN_REPLAY_SEEN;
    }
    PQclear(r);
    return out;
}

long beckn_replay_purge(PGconn *db, int64_t now_ms)
{
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    const char *params[1] = {now};
    PGresult *r = PQexecParams(db, "delete from beckn_inbound_messages where expires_at_ms < $1::bigint",
                               1, NULL, params, NULL, NULL, 0);
    long n = PQresultStatus(r) == PGRES_COMMAND_OK ? atol(PQcmdTuples(r)) : -1;
    PQclear(r);
    return n;
}

int beckn_replay_forget(PGconn *db, const char *sender, const char *message_id)
{
    const char *params[2] = {sender, message_id};
    PGresult *r = PQexecParams(db,
                               "delete from beckn_inbound_messages where sender = $1"
                               " and message_id = $2",
                               2, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? 0 : -1;
}
