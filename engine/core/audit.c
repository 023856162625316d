/* Whole-state checks (used by tests, property runs and the engine's own
 * start-up after a snapshot) and snapshots of the state as bytes. Neither is
 * on the command path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/internal.h"

/* The sum of the payments recorded for an order; -1 when its chain is broken
 * (a row out of range, of another order, or more rows than allowed). */
static int64_t payments_of(const struct engine *e, uint32_t order)
{
    const struct order_entry *o = &e->orders[order];
    if (o->npayments > ENGINE_PAYMENTS_PER_ORDER)
        return -1;
    int64_t sum = 0;
    uint32_t p = o->last_payment;
    for (uint16_t k = 0; k < o->npayments; k++, p = e->payments[p].prev_of_order) {
        if (p >= e->npayments || e->payments[p].order != order || e->payments[p].amount < 1)
            return -1;
        sum += e->payments[p].amount;
    }
    return sum;
}

#define FAIL(...)                                  \
    do {                                           \
        snprintf(msg, len, __VA_ARGS__);           \
        free(reserved);                            \
        free(sold);                                \
        free(owed);                                \
        return -1;                                 \
    } while (0)

/* Money, precisely. Accounts: wallets W, escrow E, platform P, receivables R
 * (one per paying platform; negative = owed to us) and external X.
 *  1. Σ W + Σ E + P + Σ R + X = 0               (every entry balances)
 *  2. X = -(deposits - withdrawals + payments)  (running totals kept apart)
 *  so Σ W + Σ E + P = deposits - withdrawals + payments received
 *                     + what the platforms still owe (-Σ R).
 *  3. per payer: R = -Σ owed of the orders it pays for, and an order without
 *     a payer owes and has paid nothing;
 *  4. Σ paid over all orders = payments received; no order has paid < 0.
 *  5. W, E, P >= 0; a participant that pays for no order has R = 0. */
int engine_check_invariants(const struct engine *e, char *msg, size_t len)
{
    int64_t *reserved = calloc(e->noffers + 1, sizeof *reserved);
    int64_t *sold = calloc(e->noffers + 1, sizeof *sold);
    int64_t *owed = calloc(e->nparticipants + 1, sizeof *owed); /* Σ owed per payer */
    if (!reserved || !sold || !owed)
        FAIL("out of memory");
    int64_t total = e->platform_balance + e->external_balance, paid = 0;
    if (e->platform_balance < 0)
        FAIL("platform balance %lld is negative", (long long)e->platform_balance);
    if (e->external_balance != -(e->deposited - e->withdrawn + e->payments_received))
        FAIL("external %lld != -(deposits %lld - withdrawals %lld + payments %lld)",
             (long long)e->external_balance, (long long)e->deposited, (long long)e->withdrawn,
             (long long)e->payments_received);
    for (uint32_t i = 0; i < e->nparticipants; i++) {
        const struct participant *p = &e->participants[i];
        if (p->wallet < 0)
            FAIL("wallet of %s is negative: %lld", p->id, (long long)p->wallet);
        if (p->trust < 0 || p->trust > 10000)
            FAIL("trust of %s out of range: %d", p->id, p->trust);
        total += p->wallet + p->receivable;
    }
    for (uint32_t i = 0; i < e->norders; i++) {
        const struct order_entry *o = &e->orders[i];
        int64_t held = 0;
        for (uint32_t f = o->first_fill; f < o->first_fill + o->nfills; f++) {
            const struct fill_entry *fl = &e->fills[f];
            if (fl->status == FILL_RESERVED)
                reserved[fl->offer] += fl->quantity_wh;
            if (fl->status == FILL_SOLD || fl->status == FILL_SETTLED)
                sold[fl->offer] += fl->quantity_wh;
            if (fl->status == FILL_SOLD)
                held += fl->amount + fl->fee;
            if (fl->status == FILL_RESERVED && o->status != ORDER_RESERVED)
                FAIL("order %s is not reserved but line %u still holds energy", o->id, fl->line);
        }
        if (o->escrow != held)
            FAIL("escrow of %s is %lld, its open lines hold %lld", o->id, (long long)o->escrow,
                 (long long)held);
        total += o->escrow;
        if (o->paid < 0)
            FAIL("order %s has paid %lld", o->id, (long long)o->paid);
        if (o->payer == ID_INDEX_NONE && (o->owed != 0 || o->paid != 0))
            FAIL("order %s has no payer but owes %lld, paid %lld", o->id, (long long)o->owed,
                 (long long)o->paid);
        if (o->payer != ID_INDEX_NONE) {
            if (o->payer >= e->nparticipants)
                FAIL("order %s names payer row %u of %u", o->id, o->payer, e->nparticipants);
            owed[o->payer] += o->owed;
        }
        if (payments_of(e, i) != o->paid)
            FAIL("order %s was paid %lld but its recorded payments add up to %lld", o->id,
                 (long long)o->paid, (long long)payments_of(e, i));
        paid += o->paid;
    }
    for (uint32_t i = 0; i < e->nparticipants; i++)
        if (e->participants[i].receivable != -owed[i])
            FAIL("receivable:%s is %lld but its orders owe %lld", e->participants[i].id,
                 (long long)e->participants[i].receivable, (long long)owed[i]);
    if (paid != e->payments_received)
        FAIL("orders were paid %lld in all, payments received %lld", (long long)paid,
             (long long)e->payments_received);
    if (total != 0)
        FAIL("money does not balance: the sum of all accounts is %lld", (long long)total);
    for (uint32_t i = 0; i < e->noffers; i++) {
        const struct offer_entry *o = &e->offers[i];
        if (o->reserved_wh != reserved[i] || o->sold_wh != sold[i])
            FAIL("offer %s: reserved %lld/%lld, sold %lld/%lld (book/lines)", o->terms.offer_id,
                 (long long)o->reserved_wh, (long long)reserved[i], (long long)o->sold_wh,
                 (long long)sold[i]);
        if (o->closed_wh < 0 || o->sold_wh + o->reserved_wh + o->closed_wh > o->terms.quantity_wh)
            FAIL("offer %s: sold %lld + reserved %lld + closed %lld exceed %lld", o->terms.offer_id,
                 (long long)o->sold_wh, (long long)o->reserved_wh, (long long)o->closed_wh,
                 (long long)o->terms.quantity_wh);
    }
    free(reserved);
    free(sold);
    free(owed);
    return 0;
}

