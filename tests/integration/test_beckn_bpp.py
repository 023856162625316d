#!/usr/bin/python3
"""Our BPP's synchronous answers (real gateway, real PostgreSQL and Kafka).

Accepted: the DEG wave-1 example payloads of beckn.md §7 (select, init,
confirm, status, cancel; URLs substituted, our ids as bpp, the peer's as bap,
current timestamps, the accepted offers renamed to two of ours), each ACKed in
the beckn-onix v1.3 shape and answered without error; the same select of the
offers as the examples name them (we do not have those) comes back as an
on_select error (30006).

Callback delivery gives up on a NACK at once and after
BECKN_CALLBACK_MAX_ATTEMPTS failures (the outbox row says FAILED and why).

Refused, each with its HTTP status and Beckn code (and nothing appended to
Kafka): a tampered body (one byte), an expired and a future signature, an
unknown key, a signer other than bap_id, a bap_uri off the signer's
registered URL, a missing Authorization header (401
with WWW-Authenticate), the wrong domain, the wrong version, action != path,
bpp_id not us, a replayed message_id, an expired ttl, an unknown key in an
energy pack that forbids them (EnergyCustomer, EnergyOrderItem), a bad enum,
a non-UTC pack time, total_quantity != sum of lines, malformed JSON, an
oversized body; track (40005), rating (40001), support when not configured
(50004), a non-payment update (50002), a payment without a usable reference
(30000 on beckn:txnRef / beckn:id), status of an unknown order (30008),
an unknown /beckn/ path (404), and a gateway without Beckn settings (503).
"""
import copy
import json
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402
import beckn_peer as B  # noqa: E402

DEG = "https://raw.githubusercontent.com/beckn/protocol-specifications-new/refs/heads/"


def deg_select_order(bap, bpp):
    """beckn.md §7.3 select message.order, verbatim apart from the URLs and
    the subscriber ids."""
    offer_attrs = {
        "@context": B.pack("EnergyTradeOffer/v0.2"), "@type": "EnergyTradeOffer",
        "pricingModel": "PER_KWH", "settlementType": "DAILY",
        "sourceMeterId": "der://meter/100200300",
        "minimumQuantity": 1.0, "maximumQuantity": 100.0,
        "validityWindow": {"@type": "beckn:TimePeriod", "schema:startTime": "2026-01-09T00:00:00Z",
                           "schema:endTime": "2026-01-09T05:00:00Z"},
        "beckn:price": {"value": 0.15, "currency": "USD", "unitText": "kWh"},
        "beckn:maxQuantity": {"unitQuantity": 20.0, "unitText": "kWh", "unitCode": "KWH"},
        "beckn:timeWindow": {"@type": "beckn:TimePeriod", "schema:startTime": "2026-01-09T06:00:00Z",
                             "schema:endTime": "2026-01-09T12:00:00Z"}}
    item_attrs = {"@context": B.pack("EnergyOrderItem/v0.1"), "@type": "EnergyOrderItem",
                  "providerAttributes": {
                      "@context": B.pack("EnergyCustomer/v0.1"), "@type": "EnergyCustomer",
                      "meterId": "der://meter/98765456", "utilityCustomerId": "UTIL-CUST-123456",
                      "utilityId": "TPDDL-DL"}}

    def line(offer_id, name, qty, price, start, end):
        attrs = copy.deepcopy(offer_attrs)
        attrs["beckn:price"]["value"] = price
        attrs["beckn:timeWindow"]["schema:startTime"] = start
        attrs["beckn:timeWindow"]["schema:endTime"] = end
        return {"beckn:orderedItem": "energy-resource-solar-001",
                "beckn:orderItemAttributes": copy.deepcopy(item_attrs),
                "beckn:quantity": {"unitQuantity": qty, "unitText": "kWh"},
                "beckn:acceptedOffer": {
                    "beckn:id": offer_id, "@context": B.CORE, "@type": "beckn:Offer",
                    "beckn:descriptor": {"@type": "beckn:Descriptor", "schema:name": name},
                    "beckn:provider": "provider-solar-farm-001",
                    "beckn:items": ["energy-resource-solar-001"],
                    "beckn:offerAttributes": attrs}}
    return {"@context": B.CORE, "@type": "beckn:Order", "beckn:orderStatus": "CREATED",
            "beckn:seller": "provider-solar-farm-001",
            "beckn:buyer": {"beckn:id": "buyer-001", "@context": B.CORE, "@type": "beckn:Buyer"},
            "beckn:orderAttributes": {
                "@context": B.pack("EnergyTradeOrder/v0.2"),
                "@type": "EnergyTradeOrderInterUtility",
                "bap_id": bap.subscriber_id, "bpp_id": bpp.subscriber_id,
                "total_quantity": 25.0, "utilityIdBuyer": "BESCOM-KA",
                "utilityIdSeller": "TPDDL-DL"},
            "beckn:orderItems": [
                line("offer-morning-001", "Morning Solar Energy Offer", 15.0, 0.15,
                     "2026-01-09T06:00:00Z", "2026-01-09T12:00:00Z"),
                line("offer-afternoon-001", "Afternoon Solar Energy Offer", 10.0, 0.18,
                     "2026-01-09T12:00:00Z", "2026-01-09T18:00:00Z")]}


