#!/usr/bin/python3
"""The engine judges raw commands written straight to <prefix>offers (no
gateway in front): one energy.p2p.offer.rejected.v1 with the right
reason.code/field per bad command, offer.listed.v1 for good ones, and it keeps
running after malformed input. The gateway then reports REJECTED offers with
their reason.
"""
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402


def field_names(field):
    """A reason may name a command field by its Kafka name (delivery_end_ms)
    or by the API's name for the same thing (delivery_end)."""
    if field is None:
        return set()
    names = {field}
    if field.endswith("_ms"):
        names.add(field[:-3])
    return names


def main():
    with H.Harness() as h:
        h.create_db()
        h.start_engine()
        h.start_projector()
        h.start_gateway(dev_auth=True)
        offers_topic, events_topic = h.topic("offers"), h.topic("offer-events")
        check(H.wait_until(lambda: H.topic_exists(offers_topic), 30,
                           what="topic %s" % offers_topic), "no topic")

        t = H.now_ms()
        slot = H.next_slot_ms(t)
        past = slot - 5 * H.SLOT_MS
        soon = slot + 1 * H.SLOT_MS   # future but inside gate closure (4 h)
        far = slot + 8 * 24 * H.SLOT_MS   # after the 7 day horizon

        def cmd(**over):
            return H.submit_command(issued_at_ms=t, **over)

        def without(*fields):
            c = cmd()
            for f in fields:
                del c[f]
            return c

        # well-formed JSON commands: expected reason code (None = listed)
        # and field; raw (unreadable) records follow below
        cases = []

        def add(name, value, code=None, field=None, api=True):
            oid = value.get("offer_id") if isinstance(value, dict) else None
            cases.append({"name": name, "value": value, "code": code,
                          "field": field, "fields": field_names(field),
                          "offer_id": oid, "api": api})

        add("valid", cmd(seller_id="alice"))
        add("window in the past",
            cmd(delivery_start_ms=past, delivery_end_ms=past + H.SLOT_MS),
            "gate_closed", "delivery_start_ms")
        add("window inside gate closure",
            cmd(delivery_start_ms=soon, delivery_end_ms=soon + H.SLOT_MS),
            "gate_closed", "delivery_start_ms")
        add("misaligned start",
            cmd(delivery_start_ms=slot + 6 * H.SLOT_MS + 30 * 60000,
                delivery_end_ms=slot + 8 * H.SLOT_MS),
            "window_not_aligned", "delivery_start_ms")
        add("misaligned end",
            cmd(delivery_start_ms=slot + 6 * H.SLOT_MS,
                delivery_end_ms=slot + 7 * H.SLOT_MS + 1),
            "window_not_aligned", "delivery_end_ms")
        add("end before start",
            cmd(delivery_start_ms=slot + 8 * H.SLOT_MS,
                delivery_end_ms=slot + 6 * H.SLOT_MS),
            "window_inverted", "delivery_end_ms")
        add("beyond horizon",
            cmd(delivery_start_ms=far, delivery_end_ms=far + H.SLOT_MS),
            "beyond_horizon", "delivery_start_ms")
        add("missing quantity_wh", without("quantity_wh"),
            "missing_field", "quantity_wh")
        add("missing meter_id", without("meter_id"),
            "missing_field", "meter_id")
        add("missing delivery_end_ms", without("delivery_end_ms"),
            "missing_field", "delivery_end_ms")
        add("string quantity", cmd(quantity_wh="5000"),
            "wrong_type", "quantity_wh")
        add("zero price", cmd(price_per_kwh=0),
            "invalid_field", "price_per_kwh")
        add("unknown source_type", cmd(source_type="COAL"),
            "invalid_field", "source_type")
        add("offer_id with spaces", cmd(offer_id="not a valid id"),
            "invalid_field", "offer_id", api=False)
        add("valid 2", cmd(seller_id="bob", source_type="BATTERY"))

        bad_json = {"name": "malformed JSON", "raw": b'{"command_id": "x", ',
                    "code": "malformed_command", "offer_id": None}
        not_object = {"name": "JSON array", "raw": b'[1, 2, 3]',
                      "code": "malformed_command", "offer_id": None}
        binary = {"name": "binary garbage", "raw": b'\xff\xfe\x00\x01garbage',
                  "code": "malformed_command", "offer_id": None}
        deep = {"name": "deeply nested", "raw": b'{"offer_id":' + b'[' * 10000
                + b']' * 10000 + b'}', "code": "malformed_command",
                "offer_id": None}

        # our inputs are what we claim: good ones match the command schema,
        # bad ones do not
        for c in cases:
            errs = H.schema_errors(H.SUBMIT_TYPE, c["value"])
            if c["code"] is None:
                check(not errs, "test input %r should match the command "
                      "schema: %r" % (c["name"], errs))
            elif c["code"] in ("missing_field", "wrong_type", "invalid_field"):
                check(errs, "the command schema accepts bad input %r"
                      % c["name"])

        prod = H.CommandProducer()
        sent = {}   # (partition, offset) -> case
        order = (cases[:3] + [bad_json] + cases[3:8] + [not_object, binary,
                                                         deep] + cases[8:])
        for c in order:
            if "raw" in c:
                cid = str(uuid.uuid4())
                p, o, cid = prod.produce_sync(offers_topic, c["raw"],
                                              command_id=cid)
            else:
                p, o, cid = prod.produce_sync(offers_topic, c["value"])
            c["command_id"], c["pos"] = cid, (p, o)
            sent[(p, o)] = c

        # engine answers every record, one event each
        def all_answered():
            evs = H.read_all(events_topic) if H.topic_exists(events_topic) \
                else []
            return evs if len(evs) >= len(sent) else None
        events = H.wait_until(all_answered, timeout=60, interval=0.5,
                              what="one event per command on %s"
                              % events_topic)
        check(len(events) == len(sent), "%d events for %d commands: %r"
              % (len(events), len(sent), events))

        def judge(ev):
            v, hd = ev.value, ev.headers
            inp = v["input"] if isinstance(v, dict) else None
            check(isinstance(inp, dict), "event without input: %r" % ev)
            key = (inp.get("partition"), inp.get("offset"))
            check(inp.get("topic") == offers_topic and key in sent,
                  "event input %r points at no command we sent" % inp)
            c = sent.pop(key)
            where = "event for %r" % c["name"]
            H.check_envelope(ev, events_topic + " " + where)
            check(hd["ce_source"] == "urn:p2p:engine:" + h.engine_id,
                  "%s: ce_source %r" % (where, hd["ce_source"]))
            check(hd["ce_id"] == v["event_id"] == "%s/%d/%d/0"
                  % (offers_topic, key[0], key[1]),
                  "%s: ce_id %r / event_id %r" % (where, hd["ce_id"],
                                                   v["event_id"]))
            check(v["command_id"] == c["command_id"]
                  and hd["ce_correlationid"] == c["command_id"],
                  "%s: command_id %r, ce_correlationid %r, command was %r"
                  % (where, v["command_id"], hd["ce_correlationid"],
                     c["command_id"]))
            check(v["market"] == H.MARKET, "%s: market %r" % (where,
                                                               v["market"]))
            if "raw" not in c:
                # the command's issued_at_ms is readable in every non-raw
                # case; for a rejection keep going to see the other checks
                # engine time is monotonic: the command's time, or later if
                # another command (a clock tick) already moved it on
                same_time = (v["occurred_at_ms"] >= t
                             and H.rfc3339_to_ms(hd["ce_time"])
                             == v["occurred_at_ms"])
                msg = ("%s: occurred_at_ms %r / ce_time %r, command issued "
                       "at %d" % (where, v["occurred_at_ms"], hd["ce_time"],
                                  t))
                if c["code"] is None:
                    check(same_time, msg)
                else:
                    h.soft(same_time, msg)
            if c["code"] is None:
                check(hd["ce_type"] == H.LISTED_TYPE,
                      "%s: expected listed, got %s %r" % (where, hd["ce_type"],
                                                          v))
                check(v["offer"]["offer_id"] == c["offer_id"],
                      "%s: offer_id %r" % (where, v["offer"]["offer_id"]))
                return
            check(hd["ce_type"] == H.REJECTED_TYPE,
                  "%s: expected rejected (%s), got %s %r"
                  % (where, c["code"], hd["ce_type"], v))
            r = v["reason"]
            check(r["code"] == c["code"], "%s: reason.code %r, expected %r "
                  "(reason %r)" % (where, r["code"], c["code"], r))
            if c.get("field"):
                check(r["field"] in c["fields"],
                      "%s: reason.field %r, expected %r (reason %r)"
                      % (where, r["field"], c["field"], r))
            if "raw" in c:
                check(v["offer_id"] == "" and v["seller_id"] == "",
                      "%s: unreadable command, yet offer_id %r seller_id %r"
                      % (where, v["offer_id"], v["seller_id"]))
            if c["offer_id"]:
                check(v["offer_id"] == c["offer_id"],
                      "%s: offer_id %r, expected %r" % (where, v["offer_id"],
                                                        c["offer_id"]))
                check(v["seller_id"] == c["value"].get("seller_id"),
                      "%s: seller_id %r" % (where, v["seller_id"]))

        for ev in events:
            try:
                judge(ev)
            except H.TestFailure as e:
                # record and go on, so one finding does not hide the rest
                h.soft(False, str(e))
        check(not sent, "commands without an event: %r"
              % [c["name"] for c in sent.values()])

        # the gateway's view of every decision
        for c in cases:
            if not c["api"]:
                continue
            body = h.wait_offer_decided(c["offer_id"])
            if c["code"] is None:
                check(body.get("status") == "LISTED",
                      "GET /api/offers/%s (%s) -> %r"
                      % (c["offer_id"], c["name"], body))
                continue
            check(body.get("status") == "REJECTED"
                  and body.get("offer_id") == c["offer_id"]
                  and isinstance(body.get("reason"), dict),
                  "GET /api/offers/%s (%s) -> %r"
                  % (c["offer_id"], c["name"], body))
            r = body["reason"]
            check(r.get("code") == c["code"]
                  and r.get("field") in c["fields"]
                  and isinstance(r.get("message"), str) and r["message"],
                  "GET /api/offers/%s (%s): reason %r, expected code %r "
                  "field %r" % (c["offer_id"], c["name"], r, c["code"],
                                c["field"]))
        st, book = h.http("GET", "/api/offers")
        listed = sorted(c["offer_id"] for c in cases if c["code"] is None)
        hidden = {c["offer_id"] for c in cases if not c["api"]}
        check(st == 200 and sorted(o["offer_id"] for o in book["offers"]
                                   if o["offer_id"] not in hidden)
              == listed, "order book %r, expected only %r" % (book, listed))

        # still alive and still deciding after the garbage
        check(h.engine.alive(), "engine died after malformed input")
        late = H.submit_command(seller_id="carol")
        prod.produce_sync(offers_topic, late)
        body = h.wait_offer_decided(late["offer_id"])
        check(body.get("status") == "LISTED",
              "offer sent after the malformed ones -> %r" % body)
        check(h.engine.alive(), "engine died")


if __name__ == "__main__":
    main()