#define SNAPSHOT_MAGIC 0x50325053u /* "P2PS" */
/* 4: receivables (payer orders, payments); 5: applied payments by reference.
 * A snapshot of another version is not loaded: the engine replays the log
 * instead (a version 4 snapshot lacks the references a replay rebuilds). */
#define SNAPSHOT_VERSION 5u

struct snapshot_header {
    uint32_t magic, version;
    uint32_t sizes[6]; /* struct sizes: a layout change invalidates the snapshot */
    struct engine_params params;
    int64_t now_ms, next_close_slot, platform_balance, external_balance, longest_offer_ms;
    int64_t deposited, withdrawn, payments_received;
    uint64_t offer_seq;
    uint32_t nparticipants, noffers, norders, nfills, nslots, res_count, npayments;
};

int engine_snapshot_save(const struct engine *e, engine_write_fn write, void *ctx)
{
    struct snapshot_header h;
    memset(&h, 0, sizeof h);
    h.magic = SNAPSHOT_MAGIC;
    h.version = SNAPSHOT_VERSION;
    h.sizes[0] = sizeof(struct participant);
    h.sizes[1] = sizeof(struct offer_entry);
    h.sizes[2] = sizeof(struct order_entry);
    h.sizes[3] = sizeof(struct fill_entry);
    h.sizes[4] = sizeof(struct snapshot_header);
    h.sizes[5] = sizeof(struct payment_entry);
    h.params = e->p;
    h.now_ms = e->now_ms;
    h.next_close_slot = e->next_close_slot;
    h.platform_balance = e->platform_balance;
    h.external_balance = e->external_balance;
    h.deposited = e->deposited;
    h.withdrawn = e->withdrawn;
    h.payments_received = e->payments_received;
    h.longest_offer_ms = e->longest_offer_ms;
    h.offer_seq = e->offer_seq;
    h.nparticipants = e->nparticipants;
    h.noffers = e->noffers;
    h.norders = e->norders;
    h.nfills = e->nfills;
    h.nslots = e->nslots;
    h.res_count = e->res_count;
    h.npayments = e->npayments;
    if (write(ctx, &h, sizeof h) ||
        write(ctx, e->participants, e->nparticipants * sizeof *e->participants) ||
        write(ctx, e->offers, e->noffers * sizeof *e->offers) ||
        write(ctx, e->orders, e->norders * sizeof *e->orders) ||
        write(ctx, e->fills, e->nfills * sizeof *e->fills) ||
        write(ctx, e->payments, e->npayments * sizeof *e->payments) ||
        write(ctx, e->slot_head, e->nslots * sizeof *e->slot_head) ||
        write(ctx, e->slot_tail, e->nslots * sizeof *e->slot_tail) ||
        write(ctx, e->slot_tag, e->nslots * sizeof *e->slot_tag) ||
        write(ctx, e->slot_longest, e->nslots * sizeof *e->slot_longest))
        return -1;
    for (uint32_t k = 0; k < e->res_count; k++) /* the ring, oldest first */
        if (write(ctx, &e->reservations[(e->res_head + k) % e->cap.orders], sizeof(uint32_t)))
            return -1;
    return 0;
}

