#include "gateway/account_api.h"

#include <stdio.h>

#include "common/p2p_config.h"
#include "gateway/auth.h"
#include "gateway/http.h"
#include "gateway/participant_view.h"
#include "gateway/read_db.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 500
#define OFFSET_MAX 1000000

/* Reads limit and offset; returns 0 or the 400 already answered. */
static int read_page(struct mg_connection *c, int64_t *limit, int64_t *offset)
{
    int status = read_db_query_int(c, "limit", 1, PAGE_MAX, PAGE_DEFAULT, limit);
    return status ? status : read_db_query_int(c, "offset", 0, OFFSET_MAX, 0, offset);
}

static json_t *page_json(int64_t limit, int64_t offset, int64_t total, int rows)
{
    json_t *next = offset + rows < total ? json_integer(offset + rows) : json_null();
    return json_pack("{s:I, s:I, s:I, s:o}", "limit", (json_int_t)limit, "offset",
                     (json_int_t)offset, "total", (json_int_t)total, "next_offset", next);
}

static json_t *posting_rows(PGresult *r)
{
    json_t *list = json_array();
    for (int i = 0; list && i < PQntuples(r); i++) {
        json_t *row = json_pack("{s:s, s:s, s:s, s:I, s:s}", "event_id", PQgetvalue(r, i, 0),
                                "reason", PQgetvalue(r, i, 1), "ref_id", PQgetvalue(r, i, 2),
                                "amount", (json_int_t)read_db_int(r, i, 5), "currency",
                                PQgetvalue(r, i, 3));
        if (row)
            json_object_set_new(row, "at", read_db_time(r, i, 4, true));
        json_array_append_new(list, row);
    }
    return list;
}

static int wallet(struct mg_connection *c, const struct p2p_config *cfg)
{
    char user[USER_ID_BUF], account[USER_ID_BUF + 8], limit_text[24], offset_text[24];
    int64_t limit, offset;
    int status = auth_require_user(c, cfg, user);
    if (status || (status = read_page(c, &limit, &offset)))
        return status;
    snprintf(account, sizeof account, "wallet:%s", user);
    snprintf(limit_text, sizeof limit_text, "%lld", (long long)limit);
    snprintf(offset_text, sizeof offset_text, "%lld", (long long)offset);
    const char *sums_params[2] = {account, user};
    /* escrow accounts are escrow:<order_id>; only this buyer's orders count */
    PGresult *sums = read_db_query(
        c,
        "select (select balance from accounts where account = $1),"
        " (select coalesce(sum(a.balance), 0) from orders o"
        "   join accounts a on a.account = 'escrow:' || o.order_id where o.buyer_id = $2),"
        " (select count(*) from journal_postings where account = $1)",
        2, sums_params);
    if (!sums)
        return 503;
    int64_t balance = read_db_int(sums, 0, 0), escrow = read_db_int(sums, 0, 1),
            total = read_db_int(sums, 0, 2);
    PQclear(sums);
    const char *list_params[3] = {account, limit_text, offset_text};
    PGresult *r = read_db_query(c,
                                "select e.event_id, e.reason, e.ref_id, e.currency, e.at_ms, p.amount"
                                " from journal_postings p join journal_entries e using (event_id)"
                                " where p.account = $1"
                                " order by e.at_ms desc, p.event_id desc, p.n desc"
                                " limit $2::int offset $3::int",
                                3, list_params);
    if (!r)
        return 503;
    json_t *doc = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:o}", "participant_id", user, "account",
                            account, "currency", cfg->currency, "balance", (json_int_t)balance,
                            "held_in_escrow", (json_int_t)escrow, "postings", posting_rows(r),
                            "page", page_json(limit, offset, total, PQntuples(r)));
    PQclear(r);
    return http_reply_json(c, 200, doc);
}

static json_t *trust_rows(PGresult *r)
{
    json_t *list = json_array();
    for (int i = 0; list && i < PQntuples(r); i++) {
        json_t *row = json_pack("{s:s, s:i, s:i, s:i, s:s, s:s, s:s, s:I}", "event_id",
                                PQgetvalue(r, i, 0), "old_score", (int)read_db_int(r, i, 1),
                                "new_score", (int)read_db_int(r, i, 2), "delta",
                                (int)read_db_int(r, i, 3), "reason", PQgetvalue(r, i, 4), "ref_id",
                                PQgetvalue(r, i, 5), "tier", PQgetvalue(r, i, 6), "trade_limit_wh",
                                (json_int_t)read_db_int(r, i, 7));
        if (row)
            json_object_set_new(row, "at", read_db_time(r, i, 8, true));
        json_array_append_new(list, row);
    }
    return list;
}

static int trust(struct mg_connection *c, const struct p2p_config *cfg)
{
    char user[USER_ID_BUF], limit_text[24], offset_text[24];
    int64_t limit, offset;
    struct participant_view p;
    int status = auth_require_user(c, cfg, user);
    if (status || (status = read_page(c, &limit, &offset)) ||
        (status = participant_view_load(c, user, &p)))
        return status;
    snprintf(limit_text, sizeof limit_text, "%lld", (long long)limit);
    snprintf(offset_text, sizeof offset_text, "%lld", (long long)offset);
    const char *params[3] = {user, limit_text, offset_text};
    PGresult *r = read_db_query(c, "select count(*) from trust_history where participant_id = $1",
                                1, params);
    if (!r)
        return 503;
    int64_t total = read_db_int(r, 0, 0);
    PQclear(r);
    r = read_db_query(c,
                      "select event_id, old_score, new_score, delta, reason, ref_id, tier,"
                      " trade_limit_wh, at_ms from trust_history where participant_id = $1"
                      " order by at_ms desc, event_id desc limit $2::int offset $3::int",
                      3, params);
    if (!r)
        return 503;
    const char *next = NULL;
    int32_t next_from;
    int32_t progress = participant_tier_progress(p.trust, &next, &next_from);
    json_t *doc = participant_view_json(&p);
    if (doc) {
        json_object_set_new(doc, "participant_id", json_string(user));
        json_object_set_new(doc, "next_tier", next ? json_string(next) : json_null());
        json_object_set_new(doc, "next_tier_from", next ? json_integer(next_from) : json_null());
        json_object_set_new(doc, "progress_percent", json_integer(progress));
        json_object_set_new(doc, "history", trust_rows(r));
        json_object_set_new(doc, "page", page_json(limit, offset, total, PQntuples(r)));
    }
    PQclear(r);
    return http_reply_json(c, 200, doc);
}

int account_api_wallet(struct mg_connection *c, void *cbdata)
{
    int status = read_db_route(c, "/api/wallet", "GET");
    return status ? status : wallet(c, cbdata);
}

int account_api_trust(struct mg_connection *c, void *cbdata)
{
    int status = read_db_route(c, "/api/trust", "GET");
    return status ? status : trust(c, cbdata);
}
