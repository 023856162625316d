#!/usr/bin/python3
"""POST /api/discover over a large order book ranks like the engine.

Thirty sellers of three trust levels (meter data moves two groups up) list
2,000 offers through the engine: few distinct prices and windows, so equal
scores are common and the tie-break (earlier listed first) matters. For
several buy requests (windows of one to three slots, price caps, a source
type, a buyer who is also a seller) the allocation discover predicts must be
exactly the lines the engine quotes for the same request (order.quote.v1, which
holds nothing). Then the latency of discover over this book is measured and
printed (sequential requests, p50/p95/p99)."""
import os
import random
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402

P = "energy.p2p."
OFFERS = int(os.environ.get("P2P_TEST_DISCOVER_OFFERS", "2000"))
SELLERS = 30
LATENCY_REQUESTS = 200


def main():
    rnd = random.Random(20261124)
    env = {"TRUST_DEFAULT_LIMIT": 1000000}
    with H.Harness() as h:
        h.create_db()
        h.start_engine(**env)
        h.start_projector()
        h.start_gateway(dev_auth=True, **env)
        prod = H.CommandProducer()
        run = h.run[-6:]
        sellers = ["s%02d-%s" % (i, run) for i in range(SELLERS)]

        def command(topic, kind, body):
            v = {"command_id": str(uuid.uuid4()), "issued_at_ms": H.now_ms(),
                 "market": H.MARKET}
            v.update(body)
            prod.produce(h.topic(topic), v, ce_type=P + kind)
            return v

        for i, s in enumerate(sellers[:20]):
            command("participants", "participant.meter.v1",
                    {"participant_id": s, "monthly_wh": 100000000,
                     "quality": "HIGH" if i < 10 else "MEDIUM"})
        S = H.next_slot_ms() + 6 * H.SLOT_MS
        for k in range(OFFERS):
            start = S + rnd.choice((-2, -1, 0, 0, 1, 2, 3)) * H.SLOT_MS
            qty = rnd.choice((1000, 2500, 4000, 7500))
            command("offers", "offer.submit.v1", {
                "offer_id": "o%05d-%s" % (k, run),
                "seller_id": rnd.choice(sellers),
                "source_type": rnd.choice(("SOLAR", "SOLAR", "BATTERY", "GRID")),
                "quantity_wh": qty, "price_per_kwh": rnd.choice((500, 550, 600, 700)),
                "currency": "INR", "min_order_wh": rnd.choice((500, 1000, qty)),
                "delivery_start_ms": start,
                "delivery_end_ms": start + rnd.choice((1, 1, 2, 3)) * H.SLOT_MS,
                "meter_id": "MTR-%d" % k, "valid_until_ms": None})
        prod.flush()
        H.wait_until(lambda: h.scalar("select count(*) from offers") == OFFERS
                     and h.scalar("select count(*) from participants") == 20,
                     timeout=120, interval=0.5,
                     what="%d offers and 20 participants projected" % OFFERS)
        listed = h.scalar("select count(*) from offers where status = 'LISTED'")
        check(listed == OFFERS, "only %d of %d offers listed" % (listed, OFFERS))

        iso = H.ms_to_rfc3339
        buyer = "buyer-" + run
        requests = [  # (buyer, Wh, window start, slots, max price, source)
            (buyer, 40000, S, 2, None, None),
            (buyer, 5000, S, 1, 600, None),
            (buyer, 20000, S, 2, None, "SOLAR"),
            (buyer, 3000, S - H.SLOT_MS, 3, 550, None),
            (sellers[0], 60000, S + H.SLOT_MS, 1, None, "GRID"),
            (buyer, 10 ** 7, S, 1, 500, "BATTERY"),  # more than there is
        ]
        for who, wh, start, slots, max_price, source in requests:
            body = {"quantity_wh": wh, "delivery_start": iso(start),
                    "delivery_end": iso(start + slots * H.SLOT_MS)}
            quote = {"order_id": "q" + uuid.uuid4().hex[:20], "buyer_id": who,
                     "quantity_wh": wh, "window_start_ms": start,
                     "window_end_ms": start + slots * H.SLOT_MS,
                     "allow_partial": True}
            if max_price:
                body["max_price_per_kwh"] = quote["max_price_per_kwh"] = max_price
            if source:
                body["source_type"] = quote["source_type"] = source
            st, disc = h.http("POST", "/api/discover", body,
                              headers={"X-Dev-User": who})
            check(st == 200, "discover %r -> %d %r" % (body, st, disc))
            check(disc["candidates"] > 15,
                  "test setup: only %d candidates for %r" % (disc["candidates"], body))
            check(all(o["seller_id"] != who for o in disc["offers"]),
                  "%s is offered their own offers" % who)
            ranked = disc["offers"]
            check([o["rank"] for o in ranked] == list(range(1, len(ranked) + 1))
                  and all(a["score"] >= b["score"] for a, b in zip(ranked, ranked[1:])),
                  "not ranked by score: %r" % [o["score"] for o in ranked])
            ties = sum(a["score"] == b["score"] for a, b in zip(ranked, ranked[1:]))
            if wh == 40000:
                check(ties > 0, "test setup: no equal scores among the first %d"
                      % len(ranked))
            command("orders", "order.quote.v1", quote)
            prod.flush()
            box = {}

            def quoted(q=quote):
                for r in H.read_all(h.topic("order-events")):
                    if (r.headers.get("ce_type") == P + "order.quoted.v1"
                            and r.value["order_id"] == q["order_id"]):
                        box["v"] = r.value
                        return True
                    if (r.headers.get("ce_type") == P + "order.rejected.v1"
                            and r.value.get("subject_id") == q["order_id"]):
                        raise H.TestFailure("quote rejected: %r" % r.value)
                return False
            H.wait_until(quoted, timeout=60, interval=0.3,
                         what="the quote of %r" % body)
            engine = [(l["offer_id"], l["quantity_wh"], l["score_ppm"],
                       l["amount"], l["fee"]) for l in box["v"]["lines"]]
            api = [(l["offer_id"], l["quantity_wh"], l["score"], l["amount"],
                    l["fee"]) for l in disc["allocation"]["lines"]]
            check(engine == api, "request %r: the engine quotes %r, discover "
                  "predicted %r" % (body, engine, api))
            check(box["v"]["filled_wh"] == disc["allocation"]["filled_wh"]
                  and box["v"]["total"] == disc["allocation"]["total"],
                  "totals of %r: engine %r, discover %r"
                  % (body, box["v"], disc["allocation"]))
            H.log("request %r: %d candidates, %d lines, engine and discover "
                  "agree" % (body, disc["candidates"], len(api)))

        body = {"quantity_wh": 40000, "delivery_start": iso(S),
                "delivery_end": iso(S + 2 * H.SLOT_MS)}
        times = []
        for _ in range(LATENCY_REQUESTS):
            t = time.perf_counter()
            st, doc = h.http("POST", "/api/discover", body,
                             headers={"X-Dev-User": buyer})
            times.append(time.perf_counter() - t)
            check(st == 200, "discover -> %d" % st)
        times.sort()

        def pct(p):
            return 1000 * times[min(len(times) - 1, int(p * len(times)))]
        H.log("discover over %d offers (%d candidates, ASan build): p50 %.1f ms, "
              "p95 %.1f ms, p99 %.1f ms over %d sequential requests"
              % (OFFERS, doc["candidates"], pct(0.5), pct(0.95), pct(0.99),
                 LATENCY_REQUESTS))


if __name__ == "__main__":
    main()