int engine_snapshot_load(struct engine *e, engine_read_fn read, void *ctx)
{
    struct snapshot_header h;
    if (read(ctx, &h, sizeof h))
        return -1;
    if (h.magic == SNAPSHOT_MAGIC && h.version == SNAPSHOT_VERSION &&
        memcmp(&h.params, &e->p, sizeof h.params) != 0)
        return -2; /* taken under other rules: replaying with these would diverge */
    if (h.magic != SNAPSHOT_MAGIC || h.version != SNAPSHOT_VERSION ||
        h.sizes[0] != sizeof(struct participant) || h.sizes[1] != sizeof(struct offer_entry) ||
        h.sizes[2] != sizeof(struct order_entry) || h.sizes[3] != sizeof(struct fill_entry) ||
        h.sizes[4] != sizeof(struct snapshot_header) ||
        h.sizes[5] != sizeof(struct payment_entry) || h.nslots != e->nslots ||
        h.nparticipants > e->cap.participants || h.noffers > e->cap.offers ||
        h.norders > e->cap.orders || h.nfills > e->cap.fills || h.res_count > e->cap.orders ||
        h.npayments > e->cap.orders)
        return -1;
    if (read(ctx, e->participants, h.nparticipants * sizeof *e->participants) ||
        read(ctx, e->offers, h.noffers * sizeof *e->offers) ||
        read(ctx, e->orders, h.norders * sizeof *e->orders) ||
        read(ctx, e->fills, h.nfills * sizeof *e->fills) ||
        read(ctx, e->payments, h.npayments * sizeof *e->payments) ||
        read(ctx, e->slot_head, e->nslots * sizeof *e->slot_head) ||
        read(ctx, e->slot_tail, e->nslots * sizeof *e->slot_tail) ||
        read(ctx, e->slot_tag, e->nslots * sizeof *e->slot_tag) ||
        read(ctx, e->slot_longest, e->nslots * sizeof *e->slot_longest) ||
        read(ctx, e->reservations, h.res_count * sizeof *e->reservations))
        return -1;
    e->p = h.params;
    e->now_ms = h.now_ms;
    e->next_close_slot = h.next_close_slot;
    e->platform_balance = h.platform_balance;
    e->external_balance = h.external_balance;
    e->deposited = h.deposited;
    e->withdrawn = h.withdrawn;
    e->payments_received = h.payments_received;
    e->longest_offer_ms = h.longest_offer_ms;
    e->offer_seq = h.offer_seq;
    e->nparticipants = h.nparticipants;
    e->noffers = h.noffers;
    e->norders = h.norders;
    e->nfills = h.nfills;
    e->npayments = h.npayments;
    e->res_head = 0;
    e->res_count = h.res_count;
    for (uint32_t i = 0; i < e->nparticipants; i++)
        id_index_insert(&e->participant_ix, e->participants[i].id, i);
    for (uint32_t i = 0; i < e->noffers; i++)
        id_index_insert(&e->offer_ix, e->offers[i].terms.offer_id, i);
    for (uint32_t i = 0; i < e->norders; i++)
        id_index_insert(&e->order_ix, e->orders[i].id, i);
    return 0;
}