def deg_init_order(bap, bpp):
    """§7.4: the select order plus fulfillment and payment (USD 4.05)."""
    o = deg_select_order(bap, bpp)
    o["beckn:fulfillment"] = {"@context": B.CORE, "@type": "beckn:Fulfillment",
                              "beckn:id": "fulfillment-energy-001", "beckn:mode": "DELIVERY"}
    o["beckn:payment"] = {
        "@context": B.CORE, "@type": "beckn:Payment", "beckn:id": "payment-p2p-energy-001",
        "beckn:amount": {"currency": "USD", "value": 4.05}, "beckn:beneficiary": "BPP",
        "beckn:paymentStatus": "INITIATED",
        "beckn:paymentAttributes": {
            "@context": B.PAY, "@type": "PaymentSettlement",
            "settlementAccounts": [{
                "beneficiaryId": bap.subscriber_id,
                "accountHolderName": "Energy Consumer BAP Pvt Ltd",
                "accountNumber": "1234567890", "ifscCode": "HDFC0001234",
                "bankName": "HDFC Bank", "vpa": "energy-consumer@upi"}]}}
    return o


def create_offer(h, seller, price, wh, window):
    st, body = h.http("POST", "/seller/offers",
                      {"source_type": "SOLAR", "quantity_wh": wh, "price_per_kwh": price,
                       "delivery_start": window["start"], "delivery_end": window["end"],
                       "meter_id": "MTR-" + seller},
                      headers={"X-Dev-User": seller})
    # 201: the gateway waited for the engine's decision; 202: still pending
    check(st in (201, 202), "offer not accepted: %d %r" % (st, body))
    decided = body if st == 201 else h.wait_offer_decided(body["offer_id"])
    check(decided["status"] == "LISTED", "offer not listed: %r" % decided)
    return body["offer_id"]


def with_our_offers(order, ids):
    """The DEG order with its two accepted offers renamed to ours."""
    for item, oid in zip(order["beckn:orderItems"], ids):
        item["beckn:acceptedOffer"]["beckn:id"] = oid
    return order


def deg_flow(h, bap, our, ack):
    """The DEG examples of §7.3-§7.9, with our offer ids, go all the way:
    select, init, confirm, status, cancel, each ACKed and answered without
    an error."""
    w = H.future_window(6, 1)
    ids = [create_offer(h, "alice", 650, 20000, w), create_offer(h, "carol", 700, 15000, w)]
    txn = "txn-energy-" + uuid.uuid4().hex
    steps = [("select", {"order": with_our_offers(deg_select_order(bap, our), ids)}),
             ("init", {"order": with_our_offers(deg_init_order(bap, our), ids)})]
    order_id = None
    for action, message in steps + [("confirm", None), ("status", None), ("cancel", None)]:
        if action == "confirm":
            message = {"order": last}   # §7.6: confirm carries the on_init order
        elif message is None:
            message = {"order": {"beckn:id": order_id}}   # §7.7, §7.9
        ctx = B.context(action, bap, our, transaction_id=txn)
        ack("DEG " + action, bap.send(h.port, action, {"context": ctx, "message": message}))
        cb = bap.wait_callback("on_" + action, txn)
        check("error" not in cb.body, "DEG %s answered with an error: %r" % (action, cb.body))
        last = cb.body["message"]["order"]
        order_id = last.get("beckn:id", order_id)
    check(last["beckn:orderStatus"] == "CANCELLED", "DEG cancel: %r" % last)


