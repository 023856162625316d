#!/usr/bin/python3
"""Offers end to end: gateway -> Kafka -> engine -> Kafka -> projector ->
PostgreSQL -> gateway reads, against the real broker and database.

Checks that valid offers become LISTED everywhere (API, seller view, offers
table), invalid ones never appear, the dev identity header is honoured only
with P2P_DEV_AUTH=1, and every record on both topics carries the CloudEvents
envelope and matches its JSON Schema, with events pointing at their command.
"""
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402


def post_offer(h, seller, body, port=None):
    return h.http("POST", "/seller/offers", body,
                  headers={"X-Dev-User": seller} if seller else {}, port=port)


def expect_error(status, body, want_status, want_code, what):
    check(status == want_status,
          "%s: expected HTTP %d, got %d %r" % (what, want_status, status, body))
    check(isinstance(body, dict) and isinstance(body.get("error"), dict),
          "%s: error body is not {\"error\":{...}}: %r" % (what, body))
    err = body["error"]
    for k in ("code", "message", "field"):
        # 400 and 413 name a field of the request; other errors may not
        ok_null = k == "field" and want_status not in (400, 413)
        check(k in err and (isinstance(err[k], str)
                            or (ok_null and err[k] is None)),
              "%s: error lacks string %r: %r" % (what, k, body))
    check(err["code"] == want_code, "%s: error code %r, expected %r"
          % (what, err["code"], want_code))
    return err


