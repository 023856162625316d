/* The participants read model: `participants` and `trust_history`, from
 * trust.changed (topic trust) and participant.updated (topic
 * participant-events).
 *
 * Both events describe the whole participant, but they come through two
 * topics in any interleaving, so neither may simply overwrite the other:
 *  - trust is the new score of the latest trust.changed (every change of
 *    trust is one), or the trust of participant.updated before any;
 *  - declared capacity and verified production are those of the latest
 *    participant.updated (only its commands change them), or of trust.changed
 *    before any;
 *  - tier and trade limit follow from both (p2p_trust_tier, p2p_tier_percent;
 *    without production the limit is the engine's default, which every event
 *    of such a participant reports). */
#include <string.h>

#include "projections/projection.h"

/* $1: the batch's events of one topic, in topic order. Only the latest event
 * of each participant counts for the row (each topic is in the engine's
 * order); trust.changed also lands in trust_history, every one. */
#define LATEST_OF_BATCH                                                                            \
    "with e as (select v, ord from jsonb_array_elements($1::jsonb) with ordinality as a(v, ord)),"  \
    " latest as (select distinct on (v->>'participant_id') v from e"                               \
    "  order by v->>'participant_id', ord desc)"

#define PARTICIPANT_VALUES                                                                         \
    " select v->>'participant_id', (v->>'trust')::int, v->>'tier', (v->>'trade_limit_wh')::bigint,"  \
    "  (v->>'capacity_wh_per_month')::bigint, (v->>'verified_wh_per_month')::bigint,"               \
    "  (v->>'occurred_at_ms')::bigint, v->>'event_id', v->>'event_id', (v->>'occurred_at_ms')::bigint" \
    " from latest"

static const char *TRUST_CHANGED =
    LATEST_OF_BATCH ","
    " h as (insert into trust_history (event_id, participant_id, old_score, new_score, delta, reason,"
    "   ref_id, tier, trade_limit_wh, at_ms)"
    "  select v->>'event_id', v->>'participant_id', (v->>'old_score')::int, (v->>'new_score')::int,"
    "   (v->>'delta')::int, v->>'reason', v->>'ref_id', v->>'tier', (v->>'trade_limit_wh')::bigint,"
    "   (v->>'occurred_at_ms')::bigint from e)"
    " insert into participants as p (participant_id, trust, tier, trade_limit_wh, capacity_wh_per_month,"
    "  verified_wh_per_month, updated_at_ms, last_event_id, trust_event_id, trust_at_ms)"
    PARTICIPANT_VALUES
    " on conflict (participant_id) do update set trust = excluded.trust,"
    "  trade_limit_wh = excluded.trade_limit_wh,"
    "  capacity_wh_per_month = case when p.profile_event_id is null"
    "   then excluded.capacity_wh_per_month else p.capacity_wh_per_month end,"
    "  verified_wh_per_month = case when p.profile_event_id is null"
    "   then excluded.verified_wh_per_month else p.verified_wh_per_month end,"
    "  trust_event_id = excluded.trust_event_id, trust_at_ms = excluded.trust_at_ms";

static const char *PARTICIPANT_UPDATED =
    LATEST_OF_BATCH
    " insert into participants as p (participant_id, trust, tier, trade_limit_wh, capacity_wh_per_month,"
    "  verified_wh_per_month, updated_at_ms, last_event_id, profile_event_id, profile_at_ms)"
    PARTICIPANT_VALUES
    " on conflict (participant_id) do update set"
    "  trust = case when p.trust_event_id is null then excluded.trust else p.trust end,"
    "  trade_limit_wh = excluded.trade_limit_wh,"
    "  capacity_wh_per_month = excluded.capacity_wh_per_month,"
    "  verified_wh_per_month = excluded.verified_wh_per_month,"
    "  profile_event_id = excluded.profile_event_id, profile_at_ms = excluded.profile_at_ms";

/* Tier, limit, updated_at_ms and last_event_id of the batch's participants
 * from their merged rows (ties of time go to the trust event). */
#define PRODUCTION                                                                                 \
    "(case when coalesce(verified_wh_per_month, 0) > 0 then verified_wh_per_month"                 \
    " else coalesce(capacity_wh_per_month, 0) end)"
static const char *DERIVE =
    "update participants set tier = p2p_trust_tier(trust),"
    " trade_limit_wh = case when " PRODUCTION " > 0 then " PRODUCTION " * p2p_tier_percent(trust) / 100"
    "  else trade_limit_wh end,"
    " updated_at_ms = greatest(coalesce(trust_at_ms, profile_at_ms), coalesce(profile_at_ms, trust_at_ms)),"
    " last_event_id = case when profile_at_ms is not null and (trust_at_ms is null or profile_at_ms > trust_at_ms)"
    "  then profile_event_id else trust_event_id end"
    " where participant_id in (select x->>'participant_id' from jsonb_array_elements($1::jsonb) x)";

int participants_projection_prepare(PGconn *db)
{
    return projection_prepare(db, "trust_changed", TRUST_CHANGED) ||
           projection_prepare(db, "participant_updated", PARTICIPANT_UPDATED) ||
           projection_prepare(db, "participant_derive", DERIVE);
}

void participants_projection_apply(struct projection_context *c, const struct projected_event *e)
{
    if (strcmp(e->type, "trust.changed.v1") == 0)
        projection_array_add(c, ARRAY_TRUST, e->json);
    else if (strcmp(e->type, "participant.updated.v1") == 0)
        projection_array_add(c, ARRAY_PROFILES, e->json);
}

/* Each stream's rows, then the derived columns of the participants of both. */
void participants_projection_flush(struct projection_context *c)
{
    struct projection_array *trust = &c->arrays[ARRAY_TRUST], *profiles = &c->arrays[ARRAY_PROFILES];
    if (trust->n == 0 && profiles->n == 0)
        return;
    for (int k = ARRAY_TRUST; k <= ARRAY_PROFILES; k++) {
        struct projection_array *a = &c->arrays[k];
        if (a->n == 0)
            continue;
        a->text[a->len] = ']';
        a->text[a->len + 1] = '\0';
        const char *values[1] = {a->text};
        pipeline_send(c->pl, k == ARRAY_TRUST ? "trust_changed" : "participant_updated", 1, values, -1,
                      "participants");
        pipeline_send(c->pl, "participant_derive", 1, values, -1, "participants");
        a->len = 0;
        a->n = 0;
    }
}
