#!/usr/bin/python3
"""Review fixes of our BPP's receive pipeline (real gateway, PostgreSQL, Kafka).

Numbers a signed peer controls must neither overflow (the sanitized build
aborts the gateway on signed overflow; a release build wrapped them) nor be
taken at the wrong scale:
- a signature whose `expires` is 10^17 s: the replay store keeps the
  message_id (a second send of the same bytes is 409), the gateway lives;
- a context.ttl of P999999999999D: 400 30000 context.ttl;
- an update paying 10^17 (an integer): 400 on ...beckn:amount.value;
- an update paying in a currency other than the market's: 400 on
  ...beckn:amount.currency (it was counted at face value in ours).
- a network order (our BAP) of 9e18 Wh: 400 on quantity_wh.
Nothing refused reaches the engine.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402
import beckn_peer as B  # noqa: E402

PAYMENT = "message.order.beckn:payment.beckn:amount."


def main():
    with H.Harness() as h:
        h.create_db()
        h.start_engine()
        h.start_projector()
        bap = B.BecknPeer("bap.review-consumer.test").start()
        our = B.OurNode("bpp.review-provider.test")
        bap.trust(our)
        try:
            reg = B.write_registry_file(h, [bap], our)
            gw = B.start_beckn_gateway(h, our, reg)
            orders_topic = h.topic("orders")
            base = H.count_records(orders_topic) or 0

            def msg(action, message, **ctx_over):
                c = B.context(action, bap, our)
                c.update(ctx_over)
                return {"context": c, "message": message}

            def expect(what, result, status, code, paths):
                st, body, raw, _ = result
                check(st == status, "%s: HTTP %d (expected %d) %r" % (what, st, status, raw[:400]))
                err = (body or {}).get("message", {}).get("error", {})
                check(err.get("code") == code and err.get("paths", "").startswith(paths),
                      "%s: %r (expected %s on %s)" % (what, err, code, paths))
                check(gw.alive(), "%s: the gateway died" % what)
                H.log("refused as expected: %s -> %d %s %s" % (what, st, code, paths))

            # ---- a signature valid until 10^17 s: kept against replay
            status = msg("status", {"order": {"beckn:id": "bk-no-such-order"}})
            raw = json.dumps(status, separators=(",", ":")).encode()
            now = int(time.time())
            far = 10 ** 17
            expect("status signed until 10^17 s", bap.send(h.port, "status", raw, created=now,
                                                          expires=far),
                   404, "30008", "message.order.beckn:id")
            expect("the same signed bytes again", bap.send(h.port, "status", raw, created=now,
                                                          expires=far),
                   409, "30000", "context.message_id")
            rows = h.query("select expires_at_ms from beckn_inbound_messages where message_id = %s",
                           (status["context"]["message_id"],))
            check(rows and rows[0]["expires_at_ms"] >= far,
                  "the message_id is kept while its signature is valid: %r" % rows)

            # ---- a ttl of 10^12 days
            expect("ttl P999999999999D",
                   bap.send(h.port, "status", msg("status", {"order": {"beckn:id": "bk-x"}},
                                                   ttl="P999999999999D")),
                   400, "30000", "context.ttl")

            # ---- payments
            def payment(value, currency="INR"):
                return msg("update", {"order": {
                    "beckn:id": "bk-no-such-order",
                    "beckn:payment": {"beckn:paymentStatus": "PAID", "beckn:txnRef": "utr-review-1",
                                      "beckn:amount": {"currency": currency, "value": value}}}})
            expect("a payment of 10^17", bap.send(h.port, "update", payment(10 ** 17)),
                   400, "30000", PAYMENT + "value")
            expect("a payment with 3 decimals in INR", bap.send(h.port, "update", payment(1.234)),
                   400, "30000", PAYMENT + "value")
            expect("a payment in JPY on an INR market", bap.send(h.port, "update",
                                                                 payment(1000, "JPY")),
                   400, "30000", PAYMENT + "currency")
            # the same payment in INR gets past the amount checks to the order
            expect("a payment in INR of an unknown order", bap.send(h.port, "update",
                                                                    payment(12.34)),
                   404, "30008", "message.order.beckn:id")

            # ---- our BAP: a network order line of 9e18 Wh is refused on its
            # quantity before anything multiplies it by a price
            st, body = h.http("POST", "/api/network/orders",
                              {"bpp_id": "bpp.anyone.test", "meter_id": "der://meter/1",
                               "lines": [{"offer_id": "offer-1",
                                          "quantity_wh": 9 * 10 ** 18}]},
                              headers={"X-Dev-User": "alice"})
            check(st == 400 and body["error"]["field"] == "quantity_wh",
                  "a 9e18 Wh network order line: %d %r" % (st, body))

            time.sleep(0.5)
            check((H.count_records(orders_topic) or 0) == base,
                  "refused requests appended commands")
        finally:
            bap.stop()


if __name__ == "__main__":
    main()
