#!/usr/bin/python3
"""The read side of the client APIs through HTTP against the real stack:
gateway -> Kafka -> engine -> Kafka -> projector -> PostgreSQL -> gateway.

Sellers list offers through the API, a buyer's money, a seller's verified
meter data, a buy and a delivery report go to the engine as Kafka commands,
and every read endpoint is checked against what the engine decided:

* POST /api/discover ranks exactly the eligible offers (product.md §4) with
  the engine's scores, and its "what a buy would allocate" equals the lines
  the engine then allocates for the same buy (offer, quantity, score, money);
* GET /api/wallet, /api/trust, /api/profile, /seller/profile,
  /seller/orders and /api/market show the buyer's and sellers' numbers after
  the buy and the delivery;
* a user never sees another user's data; bad input is a 4xx naming the field.
"""
import os
import sys
import uuid
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402

P = "energy.p2p."
LIMIT_KWH = 1000000          # TRUST_DEFAULT_LIMIT for engine and gateway
OPERATOR_TOKEN = "read-test-operator-" + uuid.uuid4().hex


def get(h, path, user=None, **kw):
    return h.http("GET", path, headers={"X-Dev-User": user} if user else {},
                  **kw)


def ok(h, method, path, user, body=None):
    st, doc = h.http(method, path, body,
                     headers={"X-Dev-User": user} if user else {})
    check(st == 200, "%s %s as %s -> %d %s" % (method, path, user, st,
                                               h.last_http[2][:600]))
    return doc


def expect_error(h, method, path, user, body, status, code, field):
    st, doc = h.http(method, path, body,
                     headers={"X-Dev-User": user} if user else {})
    what = "%s %s %r" % (method, path, body)
    check(st == status, "%s: expected %d, got %d %r" % (what, status, st, doc))
    err = (doc or {}).get("error") or {}
    check(err.get("code") == code and err.get("field") == field
          and isinstance(err.get("message"), str) and err["message"],
          "%s: expected error %s naming %r, got %r" % (what, code, field, doc))


def wait_doc(h, path, user, pred, what, timeout=60):
    box = {}

    def done():
        st, doc = get(h, path, user)
        check(st == 200, "GET %s as %s -> %d %s" % (path, user, st,
                                                   h.last_http[2][:600]))
        box["doc"] = doc
        return pred(doc)
    H.wait_until(done, timeout=timeout, interval=0.2, what=what)
    return box["doc"]


def exact_score(price, prices, trust, overlap, window):
    """product.md §4 in exact fractions (ppm): the API's integer score is
    the engine's truncation of it, so it lies within 2 ppm below."""
    lo, hi = min(prices), max(prices)
    ps = Fraction(1) if lo == hi else (Fraction(3, 10) + Fraction(7, 10)
                                       * Fraction(hi - price, hi - lo))
    tf = min(Fraction(1), Fraction(overlap, window))
    return (Fraction(40, 100) * ps + Fraction(35, 100) * Fraction(trust, 10000)
            + Fraction(25, 100) * tf) * 1000000


class Commands:
    """Raw commands to the engine's input topics, issued now."""

    def __init__(self, h):
        self.h, self.prod = h, H.CommandProducer()
        self.t = 0

    def send(self, topic, kind, body, at=None):
        self.t = max(self.t + 1, at or H.now_ms())
        v = {"command_id": str(uuid.uuid4()), "issued_at_ms": self.t,
             "market": H.MARKET}
        v.update(body)
        H.validate(P + kind, v, "test command")
        self.prod.produce_sync(self.h.topic(topic), v, ce_type=P + kind,
                               time_ms=self.t)
        return v


def engine_event(h, topic, ce_type, pred, what):
    box = {}

    def found():
        for r in H.read_all(h.topic(topic)):
            if r.headers.get("ce_type") == P + ce_type and pred(r.value):
                box["v"] = r.value
                return True
        return False
    H.wait_until(found, timeout=60, interval=0.5, what=what)
    return box["v"]