def main():
    with H.Harness() as h:
        h.create_db()
        h.start_engine()
        h.start_projector()
        bap = B.BecknPeer("bap.energy-consumer.test").start()
        other = B.BecknPeer("bap.someone-else.test")
        stranger = B.Identity("bap.energy-consumer.test")  # same id, unregistered key
        our = B.OurNode("bpp.energy-provider.test")
        bap.trust(our)
        try:
            reg = B.write_registry_file(h, [bap, other], our)
            B.start_beckn_gateway(h, our, reg)
            B.start_beckn_worker(h, our, reg, BECKN_CALLBACK_MAX_ATTEMPTS=3)
            orders_topic = h.topic("orders")

            def commands():
                return H.count_records(orders_topic) or 0

            def msg(action, message, **ctx_over):
                c = B.context(action, bap, our)
                c.update(ctx_over)
                return {"context": c, "message": message}

            def send(action, body, **kw):
                return bap.send(h.port, action, body, **kw)

            def expect(what, result, status, code, paths=None):
                st, body, raw, headers = result
                check(st == status, "%s: HTTP %d (expected %d) %r" % (what, st, status, raw[:400]))
                check(isinstance(body, dict) and body.get("message", {}).get("ack") ==
                      {"status": "NACK"}, "%s: not a NACK: %r" % (what, raw[:400]))
                err = body["message"]["error"]
                check(err["code"] == code, "%s: code %r (expected %r): %r"
                      % (what, err["code"], code, err))
                if paths is not None:
                    check(err["paths"].startswith(paths), "%s: paths %r (expected %r)"
                          % (what, err["paths"], paths))
                check(isinstance(err["message"], str) and err["message"],
                      "%s: no message" % what)
                H.log("refused as expected: %s -> %d %s %s" % (what, st, code, err["paths"]))
                return headers

            def ack(what, result):
                st, body, raw, _ = result
                check(st == 200 and body == {"message": {"ack": {"status": "ACK"}}},
                      "%s: not ACKed: %d %r" % (what, st, raw[:500]))

            # ---- the DEG example payloads are accepted
            deg_flow(h, bap, our, ack)
            sel = msg("select", {"order": deg_select_order(bap, our)})
            ack("DEG select", send("select", sel))
            cb = bap.wait_callback("on_select", sel["context"]["transaction_id"])
            err = cb.body.get("error")
            check(err and err["code"] == "30006",
                  "on_select for offers we do not have: %r" % cb.body)
            check(cb.body["message"]["order"]["beckn:orderItems"][0]["beckn:acceptedOffer"]
                  ["beckn:id"] == "offer-morning-001", "on_select echoes the order")
            ack("DEG init", send("init", msg("init", {"order": deg_init_order(bap, our)})))

            # ---- callback delivery gives up: on a refusal at once, on
            # failures after BECKN_CALLBACK_MAX_ATTEMPTS (3 here)
            def outbox_row(txn):
                rows = h.query("select status, attempts, last_http_status from beckn_outbox"
                               " where transaction_id = %s", (txn,))
                return rows[0] if rows and rows[0]["status"] != "PENDING" else None
            bap.answer_next("on_select", 400, B.nack("30000", "we do not like it"))
            refused = msg("select", {"order": deg_select_order(bap, our)})
            ack("select (callback refused)", send("select", refused))
            row = H.wait_until(lambda: outbox_row(refused["context"]["transaction_id"]),
                               timeout=60, what="callback marked failed")
            check(row == {"status": "FAILED", "attempts": 1, "last_http_status": 400},
                  "a NACKed callback: %r" % row)
            bap.answer_next("on_select", 503, B.nack("50000", "busy"), times=3)
            busy = msg("select", {"order": deg_select_order(bap, our)})
            ack("select (peer busy)", send("select", busy))
            row = H.wait_until(lambda: outbox_row(busy["context"]["transaction_id"]),
                               timeout=60, what="callback marked failed")
            check(row == {"status": "FAILED", "attempts": 3, "last_http_status": 503},
                  "a callback the peer never takes: %r" % row)
            check(len(bap.callbacks("on_select", busy["context"]["transaction_id"])) == 3,
                  "three attempts reach the peer")
            confirm_order = deg_init_order(bap, our)
            confirm_order["beckn:payment"]["beckn:paymentStatus"] = "AUTHORIZED"
            # confirm of an order never reserved: a clear 404 NACK
            expect("confirm without init", send("confirm", msg("confirm", {"order": confirm_order})),
                   404, "30008", "message.order.beckn:id")
            expect("status of an unknown order",
                   send("status", msg("status", {"order": {"beckn:id": "order-energy-001"}})),
                   404, "30008")
            expect("cancel of an unknown order",
                   send("cancel", msg("cancel", {"order": {"beckn:id": "order-energy-001"}})),
                   404, "30008")

            base = commands()

            # ---- authentication
            good = msg("select", {"order": deg_select_order(bap, our)})
            raw = json.dumps(good, separators=(",", ":")).encode()
            header = bap.sign(raw)
            tampered = raw.replace(b'"unitQuantity":15.0', b'"unitQuantity":16.0', 1)
            check(len(tampered) == len(raw) and tampered != raw, "tamper one byte")
            hdrs = expect("tampered body", send("select", tampered, sign=False,
                                                headers={"Authorization": header}),
                          401, "60001", "Authorization")
            check(hdrs.get("WWW-Authenticate", "").startswith('Signature realm="%s"'
                                                              % our.subscriber_id),
                  "401 without WWW-Authenticate: %r" % hdrs)
            now = int(time.time())
            expect("expired signature", send("select", msg("select", good["message"]),
                                             created=now - 600, expires=now - 300),
                   401, "60002")
            expect("future signature", send("select", msg("select", good["message"]),
                                            created=now + 600, expires=now + 900),
                   401, "60002")
            expect("unknown key", send("select", msg("select", good["message"]), signer=stranger),
                   401, "60003")
            expect("signer is not bap_id", send("select", msg("select", good["message"]),
                                                signer=other),
                   401, "60000", "context.bap_id")
            expect("bap_uri not on the registered URL",
                   send("select", msg("select", good["message"], bap_uri="http://127.0.0.2:9/beckn")),
                   401, "60000", "context.bap_uri")
            expect("no Authorization", send("select", msg("select", good["message"]), sign=False),
                   401, "60000")

            # ---- context
            expect("wrong domain", send("select", msg("select", good["message"],
                                                      domain="beckn.one:deg:ev-charging:2.0.0")),
                   400, "50005", "context.domain")
            expect("wrong version", send("select", msg("select", good["message"], version="1.1.0")),
                   400, "50006", "context.version")
            expect("action != path", send("select", msg("init", good["message"])),
                   400, "30000", "context.action")
            expect("bpp_id not us", send("select", msg("select", good["message"],
                                                       bpp_id="bpp.somebody.test")),
                   400, "30000", "context.bpp_id")
            stale = H.ms_to_rfc3339(H.now_ms() - 120000)
            expect("expired ttl", send("select", msg("select", good["message"], timestamp=stale,
                                                     ttl="PT30S")),
                   400, "30000", "context.ttl")
            first = msg("select", good["message"])
            ack("select before its replay", send("select", first))
            expect("replayed message_id", send("select", first), 409, "30000", "context.message_id")
            base += 1

            # ---- payload
            def variant(mutate):
                o = deg_select_order(bap, our)
                mutate(o)
                return msg("select", {"order": o})
            item0 = "message.order.beckn:orderItems[0]"
            expect("unknown key in EnergyCustomer",
                   send("select", variant(lambda o: o["beckn:orderItems"][0]
                                          ["beckn:orderItemAttributes"]["providerAttributes"]
                                          .update({"favouriteColour": "green"}))),
                   400, "30000", item0 + ".beckn:orderItemAttributes.providerAttributes")
            expect("unknown key in EnergyOrderItem (pre-rename customerAttributes)",
                   send("select", variant(lambda o: o["beckn:orderItems"][0]
                                          ["beckn:orderItemAttributes"]
                                          .update({"customerAttributes": {}}))),
                   400, "30000", item0 + ".beckn:orderItemAttributes")
            expect("unknown key in EnergyTradeOffer",
                   send("select", variant(lambda o: o["beckn:orderItems"][0]["beckn:acceptedOffer"]
                                          ["beckn:offerAttributes"].update({"discount": 1}))),
                   400, "30000", item0 + ".beckn:acceptedOffer.beckn:offerAttributes")
            expect("bad enum", send("select", variant(lambda o: o["beckn:orderItems"][0]
                                                      ["beckn:acceptedOffer"]["beckn:offerAttributes"]
                                                      .update({"pricingModel": "PER-LITRE"}))),
                   400, "30000")
            expect("pack time not UTC",
                   send("select", variant(lambda o: o["beckn:orderItems"][0]["beckn:acceptedOffer"]
                                          ["beckn:offerAttributes"]["beckn:timeWindow"]
                                          .update({"schema:startTime": "2026-01-09T06:00:00+05:30"}))),
                   400, "30000")
            expect("unknown pack type",
                   send("select", variant(lambda o: o["beckn:orderItems"][0]
                                          ["beckn:orderItemAttributes"].update({"@type": "EvCharging"}))),
                   400, "40007")
            expect("total_quantity != sum of lines",
                   send("select", variant(lambda o: o["beckn:orderAttributes"]
                                          .update({"total_quantity": 26.0}))),
                   400, "30000", "message.order.beckn:orderAttributes.total_quantity")
            expect("more than 3 decimals of kWh",
                   send("select", variant(lambda o: o["beckn:orderItems"][0]["beckn:quantity"]
                                          .update({"unitQuantity": 1.0005}))),
                   400, "30000", item0 + ".beckn:quantity")
            expect("malformed JSON", send("select", b'{"context": {"action": "select",'),
                   400, "30000", "body")
            big = msg("select", good["message"])
            big["message"]["pad"] = "x" * (H.MAX_BODY + 10)
            st, body, raw_answer, _ = send("select", big)
            check(st == 413 and body["message"]["ack"]["status"] == "NACK",
                  "oversized body: %d %r" % (st, raw_answer[:300]))

            # ---- actions we do not take
            expect("track", send("track", msg("track", {"tracking": {"id": "order-energy-001"}})),
                   400, "40005")
            expect("rating", send("rating", msg("rating", {"ratings": [{"id": "x", "value": 5}]})),
                   400, "40001")
            expect("support (not configured)",
                   send("support", msg("support", {"refId": "order-energy-001", "refType": "ORDER"})),
                   400, "50004")
            expect("update that is not a payment",
                   send("update", msg("update", {"order": {"beckn:id": "order-energy-001",
                                                           "beckn:orderStatus": "CANCELLED"}})),
                   400, "50002")
            # a payment is identified by its reference (beckn:txnRef, else
            # beckn:id): without a usable one it is refused here
            def payment(**ref):
                return msg("update", {"order": {"beckn:id": "order-energy-001", "beckn:payment": dict(
                    {"beckn:paymentStatus": "PAID",
                     "beckn:amount": {"currency": "INR", "value": 10.0}}, **ref)}})
            expect("payment without a reference", send("update", payment()),
                   400, "30000", "message.order.beckn:payment.beckn:txnRef")
            expect("payment with an empty txnRef", send("update", payment(**{"beckn:txnRef": ""})),
                   400, "30000", "message.order.beckn:payment.beckn:txnRef")
            expect("payment with an oversized txnRef",
                   send("update", payment(**{"beckn:txnRef": "u" * 65})),
                   400, "30000", "message.order.beckn:payment.beckn:txnRef")
            expect("payment with a payment id that is not an id",
                   send("update", payment(**{"beckn:id": "pay ment"})),
                   400, "30000", "message.order.beckn:payment.beckn:id")
            expect("unknown endpoint", send("search", msg("search", {}), path="/beckn/search"),
                   404, "30000")

            # nothing refused reached the engine
            time.sleep(0.5)
            check(commands() == base, "refused requests appended commands: %d != %d"
                  % (commands(), base))

            # ---- a gateway without Beckn settings answers 503
            plain = h.start_gateway(primary=False, log_name="gateway-plain")
            expect("Beckn not configured", bap.send(plain.port, "select", msg("select", good["message"])),
                   503, "50000")
            check(not bap.bad_signatures, "bad callback signatures: %r" % bap.bad_signatures)
        finally:
            bap.stop()


if __name__ == "__main__":
    main()