def main():
    with H.Harness() as h:
        h.create_db()
        h.start_engine()
        h.start_projector()
        h.start_gateway(dev_auth=True)
        offers_topic, events_topic = h.topic("offers"), h.topic("offer-events")

        w1 = H.future_window(6, 1)
        w2 = H.future_window(10, 2)
        w3 = H.future_window(30, 24)
        valid = [  # (seller, request body)
            ("alice", {"source_type": "SOLAR", "quantity_wh": 5000,
                       "price_per_kwh": 650, "delivery_start": w1["start"],
                       "delivery_end": w1["end"], "meter_id": "MTR-A1"}),
            ("alice", {"source_type": "BATTERY", "quantity_wh": 800,
                       "price_per_kwh": 700, "delivery_start": w2["start"],
                       "delivery_end": w2["end"], "meter_id": "MTR-A2",
                       "currency": "INR"}),
            ("bob", {"source_type": "GRID", "quantity_wh": 10000000,
                     "price_per_kwh": 100000, "delivery_start": w1["start"],
                     "delivery_end": w1["end"], "meter_id": "M" * 64,
                     "min_order_wh": 10000000}),
            ("bob", {"source_type": "HYBRID", "quantity_wh": 1,
                     "price_per_kwh": 1, "delivery_start": w3["start"],
                     "delivery_end": w3["end"], "meter_id": "MTR-B2",
                     "min_order_wh": 1}),
            ("carol", {"source_type": "RENEWABLE", "quantity_wh": 2500,
                       "price_per_kwh": 555, "delivery_start": w2["start"],
                       "delivery_end": w2["end"], "meter_id": "MTR-C1",
                       "min_order_wh": 2000,
                       "valid_until": H.ms_to_rfc3339(w2["start_ms"]
                                                      - 5 * H.SLOT_MS)}),
        ]
        past = H.next_slot_ms() - 3 * H.SLOT_MS
        invalid = [  # (seller, body, status, code, field)
            ("alice", {"source_type": "SOLAR", "quantity_wh": 0,
                       "price_per_kwh": 650, "delivery_start": w1["start"],
                       "delivery_end": w1["end"], "meter_id": "BAD-1"},
             400, "invalid_field", "quantity_wh"),
            ("bob", {"source_type": "WIND", "quantity_wh": 1000,
                     "price_per_kwh": 650, "delivery_start": w1["start"],
                     "delivery_end": w1["end"], "meter_id": "BAD-2"},
             400, "invalid_field", "source_type"),
            ("carol", {"source_type": "SOLAR", "quantity_wh": 1000,
                       "price_per_kwh": 650,
                       "delivery_start": H.ms_to_rfc3339(past),
                       "delivery_end": H.ms_to_rfc3339(past + H.SLOT_MS),
                       "meter_id": "BAD-3"},
             400, "gate_closed", "delivery_start"),
            ("alice", {"source_type": "SOLAR", "quantity_wh": 1000,
                       "price_per_kwh": 650,
                       "delivery_start": H.ms_to_rfc3339(w1["start_ms"]
                                                         + 15 * 60000),
                       "delivery_end": w1["end"], "meter_id": "BAD-4"},
             400, "window_not_aligned", "delivery_start"),
        ]

        accepted = {}   # offer_id -> (seller, body, response)
        for seller, body in valid:
            st, resp = post_offer(h, seller, body)
            # the gateway waits for the engine's decision (202 PENDING only
            # past P2P_DECISION_WAIT_MS)
            check(st in (201, 202), "POST valid offer %r as %s -> %d %r"
                  % (body, seller, st, resp))
            for k in ("command_id", "offer_id", "status"):
                check(isinstance(resp, dict) and isinstance(resp.get(k), str)
                      and resp[k], "answer lacks %s: %r" % (k, resp))
            check(resp["status"] == ("LISTED" if st == 201 else "PENDING"),
                  "%d status %r" % (st, resp))
            check(resp["offer_id"] not in accepted, "offer_id reused: %r" % resp)
            accepted[resp["offer_id"]] = (seller, body, resp)
        check(len({r["command_id"] for _, _, r in accepted.values()})
              == len(valid), "command ids are not unique")

        for seller, body, st_want, code, field in invalid:
            st, resp = post_offer(h, seller, body)
            err = expect_error(st, resp, st_want, code,
                               "POST invalid offer %r" % body)
            check(err["field"] == field, "POST %r: error field %r, expected %r"
                  % (body, err["field"], field))

        # -- every valid offer gets LISTED, with the terms we sent
        for oid, (seller, body, resp) in accepted.items():
            o = h.wait_offer_decided(oid)
            check(o.get("status") == "LISTED",
                  "offer %s (%r) not LISTED: %r" % (oid, body, o))
            want = {"offer_id": oid, "seller_id": seller, "market": H.MARKET,
                    "source_type": body["source_type"],
                    "quantity_wh": body["quantity_wh"],
                    "remaining_wh": body["quantity_wh"],
                    "price_per_kwh": body["price_per_kwh"], "currency": "INR",
                    "min_order_wh": body.get("min_order_wh",
                                             min(1000, body["quantity_wh"])),
                    "meter_id": body["meter_id"]}
            for k, v in want.items():
                check(o.get(k) == v, "GET /api/offers/%s: %s = %r, expected %r"
                      % (oid, k, o.get(k), v))
            for k in ("delivery_start", "delivery_end"):
                check(H.rfc3339_to_ms(o.get(k)) == H.rfc3339_to_ms(body[k]),
                      "GET /api/offers/%s: %s = %r, sent %r"
                      % (oid, k, o.get(k), body[k]))
            if "valid_until" in body:
                check(o.get("valid_until") is not None and
                      H.rfc3339_to_ms(o["valid_until"])
                      == H.rfc3339_to_ms(body["valid_until"]),
                      "valid_until %r, sent %r" % (o.get("valid_until"),
                                                   body["valid_until"]))
            else:
                check("valid_until" in o and o["valid_until"] is None,
                      "valid_until should be null: %r" % o)
            check(H.RFC3339_Z.match(str(o.get("listed_at"))),
                  "listed_at %r" % o.get("listed_at"))

        # -- the order book
        st, book = h.http("GET", "/api/offers?limit=500")
        check(st == 200 and isinstance(book, dict)
              and isinstance(book.get("offers"), list),
              "GET /api/offers -> %d %r" % (st, book))
        ids = [o.get("offer_id") for o in book["offers"]]
        check(set(ids) == set(accepted), "order book ids %r != accepted %r"
              % (sorted(ids), sorted(accepted)))
        check(all(o.get("status") == "LISTED" for o in book["offers"]),
              "order book holds non-LISTED offers: %r" % book)
        check(not any(str(o.get("meter_id", "")).startswith("BAD-")
                      for o in book["offers"]),
              "an invalid offer reached the order book: %r" % book)
        starts = [H.rfc3339_to_ms(o["delivery_start"]) for o in book["offers"]]
        check(starts == sorted(starts),
              "order book not ordered by delivery start: %r" % starts)
        st, bobs = h.http("GET", "/api/offers?seller_id=bob")
        check(st == 200 and sorted(o["offer_id"] for o in bobs["offers"])
              == sorted(k for k, v in accepted.items() if v[0] == "bob"),
              "GET /api/offers?seller_id=bob -> %d %r" % (st, bobs))
        st, one = h.http("GET", "/api/offers?limit=1")
        check(st == 200 and len(one["offers"]) == 1,
              "limit=1 -> %d %r" % (st, one))
        st, unknown = h.http("GET", "/api/offers/%s" % uuid.uuid4())
        expect_error(st, unknown, 404, "not_found", "GET unknown offer")

        # -- the read model itself
        rows = {r["offer_id"]: r for r in h.query("SELECT * FROM offers")}
        check(set(rows) == set(accepted), "offers table ids %r != accepted %r"
              % (sorted(rows), sorted(accepted)))
        for oid, (seller, body, resp) in accepted.items():
            r = rows[oid]
            check(r["status"] == "LISTED" and r["seller_id"] == seller
                  and r["quantity_wh"] == body["quantity_wh"]
                  and r["remaining_wh"] == body["quantity_wh"]
                  and r["price_per_kwh"] == body["price_per_kwh"]
                  and r["delivery_start_ms"] == H.rfc3339_to_ms(
                      body["delivery_start"])
                  and r["delivery_end_ms"] == H.rfc3339_to_ms(
                      body["delivery_end"])
                  and r["command_id"] == resp["command_id"],
                  "offers row %r does not match request %r" % (r, body))
            h.soft(r["event_topic"] == events_topic,
                   "offers.event_topic is %r, expected the events topic %r"
                   % (r["event_topic"], events_topic))
        check(h.scalar("SELECT count(*) FROM offers WHERE meter_id LIKE "
                       "'BAD-%%'") == 0, "invalid offers reached the table")
        check(h.scalar("SELECT count(*) FROM offer_rejections") == 0,
              "unexpected rejections: %r"
              % h.query("SELECT * FROM offer_rejections"))

        # -- the seller's own view
        for seller in ("alice", "bob", "carol", "dave"):
            st, mine = h.http("GET", "/seller/offers",
                              headers={"X-Dev-User": seller})
            want = sorted(k for k, v in accepted.items() if v[0] == seller)
            check(st == 200 and isinstance(mine, dict)
                  and sorted(o.get("offer_id") for o in mine["offers"]) == want,
                  "GET /seller/offers as %s -> %d %r, expected ids %r"
                  % (seller, st, mine, want))
            check(all(o.get("seller_id") == seller for o in mine["offers"]),
                  "seller %s sees others' offers: %r" % (seller, mine))
        st, body = h.http("GET", "/seller/offers")
        expect_error(st, body, 401, "unauthenticated",
                     "GET /seller/offers without X-Dev-User")
        st, body = post_offer(h, None, valid[0][1])
        expect_error(st, body, 401, "unauthenticated",
                     "POST /seller/offers without X-Dev-User")

        # -- a gateway without P2P_DEV_AUTH ignores the header
        n_before = H.count_records(offers_topic)
        g2 = h.start_gateway(dev_auth=False, log_name="gateway-noauth",
                             primary=False)
        st, body = h.http("GET", "/seller/offers",
                          headers={"X-Dev-User": "alice"}, port=g2.port)
        expect_error(st, body, 401, "unauthenticated",
                     "GET /seller/offers with X-Dev-User, P2P_DEV_AUTH unset")
        st, body = post_offer(h, "alice", valid[0][1], port=g2.port)
        expect_error(st, body, 401, "unauthenticated",
                     "POST /seller/offers with X-Dev-User, P2P_DEV_AUTH unset")
        st, body = h.http("GET", "/api/offers", port=g2.port)
        check(st == 200 and len(body["offers"]) == len(accepted),
              "public order book on the no-auth gateway -> %d %r" % (st, body))
        check(H.count_records(offers_topic) == n_before,
              "a 401 request put a record on %s" % offers_topic)

        # -- the topics: envelope, schemas, correlation
        cmds = H.read_all(offers_topic)
        check(len(cmds) == len(accepted),
              "%s holds %d records, expected %d (one per accepted POST)"
              % (offers_topic, len(cmds), len(accepted)))
        by_offset = {}
        by_cid = {r["command_id"]: oid for oid, (_, _, r) in accepted.items()}
        for rec in cmds:
            H.check_envelope(rec, offers_topic)
            v, hd = rec.value, rec.headers
            check(hd["ce_type"] == H.SUBMIT_TYPE, "command ce_type %r"
                  % hd["ce_type"])
            check(hd["ce_source"] == "urn:p2p:gateway",
                  "command ce_source %r" % hd["ce_source"])
            check(H.UUID_RE.match(hd["ce_id"]), "command ce_id %r is not a "
                  "UUID" % hd["ce_id"])
            check(hd["ce_id"] == v["command_id"] == hd["ce_correlationid"],
                  "command ids disagree: ce_id %r, command_id %r, "
                  "ce_correlationid %r" % (hd["ce_id"], v["command_id"],
                                           hd["ce_correlationid"]))
            check(v["command_id"] in by_cid, "unknown command on topic: %r" % v)
            oid = by_cid[v["command_id"]]
            seller, body, _ = accepted[oid]
            check(v["offer_id"] == oid and v["seller_id"] == seller
                  and v["market"] == H.MARKET
                  and v["quantity_wh"] == body["quantity_wh"]
                  and v["delivery_start_ms"] == H.rfc3339_to_ms(
                      body["delivery_start"]),
                  "command %r does not match request %r" % (v, body))
            check(abs(v["issued_at_ms"] - H.now_ms()) < 10 * 60 * 1000,
                  "issued_at_ms %r is not the gateway's clock"
                  % v["issued_at_ms"])
            by_offset[(rec.partition, rec.offset)] = rec

        events = H.read_all(events_topic)
        check(len(events) == len(cmds), "%s holds %d events for %d commands"
              % (events_topic, len(events), len(cmds)))
        seen_inputs = set()
        for ev in events:
            H.check_envelope(ev, events_topic)
            v, hd = ev.value, ev.headers
            check(hd["ce_type"] == H.LISTED_TYPE, "event ce_type %r (%r)"
                  % (hd["ce_type"], v))
            check(hd["ce_source"] == "urn:p2p:engine:" + h.engine_id,
                  "event ce_source %r" % hd["ce_source"])
            check(hd["ce_id"] == v["event_id"], "ce_id %r != event_id %r"
                  % (hd["ce_id"], v["event_id"]))
            check(hd["ce_correlationid"] == v["command_id"],
                  "ce_correlationid %r != command_id %r"
                  % (hd["ce_correlationid"], v["command_id"]))
            inp = v["input"]
            key = (inp["partition"], inp["offset"])
            check(inp["topic"] == offers_topic and key in by_offset,
                  "event input %r does not point at a command" % inp)
            check(key not in seen_inputs, "two events for input %r" % inp)
            seen_inputs.add(key)
            cmd = by_offset[key].value
            check(v["event_id"] == "%s/%d/%d/0" % (inp["topic"],
                                                    inp["partition"],
                                                    inp["offset"]),
                  "event_id %r not {topic}/{partition}/{offset}/{n}"
                  % v["event_id"])
            check(v["command_id"] == cmd["command_id"],
                  "event command_id %r, command at input has %r"
                  % (v["command_id"], cmd["command_id"]))
            # engine time is monotonic: the command's time, or later when a
            # clock tick already moved it on
            check(v["occurred_at_ms"] >= cmd["issued_at_ms"],
                  "occurred_at_ms %r before issued_at_ms %r"
                  % (v["occurred_at_ms"], cmd["issued_at_ms"]))
            check(H.rfc3339_to_ms(hd["ce_time"]) == v["occurred_at_ms"],
                  "event ce_time %r is not occurred_at_ms %r"
                  % (hd["ce_time"], v["occurred_at_ms"]))
            check(v["market"] == H.MARKET, "market %r" % v["market"])
            o = v["offer"]
            for k in ("offer_id", "seller_id", "source_type", "quantity_wh",
                      "price_per_kwh", "currency", "min_order_wh",
                      "delivery_start_ms", "delivery_end_ms", "meter_id",
                      "valid_until_ms"):
                check(o[k] == cmd[k], "listed %s = %r, command had %r"
                      % (k, o[k], cmd[k]))
            check(o["remaining_wh"] == o["quantity_wh"],
                  "remaining_wh %r != quantity_wh" % o["remaining_wh"])
            row = rows[o["offer_id"]]
            h.soft(row["event_offset"] == ev.offset
                   and row["event_partition"] == ev.partition,
                   "offers row points at %r/%r, event is at %d/%d"
                   % (row["event_partition"], row["event_offset"],
                      ev.partition, ev.offset))
        check(h.engine.alive() and h.projector.alive() and h.gateway.alive(),
              "a process died")


if __name__ == "__main__":
    main()