def main():
    env = {"TRUST_DEFAULT_LIMIT": LIMIT_KWH}
    with H.Harness() as h:
        h.create_db()
        h.start_engine(**env)
        h.start_projector()
        h.start_gateway(dev_auth=True, P2P_OPERATOR_TOKEN=OPERATOR_TOKEN, **env)
        cmd = Commands(h)
        run = h.run[-6:]
        alice, bob, carol = "alice" + run, "bob" + run, "carol" + run
        dave, erin = "dave" + run, "erin" + run

        # ---- money, capacity and trust, through the engine
        cmd.send("participants", "wallet.deposit.v1",
                 {"participant_id": dave, "amount": 1000000})
        cmd.send("participants", "wallet.deposit.v1",
                 {"participant_id": erin, "amount": 50000})
        cmd.send("participants", "participant.meter.v1",
                 {"participant_id": bob, "monthly_wh": 400000,
                  "quality": "HIGH"})
        st, _ = h.http("PUT", "/api/profile",
                       {"production_capacity_wh_per_month": 500000},
                       headers={"X-Dev-User": alice})
        check(st == 202, "PUT /api/profile -> %d" % st)

        # ---- offers, through the API
        # the buy window W = [S, E) is two slots; [S, M) is its first
        w = H.future_window(6, 2)
        S, E = w["start_ms"], w["end_ms"]
        M = S + H.SLOT_MS
        iso = H.ms_to_rfc3339
        specs = {  # name: (seller, source, Wh, price, start, end, min)
            "a1": (alice, "SOLAR", 5000, 600, S, M, 1000),
            "b1": (bob, "SOLAR", 4000, 610, S, M, 1000),
            "c1": (carol, "BATTERY", 3000, 500, S, E, 1000),
            "c2": (carol, "SOLAR", 2000, 550, M, E, 1000),
            "a2": (alice, "GRID", 1000, 900, S - H.SLOT_MS, M, 1000),
            "c3": (carol, "SOLAR", 2000, 400, E, E + H.SLOT_MS, 1000),
        }
        offers = {}
        for name in ("a1", "b1", "c1", "c2", "a2", "c3"):
            seller, src, wh, price, start, end, mn = specs[name]
            st, doc = h.http("POST", "/seller/offers", {
                "source_type": src, "quantity_wh": wh, "price_per_kwh": price,
                "delivery_start": iso(start), "delivery_end": iso(end),
                "meter_id": "MTR-" + name, "min_order_wh": mn},
                headers={"X-Dev-User": seller})
            # 201: decided while we waited; 202: still pending
            check(st in (201, 202), "offer %s -> %d %r" % (name, st, doc))
            offers[name] = doc["offer_id"]
        for name, oid in offers.items():
            got = h.wait_offer_decided(oid)
            check(got["status"] == "LISTED", "offer %s: %r" % (name, got))
        name_of = {oid: n for n, oid in offers.items()}

        # the projector has the engine's view of bob (meter bonus: 0.40)
        tb = wait_doc(h, "/api/trust", bob, lambda d: d["trust"] == 4000,
                      "bob's trust 4000 in the read model")
        check(tb["tier"] == "Starter" and tb["next_tier"] == "Bronze"
              and tb["next_tier_from"] == 5000 and tb["progress_percent"] == 50
              and tb["trade_limit_percent"] == 10
              and tb["trade_limit_wh"] == 40000
              and tb["trade_limit_basis"] == "verified"
              and tb["verified_production_wh_per_month"] == 400000,
              "bob's trust view: %r" % tb)
        check(tb["history"] and tb["history"][0]["delta"] == 1000
              and tb["history"][0]["reason"] == "meter_data"
              and tb["history"][0]["new_score"] == 4000
              and tb["page"]["total"] == len(tb["history"]),
              "bob's trust history: %r" % tb)

        # ---- discover
        Q = 10000
        req = {"quantity_wh": Q, "delivery_start": w["start"],
               "delivery_end": w["end"]}
        disc = ok(h, "POST", "/api/discover", dave, req)
        got = [name_of[o["offer_id"]] for o in disc["offers"]]
        check(sorted(got) == ["a1", "a2", "b1", "c1", "c2"],
              "eligible offers for W: %r (c3 does not overlap)" % got)
        check(disc["candidates"] == 5 and disc["candidates_ranked"] == 5
              and disc["weights"] == {"price": 40, "trust": 35,
                                      "time_fit": 25},
              "discover header: %r" % {k: disc[k] for k in disc
                                       if k != "offers"})
        trust_of = {alice: 3000, bob: 4000, carol: 3000}
        prices = [specs[n][3] for n in got]
        for rank, o in enumerate(disc["offers"], 1):
            n = name_of[o["offer_id"]]
            seller, src, wh, price, start, end, mn = specs[n]
            overlap = min(end, E) - max(start, S)
            exact = exact_score(price, prices, trust_of[seller], overlap, E - S)
            check(o["rank"] == rank and o["seller_id"] == seller
                  and o["source_type"] == src and o["price_per_kwh"] == price
                  and o["remaining_wh"] == wh and o["min_order_wh"] == mn
                  and o["seller_trust"] == trust_of[seller]
                  and o["trust"] == trust_of[seller] * 100
                  and 0 <= exact - o["score"] < 2,
                  "offer %s in discover: %r (exact score %s)"
                  % (n, o, float(exact)))
            weighted = (40 * o["price_score"] + 35 * o["trust"]
                        + 25 * o["time_fit"]) // 100
            check(weighted == o["score"], "breakdown of %s does not add up: %r"
                  % (n, o))
        scores = [o["score"] for o in disc["offers"]]
        check(scores == sorted(scores, reverse=True), "not ranked: %r" % scores)
        # trust is really used: bob (0.40) outranks alice's cheaper offer
        check(got.index("b1") < got.index("a1"), "ranking %r" % got)
        check(len({o["time_fit"] for o in disc["offers"]}) == 2,
              "time fits of one and two slots: %r" % disc["offers"])
        alloc = disc["allocation"]
        check(alloc["filled_wh"] == Q and alloc["shortfall_wh"] == 0
              and alloc["total"] == alloc["amount"] + alloc["fee"]
              and sum(l["quantity_wh"] for l in alloc["lines"]) == Q,
              "allocation: %r" % alloc)

        # filters; the buyer's own offers are never offered to them
        mine = ok(h, "POST", "/api/discover", alice, req)
        check(sorted(name_of[o["offer_id"]] for o in mine["offers"])
              == ["b1", "c1", "c2"], "alice discovers her own offers: %r" % mine)
        cheap = ok(h, "POST", "/api/discover", dave,
                   dict(req, max_price_per_kwh=600))
        check(sorted(name_of[o["offer_id"]] for o in cheap["offers"])
              == ["a1", "c1", "c2"], "max_price_per_kwh 600: %r" % cheap)
        batt = ok(h, "POST", "/api/discover", dave,
                  dict(req, source_type="BATTERY", limit=1))
        check([name_of[o["offer_id"]] for o in batt["offers"]] == ["c1"]
              and batt["offers"][0]["price_score"] == 1000000
              and batt["allocation"]["filled_wh"] == 3000
              and batt["allocation"]["shortfall_wh"] == Q - 3000,
              "source_type BATTERY: %r" % batt)
        top1 = ok(h, "POST", "/api/discover", dave, dict(req, limit=1))
        check(len(top1["offers"]) == 1 and top1["allocation"] == alloc,
              "limit 1 shortens the list, not the allocation: %r" % top1)

        # ---- the engine allocates what discover showed
        order_id = "D" + run
        cmd.send("orders", "order.buy.v1",
                 {"order_id": order_id, "buyer_id": dave, "quantity_wh": Q,
                  "window_start_ms": S, "window_end_ms": E,
                  "allow_partial": False})
        reserved = engine_event(h, "order-events", "order.reserved.v1",
                                lambda v: v.get("order_id") == order_id,
                                "order.reserved.v1 of %s" % order_id)
        engine_lines = [(l["offer_id"], l["quantity_wh"], l["score_ppm"],
                         l["amount"], l["fee"]) for l in reserved["lines"]]
        api_lines = [(l["offer_id"], l["quantity_wh"], l["score"],
                      l["amount"], l["fee"]) for l in alloc["lines"]]
        check(engine_lines == api_lines,
              "the engine allocated %r, discover predicted %r"
              % (engine_lines, api_lines))
        total = alloc["total"]

        # ---- wallet
        wd = wait_doc(h, "/api/wallet", dave,
                      lambda d: d["held_in_escrow"] == total,
                      "dave's escrow in the read model")
        check(wd["balance"] == 1000000 - total and wd["currency"] == "INR"
              and wd["account"] == "wallet:" + dave
              and wd["page"]["total"] == len(wd["postings"]) == 2,
              "dave's wallet: %r" % wd)
        check(wd["postings"][0]["amount"] == -total
              and wd["postings"][1]["amount"] == 1000000
              and wd["postings"][0]["at"] >= wd["postings"][1]["at"],
              "dave's postings, newest first: %r" % wd["postings"])
        page = ok(h, "GET", "/api/wallet?limit=1&offset=1", dave)
        check(len(page["postings"]) == 1
              and page["postings"][0] == wd["postings"][1]
              and page["page"]["next_offset"] is None,
              "second page of dave's postings: %r" % page)
        check(wd["page"]["next_offset"] is None, "one page: %r" % wd["page"])
        we = ok(h, "GET", "/api/wallet", erin)
        check(we["balance"] == 50000 and we["held_in_escrow"] == 0
              and [p["amount"] for p in we["postings"]] == [50000],
              "erin sees only her own wallet: %r" % we)
        nobody = ok(h, "GET", "/api/wallet", "nobody" + run)
        check(nobody["balance"] == 0 and nobody["postings"] == [],
              "a user without a wallet: %r" % nobody)

        # ---- seller views
        sold_by = {}
        for l in reserved["lines"]:
            sold_by.setdefault(l["seller_id"], []).append(l)
        month = iso(S)[:7]
        for seller in (alice, bob, carol):
            so = wait_doc(h, "/seller/orders", seller,
                          lambda d, s=seller: len(d["orders"])
                          == len(sold_by.get(s, []))
                          and all(x["status"] == "SOLD" for x in d["orders"]),
                          "%s's sold lines" % seller)
            want = sorted((l["fill_id"], l["offer_id"], l["quantity_wh"],
                           l["amount"]) for l in sold_by.get(seller, []))
            have = sorted((x["fill_id"], x["offer_id"], x["quantity_wh"],
                           x["amount"]) for x in so["orders"])
            check(want == have and all(x["buyer_id"] == dave
                                       and x["order_id"] == order_id
                                       and x["order_status"] == "CONFIRMED"
                                       for x in so["orders"]),
                  "%s's orders: %r, engine sold %r" % (seller, so, want))
            sp = ok(h, "GET", "/seller/profile?month=" + month, seller)
            listed = sum(specs[n][2] for n in specs if specs[n][0] == seller
                         and iso(specs[n][4])[:7] == month)
            sold = sum(l["quantity_wh"] for l in sold_by.get(seller, []))
            m = sp["month"]
            check(m["month"] == month and m["committed_wh"] == listed
                  and m["sold_wh"] == sold and m["open_wh"] == listed - sold
                  and m["reserved_wh"] == 0
                  and m["available_wh"] == sp["trade_limit_wh"] - listed,
                  "%s's commitment for %s: %r (listed %d, sold %d)"
                  % (seller, month, sp, listed, sold))
            if seller == alice:
                alice_month = m
        check(ok(h, "GET", "/seller/orders", erin)["orders"] == [],
              "erin sold nothing")
        pa = ok(h, "GET", "/seller/profile", alice)
        check(pa["trade_limit_wh"] == 50000 and pa["tier"] == "Starter"
              and pa["trade_limit_percent"] == 10
              and pa["production_capacity_wh_per_month"] == 500000
              and pa["offers"] == {"listed": 2, "total": 2},
              "alice's seller profile: %r" % pa)
        # the engine's own numbers, in its trade-limit refusal message
        st, doc = h.http("POST", "/seller/offers", {
            "source_type": "SOLAR",
            "quantity_wh": alice_month["available_wh"] + 1,
            "price_per_kwh": 600, "delivery_start": w["start"],
            "delivery_end": iso(M), "meter_id": "MTR-x"},
            headers={"X-Dev-User": alice})
        # 409: refused while we waited; 202: still pending, poll
        check(st in (202, 409), "over the limit -> %d %r" % (st, doc))
        over = (doc["error"] if st == 409
                else h.wait_offer_decided(doc["offer_id"])["reason"])
        check(over["code"] == "trade_limit_exceeded"
              and "50000" in over["message"],
              "an offer one Wh over the available %d: %r"
              % (alice_month["available_wh"], over))

        # ---- profile
        pr = wait_doc(h, "/api/profile", alice,
                      lambda d: d["production_capacity_wh_per_month"]
                      == 500000, "alice's capacity")
        check(pr["participant_id"] == alice and pr["trust"] == 3000
              and pr["trust_score"] == "0.30" and pr["tier"] == "Starter"
              and pr["trade_limit_wh"] == 50000
              and pr["trade_limit_basis"] == "declared",
              "alice's profile: %r" % pr)
        pe = ok(h, "GET", "/api/profile", erin)
        check(pe["participant_id"] == erin and pe["trust"] == 3000
              and pe["trade_limit_wh"] == LIMIT_KWH * 1000
              and pe["production_capacity_wh_per_month"] is None
              and pe["trade_limit_basis"] == "default",
              "erin's profile (no capacity): %r" % pe)

        # ---- market
        mk = wait_doc(h, "/api/market?from=%s&to=%s" % (iso(S), iso(E)),
                      None, lambda d: sum(s["sold_wh"] for s in d["slots"])
                      == Q, "the market's sold energy in W")
        by_source = {}
        for s in mk["slots"]:
            check(s["slot_start"] in (iso(S), iso(M))
                  and H.rfc3339_to_ms(s["slot_end"])
                  == H.rfc3339_to_ms(s["slot_start"]) + H.SLOT_MS,
                  "slot outside the range: %r" % s)
            by_source[s["source_type"]] = (by_source.get(s["source_type"], 0)
                                           + s["sold_wh"])
            if s["sold_wh"]:
                check(s["average_price_per_kwh"]
                      == (s["amount"] * 1000 + s["sold_wh"] // 2)
                      // s["sold_wh"], "average price of %r" % s)
        engine_by_source = {}
        for l in reserved["lines"]:
            src = specs[name_of[l["offer_id"]]][1]
            engine_by_source[src] = engine_by_source.get(src, 0) + l["quantity_wh"]
        check({k: v for k, v in by_source.items() if v} == engine_by_source,
              "market volume per source %r, engine sold %r"
              % (by_source, engine_by_source))
        solar = ok(h, "GET", "/api/market?source_type=SOLAR&from=%s&to=%s"
                   % (iso(S), iso(E)), None)
        check(solar["slots"] and all(s["source_type"] == "SOLAR"
                                     for s in solar["slots"]),
              "source filter: %r" % solar)
        whole = ok(h, "GET", "/api/market", None)
        check(any(s["slot_start"] == w["start"] for s in whole["slots"]),
              "the default range (today + horizon) holds W: %r" % whole)

        # ---- a reservation: discover sees what is left, the engine agrees
        Q2 = 3000
        req2 = dict(req, quantity_wh=Q2)
        left = {o["offer_id"]: o["remaining_wh"] for o in H.wait_until(
            lambda: ok(h, "POST", "/api/discover", erin, req2)["offers"],
            what="discover after the buy")}
        for l in reserved["lines"]:
            spec_wh = specs[name_of[l["offer_id"]]][2]
            check(left.get(l["offer_id"], 0) == spec_wh - l["quantity_wh"],
                  "remaining of %s after selling %d: %r"
                  % (name_of[l["offer_id"]], l["quantity_wh"], left))
        disc2 = ok(h, "POST", "/api/discover", erin, req2)
        order2 = "R" + run
        cmd.send("orders", "order.reserve.v1",
                 {"order_id": order2, "buyer_id": erin, "quantity_wh": Q2,
                  "window_start_ms": S, "window_end_ms": E})
        reserved2 = engine_event(h, "order-events", "order.reserved.v1",
                                 lambda v: v.get("order_id") == order2,
                                 "order.reserved.v1 of %s" % order2)
        check([(l["offer_id"], l["quantity_wh"], l["score_ppm"], l["amount"],
                l["fee"]) for l in reserved2["lines"]]
              == [(l["offer_id"], l["quantity_wh"], l["score"], l["amount"],
                   l["fee"]) for l in disc2["allocation"]["lines"]],
              "reservation %r, discover predicted %r"
              % (reserved2["lines"], disc2["allocation"]))
        held = {}
        for l in reserved2["lines"]:
            held[l["seller_id"]] = held.get(l["seller_id"], 0) + l["quantity_wh"]
        for seller, wh in held.items():
            wait_doc(h, "/seller/profile?month=" + month, seller,
                     lambda d, wh=wh: d["month"]["reserved_wh"] == wh,
                     "%s's reserved energy" % seller)
            mine = ok(h, "GET", "/seller/orders?status=RESERVED", seller)
            check(sum(x["quantity_wh"] for x in mine["orders"]) == wh
                  and all(x["buyer_id"] == erin for x in mine["orders"]),
                  "%s's reserved lines: %r" % (seller, mine))
        # paging through a seller's lines
        busiest = max(sold_by, key=lambda s: len(sold_by[s]))
        everything = ok(h, "GET", "/seller/orders", busiest)["orders"]
        check(len(everything) >= 2, "test setup: %s has %d lines"
              % (busiest, len(everything)))
        p1 = ok(h, "GET", "/seller/orders?limit=1", busiest)
        p2 = ok(h, "GET", "/seller/orders?limit=1&offset=%d"
                % (len(everything) - 1), busiest)
        check(p1["orders"] == everything[:1] and p1["page"]["next_offset"] == 1
              and p2["orders"] == everything[-1:]
              and p2["page"]["next_offset"] is None,
              "pages of %s's lines: %r %r" % (busiest, p1, p2))

        # ---- delivery: the seller's trust and money move
        first = reserved["lines"][0]
        cmd.send("ticks", "clock.tick.v1", {}, at=E + 1000)
        cmd.send("deliveries", "delivery.report.v1",
                 {"fill_id": first["fill_id"],
                  "delivered_wh": first["quantity_wh"]})
        seller = first["seller_id"]
        before = trust_of[seller]
        ts = wait_doc(h, "/api/trust", seller,
                      lambda d: d["trust"] == before + 500,
                      "%s's trust after a full delivery" % seller)
        top = ts["history"][0]
        check(top["delta"] == 500 and top["old_score"] == before
              and top["new_score"] == before + 500
              and top["reason"] == "delivery_full"
              and top["ref_id"] == first["fill_id"],
              "%s's trust history after the delivery: %r" % (seller, ts))
        so = wait_doc(h, "/seller/orders?status=DELIVERED", seller,
                      lambda d: len(d["orders"]) == 1,
                      "%s's delivered line" % seller)
        check(so["orders"][0]["fill_id"] == first["fill_id"]
              and so["orders"][0]["delivered_wh"] == first["quantity_wh"]
              and so["orders"][0]["seller_paid"] == first["amount"],
              "delivered line: %r" % so)
        sw = ok(h, "GET", "/api/wallet", seller)
        check(sw["balance"] == first["amount"]
              and sw["postings"][0]["amount"] == first["amount"],
              "%s paid for the delivery: %r" % (seller, sw))
        for other in (alice, bob, carol, dave, erin):
            if other != seller:
                th = ok(h, "GET", "/api/trust", other)
                check(all(x["ref_id"] not in (first["fill_id"], order_id)
                          for x in th["history"]),
                      "%s sees %s's trust change: %r" % (other, seller, th))

        # ---- who may read what, and bad input
        for path in ("/api/wallet", "/api/trust", "/api/profile",
                     "/seller/profile", "/seller/orders"):
            expect_error(h, "GET", path, None, None, 401, "unauthenticated",
                         None)
        expect_error(h, "POST", "/api/discover", None, req, 401,
                     "unauthenticated", None)
        expect_error(h, "POST", "/api/wallet", dave, {}, 405,
                     "method_not_allowed", None)
        expect_error(h, "GET", "/api/discover", dave, None, 405,
                     "method_not_allowed", None)
        expect_error(h, "GET", "/api/wallet/" + erin, dave, None, 404,
                     "not_found", None)
        bad = [
            (b"{nope", 400, "malformed_json", "body"),
            ({"delivery_start": w["start"], "delivery_end": w["end"]},
             400, "missing_field", "quantity_wh"),
            (dict(req, quantity_wh="5"), 400, "wrong_type", "quantity_wh"),
            (dict(req, quantity_wh=0), 400, "invalid_field", "quantity_wh"),
            (dict(req, seller_id=dave), 400, "unknown_field", "seller_id"),
            (dict(req, delivery_start=iso(S + 60000)), 400,
             "window_not_aligned", "delivery_start"),
            (dict(req, delivery_end=w["start"]), 400, "window_inverted",
             "delivery_end"),
            (dict(req, delivery_start=iso(H.next_slot_ms()),
                  delivery_end=iso(H.next_slot_ms() + H.SLOT_MS)), 400,
             "gate_closed", "delivery_start"),
            (dict(req, delivery_start="tomorrow"), 400, "invalid_field",
             "delivery_start"),
            (dict(req, source_type="COAL"), 400, "invalid_field",
             "source_type"),
            (dict(req, source_type=5), 400, "wrong_type", "source_type"),
            (dict(req, max_price_per_kwh=0), 400, "invalid_field",
             "max_price_per_kwh"),
            (dict(req, limit=501), 400, "invalid_field", "limit"),
        ]
        for body, status, code, field in bad:
            expect_error(h, "POST", "/api/discover", dave, body, status, code,
                         field)
        for path, field in (("/api/wallet?limit=0", "limit"),
                            ("/api/wallet?limit=abc", "limit"),
                            ("/api/wallet?offset=-1", "offset"),
                            ("/api/trust?limit=501", "limit"),
                            ("/seller/orders?status=PAID", "status"),
                            ("/seller/orders?offset=x", "offset"),
                            ("/seller/profile?month=2026-13", "month"),
                            ("/seller/profile?month=26-11", "month"),
                            ("/api/market?from=yesterday", "from"),
                            ("/api/market?source_type=COAL", "source_type")):
            expect_error(h, "GET", path, dave, None, 400, "invalid_field",
                         field)
        expect_error(h, "GET", "/api/market?from=%s&to=%s" % (iso(E), iso(S)),
                     None, None, 400, "window_inverted", "to")
        expect_error(h, "GET", "/api/market?from=%s&to=%s"
                     % (iso(S), iso(S + 63 * 86400000)), None, None, 400,
                     "invalid_field", "to")
        # nothing above reached Kafka: discover is a read
        orders = [r for r in H.read_all(h.topic("orders"))]
        check(len(orders) == 2, "commands on the orders topic: %d (the buy "
              "and the reservation)" % len(orders))


if __name__ == "__main__":
    main()
