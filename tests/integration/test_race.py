#!/usr/bin/python3
"""50 buyers buy from one offer at the same time, through HTTP (one thread
each, POST /api/buy on the real stack). The offer holds less than they ask
for together, so some are refused. Afterwards:
  * total sold = offered: the accepted orders' energy adds up to the offer,
    which has nothing left (GET /api/offers/{id}), and no line sold more;
  * no buyer is charged for energy not received: each buyer's wallet moved by
    exactly the total of their accepted order (journal topic, read_committed),
    refused buyers not at all, and GET /api/orders agrees with the answers;
  * money is conserved: every journal entry balances, and the sum of all
    wallets, escrows and the platform equals what was deposited."""
import os
import sys
import threading
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402

TOKEN = "op-secret-race-0123456789"
BUYERS = 50
OFFERED_WH = 30000
DEPOSIT = 100000


def main():
    with H.Harness() as h:
        h.create_db()
        h.start_engine()
        h.start_projector()
        h.start_gateway(dev_auth=True, P2P_OPERATOR_TOKEN=TOKEN, P2P_DECISION_WAIT_MS=30000)
        H.wait_until(lambda: H.log_events(h.engine.log_text(), "engine_started"), 60, 0.05,
                     what="engine_started")
        w = H.future_window(hours_ahead=6)
        st, offer = h.http("POST", "/seller/offers",
                           {"source_type": "SOLAR", "quantity_wh": OFFERED_WH,
                            "price_per_kwh": 600, "delivery_start": w["start"],
                            "delivery_end": w["end"], "meter_id": "MTR-R"},
                           {"X-Dev-User": "seller"})
        check(st == 201, "offer -> %d %r" % (st, offer))
        buyers = ["buyer%02d" % i for i in range(BUYERS)]
        for b in buyers:
            st, doc = h.http("POST", "/api/operator/deposits",
                             {"participant_id": b, "amount": DEPOSIT, "reference": "dep-" + b},
                             {"Authorization": "Bearer " + TOKEN})
            check(st == 201, "deposit for %s -> %d %r" % (b, st, doc))

        # each asks for 1 kWh (30 can have it); half name the offer, half let
        # the market match
        answers = {}
        start = threading.Barrier(BUYERS)

        def buy(i, b):
            qty = 1000
            if i % 2:
                body = {"lines": [{"offer_id": offer["offer_id"], "quantity_wh": qty}]}
            else:
                body = {"quantity_wh": qty, "delivery_start": w["start"],
                        "delivery_end": w["end"]}
            start.wait()
            answers[b] = h.http("POST", "/api/buy", body, {"X-Dev-User": b}, timeout=60)
        threads = [threading.Thread(target=buy, args=(i, b)) for i, b in enumerate(buyers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        accepted = {b: doc for b, (st, doc) in answers.items() if st == 201}
        refused = {b: doc for b, (st, doc) in answers.items() if st != 201}
        for b, doc in refused.items():
            st = answers[b][0]
            check(st == 409 and doc["error"]["code"] == "insufficient_supply",
                  "%s -> %d %r" % (b, st, doc))
        sold = sum(d["filled_wh"] for d in accepted.values())
        H.log("%d buyers accepted, %d refused, %d Wh sold of %d"
              % (len(accepted), len(refused), sold, OFFERED_WH))
        check(sold == OFFERED_WH, "sold %d Wh of an offer of %d Wh" % (sold, OFFERED_WH))
        for b, d in accepted.items():
            check(sum(l["quantity_wh"] for l in d["lines"]) == d["filled_wh"] > 0
                  and all(l["offer_id"] == offer["offer_id"] for l in d["lines"]),
                  "%s's order %r" % (b, d))
        check(refused, "the offer was oversubscribed, yet nobody was refused")

        # the read model agrees
        def remaining():
            st, o = h.http("GET", "/api/offers/" + offer["offer_id"])
            return st == 200 and o["remaining_wh"] == 0
        H.wait_until(remaining, 30, what="the offer's remaining_wh = 0")
        for b in buyers:
            def orders():
                st, doc = h.http("GET", "/api/orders", None, {"X-Dev-User": b})
                check(st == 200, "GET /api/orders as %s -> %d" % (b, st))
                want = 1 if b in accepted else 0
                return (doc["orders"],) if len(doc["orders"]) == want else None
            got, = H.wait_until(orders, 30, what="%s's orders projected" % b)
            if b in accepted:
                check(got[0]["order_id"] == accepted[b]["order_id"]
                      and got[0]["filled_wh"] == accepted[b]["filled_wh"]
                      and got[0]["total"] == accepted[b]["total"],
                      "%s: GET /api/orders %r, buy answered %r" % (b, got[0], accepted[b]))

        # the money, from the engine's journal
        entries = [r.value for r in H.read_all(h.topic("journal"))]
        balance = defaultdict(int)
        for e in entries:
            check(sum(p["amount"] for p in e["postings"]) == 0, "unbalanced entry %r" % e)
            for p in e["postings"]:
                balance[p["account"]] += p["amount"]
        for b in buyers:
            paid = DEPOSIT - balance["wallet:" + b]
            want = accepted[b]["total"] if b in accepted else 0
            check(paid == want, "%s paid %d, their order's total is %d" % (b, paid, want))
        inside = sum(v for k, v in balance.items() if k != "external")
        check(inside == DEPOSIT * BUYERS == -balance["external"],
              "wallets + escrow + platform = %d, deposited %d" % (inside, DEPOSIT * BUYERS))
        check(h.gateway.alive() and h.engine.alive(), "a process died")
    print("ok")


if __name__ == "__main__":
    main()
