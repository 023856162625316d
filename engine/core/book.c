/* The offer book: listing (with the seller's monthly trade limit), withdrawal
 * of the unsold remainder, and the slot buckets matching scans. Energy of an
 * offer is always quantity = open + reserved + sold + closed. */
#include <stdio.h>
#include <string.h>

#include "common/p2p_json.h"
#include "engine/core/internal.h"

int64_t slot_of(const struct engine *e, int64_t ms)
{
    return ms >= 0 ? ms / e->p.market.slot_ms : -((-ms + e->p.market.slot_ms - 1) / e->p.market.slot_ms);
}

void book_insert(struct engine *e, uint32_t i)
{
    int64_t slot = slot_of(e, e->offers[i].terms.delivery_start_ms);
    uint32_t b = (uint32_t)(slot & (e->nslots - 1));
    e->offers[i].next_in_slot = ID_INDEX_NONE;
    e->offers[i].prev_in_slot = ID_INDEX_NONE;
    if (e->slot_tag[b] != slot) { /* the bucket's previous slot has closed and emptied */
        e->slot_tag[b] = slot;
        e->slot_head[b] = ID_INDEX_NONE;
        e->slot_longest[b] = 0;
    }
    int64_t len = e->offers[i].terms.delivery_end_ms - e->offers[i].terms.delivery_start_ms;
    if (len > e->slot_longest[b])
        e->slot_longest[b] = len;
    if (e->slot_head[b] == ID_INDEX_NONE) {
        e->slot_head[b] = i;
    } else {
        e->offers[e->slot_tail[b]].next_in_slot = i;
        e->offers[i].prev_in_slot = e->slot_tail[b];
    }
    e->slot_tail[b] = i;
}

/* Takes a closed offer out of its slot's list, so matching no longer walks it. */
static void book_unlink(struct engine *e, uint32_t i)
{
    struct offer_entry *o = &e->offers[i];
    uint32_t b = (uint32_t)(slot_of(e, o->terms.delivery_start_ms) & (e->nslots - 1));
    if (o->prev_in_slot != ID_INDEX_NONE)
        e->offers[o->prev_in_slot].next_in_slot = o->next_in_slot;
    else
        e->slot_head[b] = o->next_in_slot;
    if (o->next_in_slot != ID_INDEX_NONE)
        e->offers[o->next_in_slot].prev_in_slot = o->prev_in_slot;
    else
        e->slot_tail[b] = o->prev_in_slot;
    o->next_in_slot = o->prev_in_slot = ID_INDEX_NONE;
}

void book_release(struct engine *e, struct event_sink *out, uint32_t i, int64_t wh, bool from_sold)
{
    struct offer_entry *o = &e->offers[i];
    if (from_sold)
        o->sold_wh -= wh;
    else
        o->reserved_wh -= wh;
    bool reopen = o->status == OFFER_OPEN &&
                  o->terms.delivery_start_ms - e->now_ms >= e->p.market.gate_closure_ms;
    if (reopen)
        return; /* back in the open remainder */
    o->closed_wh += wh;
    *commitment(&e->participants[o->seller], month_of(o->terms.delivery_start_ms)) -= wh;
    struct event *ev = emit(out, o->status == OFFER_WITHDRAWN ? EV_OFFER_WITHDRAWN : EV_OFFER_EXPIRED);
    if (ev) {
        ev->u.offer_closed.offer = i;
        ev->u.offer_closed.wh = wh;
    }
}

