#!/usr/bin/python3
"""PUT /api/profile through the real stack: a declared production capacity
reaches the engine (participant.updated.v1 with the capacity and the trade
limit it implies: 10 % of 500 kWh = 50 kWh at the default trust of 0.30), so
an offer beyond the default 10 kWh limit is then listed; bad input gets a 4xx
naming the field and puts nothing on Kafka; without a user it is 401."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402


def main():
    with H.Harness() as h:
        h.create_db()
        h.start_engine(TRUST_DEFAULT_LIMIT=None)  # the spec's 10 kWh default
        h.start_projector()
        h.start_gateway(dev_auth=True, P2P_DECISION_WAIT_MS=15000)
        user = {"X-Dev-User": "prosumer-1"}
        participants = h.topic("participants")

        # bad input: each refused with the field named, nothing appended
        bad = [
            ({"production_capacity_wh_per_month": "500"}, "wrong_type"),
            ({"production_capacity_wh_per_month": 1.5}, "wrong_type"),
            ({"production_capacity_wh_per_month": -1}, "invalid_field"),
            ({"production_capacity_wh_per_month": 10 ** 12}, "invalid_field"),
            ({}, "missing_field"),
            ({"production_capacity_wh_per_month": 1, "colour": "green"}, "unknown_field"),
        ]
        for body, code in bad:
            status, doc = h.http("PUT", "/api/profile", body, user)
            check(status == 400 and doc["error"]["code"] == code and doc["error"]["field"],
                  "%r -> %s %r, expected 400 %s" % (body, status, doc, code))
        status, doc = h.http("PUT", "/api/profile", "{not json", user)
        check(status == 400 and doc["error"]["field"] == "body", "malformed -> %s %r" % (status, doc))
        status, doc = h.http("PUT", "/api/profile", {"production_capacity_wh_per_month": 1})
        check(status == 401, "no user -> %s %r" % (status, doc))
        status, doc = h.http("DELETE", "/api/profile", None, user)
        check(status == 405, "DELETE -> %s %r" % (status, doc))
        check(not H.topic_exists(participants) or H.count_records(participants) == 0,
              "bad input reached %s" % participants)

        # a 20 kWh offer is beyond the default 10 kWh monthly limit ...
        w = H.future_window(hours_ahead=6)
        offer = {"source_type": "SOLAR", "quantity_wh": 20000, "price_per_kwh": 600,
                 "delivery_start": w["start"], "delivery_end": w["end"], "meter_id": "MTR-9"}
        # (the gateway answers with the engine's decision)
        status, doc = h.http("POST", "/seller/offers", offer, user)
        check(status == 409 and doc["error"]["code"] == "trade_limit_exceeded",
              "first offer -> %s %r" % (status, doc))

        # ... and within the limit once 500 kWh a month are declared
        status, doc = h.http("PUT", "/api/profile", {"production_capacity_wh_per_month": 500000}, user)
        check(status == 202 and doc["status"] == "PENDING", "profile -> %s %r" % (status, doc))
        events = H.wait_until(
            lambda: [r for r in H.read_all(h.topic("participant-events"), timeout=5)
                     if r.headers.get("ce_type") == "energy.p2p.participant.updated.v1"] or None,
            30, what="participant.updated")
        ev = events[-1]
        H.check_envelope(ev, "participant.updated")
        check(ev.value["participant_id"] == "prosumer-1"
              and ev.value["capacity_wh_per_month"] == 500000
              and ev.value["trade_limit_wh"] == 50000, "participant.updated: %r" % ev.value)
        status, doc = h.http("POST", "/seller/offers", offer, user)
        check(status == 201 and doc["status"] == "LISTED", "second offer -> %s %r" % (status, doc))
    print("ok")


if __name__ == "__main__":
    main()
