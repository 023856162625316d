/* Fold of the participants read model (the fast path of
 * participants_projection.c): `participants` and `trust_history`.
 *
 * Each participant keeps the latest trust.changed (topic trust) and the
 * latest participant.updated (topic participant-events), each in its topic's
 * order. The row then follows as the live statements merge the two streams:
 * trust from the latest trust change, else from the profile; declared
 * capacity and verified production from the latest profile, else from the
 * trust change; tier p2p_trust_tier(trust); trade limit production *
 * p2p_tier_percent(trust) / 100 when there is production, else the engine's
 * default the events report; updated_at_ms the later of the two, and
 * last_event_id the profile's only when it is strictly later. The tier
 * tables mirror migration 002 (p2p_trust_tier, p2p_tier_percent). */
#include <string.h>

#include "projections/fold.h"

struct side {
    bool seen;
    int64_t trust, trade_limit_wh, at_ms;
    struct nint capacity, verified;
    const char *event_id;
};

struct fold_participant {
    const char *participant_id;
    struct side trust, profile;
};

/* p2p_trust_tier and p2p_tier_percent of migration 002. */
static const char *trust_tier(int64_t trust)
{
    return trust >= 9500 ? "Platinum"
           : trust >= 8500 ? "Gold"
           : trust >= 7000 ? "Silver"
           : trust >= 5000 ? "Bronze"
           : trust >= 3000 ? "Starter"
                           : "New";
}

static int64_t tier_percent(int64_t trust)
{
    return trust >= 9500 ? 100 : trust >= 8500 ? 80 : trust >= 7000 ? 60 : trust >= 5000 ? 40 : 10;
}

static int trust_history(struct fold *f, const json_t *v)
{
    struct copy_buf *b = &f->trust_rows;
    static const char *const cols[] = {"event_id", "participant_id", "old_score", "new_score", "delta",
                                       "reason",   "ref_id",         "tier",      "trade_limit_wh",
                                       "occurred_at_ms"};
    for (size_t i = 0; i < sizeof cols / sizeof *cols; i++)
        copy_member(b, v, cols[i]);
    copy_end_row(b);
    return b->oom ? -1 : 0;
}

int fold_participants_event(struct fold *f, const struct projected_event *e)
{
    bool is_trust = strcmp(e->type, "trust.changed.v1") == 0;
    if (!is_trust && strcmp(e->type, "participant.updated.v1") != 0)
        return 0;
    const json_t *v = e->value;
    const char *id = json_string_value(json_object_get(v, "participant_id"));
    if (!id)
        id = "";
    struct fold_participant *p = fold_map_get(&f->participants, id);
    if (!p) {
        p = fold_arena_alloc(&f->arena, sizeof *p);
        if (!p || !(p->participant_id = fold_str(f, id)) || fold_map_put(&f->participants, p->participant_id, p))
            return -1;
    }
    struct side *s = is_trust ? &p->trust : &p->profile;
    s->seen = true;
    s->trust = json_member_int(v, "trust");
    s->trade_limit_wh = json_member_int(v, "trade_limit_wh");
    s->at_ms = json_member_int(v, "occurred_at_ms");
    s->capacity = json_member_nint(v, "capacity_wh_per_month");
    s->verified = json_member_nint(v, "verified_wh_per_month");
    s->event_id = fold_member_str(f, v, "event_id");
    return is_trust ? trust_history(f, v) : 0;
}

static int participant_encode(void *value, void *arg)
{
    const struct fold_participant *p = value;
    struct copy_buf *b = arg;
    const struct side *t = p->trust.seen ? &p->trust : NULL, *pr = p->profile.seen ? &p->profile : NULL;
    const struct side *any = t ? t : pr;
    int64_t trust = t ? t->trust : pr->trust;
    struct nint capacity = pr ? pr->capacity : t->capacity, verified = pr ? pr->verified : t->verified;
    int64_t production = verified.set && verified.v > 0 ? verified.v : capacity.set ? capacity.v : 0;
    int64_t limit = production > 0 ? production * tier_percent(trust) / 100 : any->trade_limit_wh;
    bool profile_later = pr && (!t || pr->at_ms > t->at_ms);
    int64_t updated = t && pr ? (t->at_ms > pr->at_ms ? t->at_ms : pr->at_ms) : any->at_ms;
    copy_text(b, p->participant_id);
    copy_int(b, trust);
    copy_text(b, trust_tier(trust));
    copy_int(b, limit);
    copy_nint(b, capacity);
    copy_nint(b, verified);
    copy_int(b, updated);
    copy_text(b, profile_later ? pr->event_id : t->event_id);
    copy_text(b, t ? t->event_id : NULL);
    copy_nint(b, (struct nint){t ? t->at_ms : 0, t != NULL});
    copy_text(b, pr ? pr->event_id : NULL);
    copy_nint(b, (struct nint){pr ? pr->at_ms : 0, pr != NULL});
    copy_end_row(b);
    return b->oom ? -1 : 0;
}

int fold_participants_write(struct fold *f, PGconn *db, const char *schema, char *err, size_t errlen)
{
    struct copy_buf b = {0};
    fold_map_each(&f->participants, participant_encode, &b);
    int rc = fold_copy(db, schema, "participants",
                       "(participant_id, trust, tier, trade_limit_wh, capacity_wh_per_month,"
                       " verified_wh_per_month, updated_at_ms, last_event_id, trust_event_id, trust_at_ms,"
                       " profile_event_id, profile_at_ms)",
                       &b, err, errlen) ||
                     fold_copy(db, schema, "trust_history",
                               "(event_id, participant_id, old_score, new_score, delta, reason, ref_id, tier,"
                               " trade_limit_wh, at_ms)",
                               &f->trust_rows, err, errlen)
                 ? -1
                 : 0;
    copy_free(&b);
    return rc;
}