void offer_submit(struct engine *e, const struct command *c, struct event_sink *out)
{
    const struct offer_terms *t = &c->u.offer;
    struct p2p_violation why;
    memset(&why, 0, sizeof why);
    if (offer_terms_check(&e->p.market, t, e->now_ms, &why) == 0 &&
        id_index_find(&e->offer_ix, t->offer_id) != ID_INDEX_NONE)
        p2p_violate(&why, "duplicate_id", "offer_id", "offer %s exists already", t->offer_id);
    else if (why.code[0] == '\0' && e->noffers >= e->cap.offers)
        p2p_violate(&why, "capacity", "offer_id", "the market cannot take more offers now");
    /* A refused offer changes nothing: a new seller is only created once listed. */
    uint32_t seller = engine_find_participant(e, t->seller_id);
    if (why.code[0] == '\0' && !p2p_id_valid(t->seller_id, ENGINE_ID_LEN - 1))
        p2p_violate(&why, "invalid_field", "seller_id",
                    "seller_id must be 1 to 64 letters, digits or . _ : @ -");
    else if (why.code[0] == '\0' && seller == ID_INDEX_NONE && e->nparticipants >= e->cap.participants)
        p2p_violate(&why, "capacity", "seller_id", "no room for another participant");
    if (why.code[0] == '\0') {
        int64_t limit = seller != ID_INDEX_NONE ? engine_trade_limit_wh(e, seller) : e->p.default_limit_wh;
        int32_t month = month_of(t->delivery_start_ms);
        int64_t committed = seller != ID_INDEX_NONE ? commitment_of(&e->participants[seller], month) : 0;
        if (committed + t->quantity_wh > limit)
            p2p_violate(&why, "trade_limit_exceeded", "quantity_wh",
                        "this offer of %lld Wh would bring %04d-%02d to %lld Wh; the trade limit "
                        "is %lld Wh (%lld Wh committed)",
                        (long long)t->quantity_wh, month / 12, month % 12 + 1,
                        (long long)(committed + t->quantity_wh), (long long)limit,
                        (long long)committed);
    }
    if (why.code[0] != '\0') {
        reject(out, EV_OFFER_REJECTED, t->offer_id, t->seller_id, &why);
        return;
    }
    seller = participant_get(e, t->seller_id);
    uint32_t i = e->noffers++;
    struct offer_entry *o = &e->offers[i];
    memset(o, 0, sizeof *o);
    o->terms = *t;
    o->seller = seller;
    o->status = OFFER_OPEN;
    o->seq = ++e->offer_seq;
    id_index_insert(&e->offer_ix, o->terms.offer_id, i);
    if (t->delivery_end_ms - t->delivery_start_ms > e->longest_offer_ms)
        e->longest_offer_ms = t->delivery_end_ms - t->delivery_start_ms;
    *commitment(&e->participants[seller], month_of(t->delivery_start_ms)) += t->quantity_wh;
    book_insert(e, i);
    emit(out, EV_OFFER_LISTED)->u.offer.offer = i;
}

void offer_withdraw(struct engine *e, const struct command *c, struct event_sink *out)
{
    struct p2p_violation why;
    uint32_t i = id_index_find(&e->offer_ix, c->u.target.id);
    if (i == ID_INDEX_NONE || strcmp(e->offers[i].terms.seller_id, c->u.target.actor_id) != 0) {
        p2p_violate(&why, "not_found", "offer_id", "you have no offer %s", c->u.target.id);
        reject(out, EV_COMMAND_REJECTED, c->u.target.id, c->u.target.actor_id, &why);
        return;
    }
    struct offer_entry *o = &e->offers[i];
    if (o->status != OFFER_OPEN) {
        p2p_violate(&why, "not_open", "offer_id", "offer %s is already %s", c->u.target.id,
                    o->status == OFFER_WITHDRAWN ? "withdrawn" : "expired");
        reject(out, EV_COMMAND_REJECTED, c->u.target.id, c->u.target.actor_id, &why);
        return;
    }
    int64_t open = engine_offer_open_wh(o);
    o->closed_wh += open;
    o->status = OFFER_WITHDRAWN;
    book_unlink(e, i);
    *commitment(&e->participants[o->seller], month_of(o->terms.delivery_start_ms)) -= open;
    struct event *ev = emit(out, EV_OFFER_WITHDRAWN);
    ev->u.offer_closed.offer = i;
    ev->u.offer_closed.wh = open;
}
