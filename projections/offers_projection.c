#include "projections/offers_projection.h"

#include <stdio.h>
#include <string.h>

#include "common/p2p_log.h"

static const char *INSERT_OFFER =
    "insert into offers (offer_id, market, seller_id, source_type, quantity_wh, remaining_wh,"
    " price_per_kwh, currency, min_order_wh, delivery_start_ms, delivery_end_ms, meter_id,"
    " valid_until_ms, status, listed_at_ms, command_id, event_topic, event_partition, event_offset)"
    " values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,'LISTED',$14,$15,$16,$17,$18)"
    " on conflict (offer_id) do nothing";

static const char *INSERT_REJECTION =
    "insert into offer_rejections (event_id, offer_id, command_id, seller_id, code, field,"
    " message, rejected_at_ms, event_offset) values ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
    " on conflict (event_id) do nothing";

/* Withdrawn and expired offers leave the market; remaining_wh follows the engine. */
static const char *CLOSE_OFFER =
    "update offers set remaining_wh = $2, status = $3 where offer_id = $1";

int offers_projection_prepare(PGconn *db)
{
    PGresult *a = PQprepare(db, "insert_offer", INSERT_OFFER, 18, NULL);
    PGresult *b = PQprepare(db, "insert_rejection", INSERT_REJECTION, 9, NULL);
    PGresult *c = PQprepare(db, "close_offer", CLOSE_OFFER, 3, NULL);
    int ok = PQresultStatus(a) == PGRES_COMMAND_OK && PQresultStatus(b) == PGRES_COMMAND_OK &&
             PQresultStatus(c) == PGRES_COMMAND_OK;
    PQclear(c);
    if (!ok)
        p2p_log(P2P_ERROR, "prepare_failed", "%s", PQerrorMessage(db));
    PQclear(a);
    PQclear(b);
    return ok ? 0 : -1;
}

static int run(PGconn *db, const char *stmt, int n, const char *const *values, const char *what)
{
    PGresult *r = PQexecPrepared(db, stmt, n, values, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        p2p_log(P2P_ERROR, "projection_failed", "%s: %s", stmt, PQerrorMessage(db));
    else if (strcmp(PQcmdTuples(r), "0") == 0)
        /* The engine lists an offer id once and closes only listed offers, so
         * this is an anomaly worth a line in the log, not a reason to stop. */
        p2p_log(P2P_WARN, "no_row_changed", "%s %s changed no row", stmt, what);
    PQclear(r);
    return ok ? 0 : -1;
}

int offers_projection_apply(PGconn *db, const struct offer_event *ev,
                            const struct record_position *at)
{
    char n[9][24];
    const struct offer_terms *t = &ev->terms;
    const struct event_origin *o = &ev->origin;
    if (ev->kind == OFFER_EVENT_LISTED) {
        snprintf(n[0], 24, "%lld", (long long)t->quantity_wh);
        snprintf(n[1], 24, "%lld", (long long)ev->remaining_wh);
        snprintf(n[2], 24, "%lld", (long long)t->price_per_kwh);
        snprintf(n[3], 24, "%lld", (long long)t->min_order_wh);
        snprintf(n[4], 24, "%lld", (long long)t->delivery_start_ms);
        snprintf(n[5], 24, "%lld", (long long)t->delivery_end_ms);
        snprintf(n[6], 24, "%lld", (long long)t->valid_until_ms);
        snprintf(n[7], 24, "%lld", (long long)o->occurred_at_ms);
        snprintf(n[8], 24, "%d", (int)at->partition);
        char off[24];
        snprintf(off, sizeof off, "%lld", (long long)at->offset);
        const char *v[18] = {t->offer_id, o->market, t->seller_id, source_type_name(t->source),
                             n[0], n[1], n[2], t->currency, n[3], n[4], n[5], t->meter_id,
                             t->has_valid_until ? n[6] : NULL, n[7], o->command_id, at->topic,
                             n[8], off};
        return run(db, "insert_offer", 18, v, t->offer_id);
    }
    if (ev->kind == OFFER_EVENT_WITHDRAWN || ev->kind == OFFER_EVENT_EXPIRED) {
        snprintf(n[0], 24, "%lld", (long long)ev->remaining_wh);
        const char *v[3] = {t->offer_id, n[0], ev->kind == OFFER_EVENT_WITHDRAWN ? "WITHDRAWN" : "EXPIRED"};
        return run(db, "close_offer", 3, v, t->offer_id);
    }
    snprintf(n[0], 24, "%lld", (long long)o->occurred_at_ms);
    snprintf(n[1], 24, "%lld", (long long)at->offset);
    const char *v[9] = {o->event_id, t->offer_id, o->command_id, t->seller_id, ev->reason.code,
                        ev->reason.field, ev->reason.message, n[0], n[1]};
    return run(db, "insert_rejection", 9, v, o->event_id);
}
