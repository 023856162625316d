#!/usr/bin/python3
"""The command side of the client, seller and operator APIs through HTTP on the
real stack (engine, projector, gateway; real Kafka and PostgreSQL): every
endpoint's happy path with the engine's decision in the answer, another user's
resource (404), invalid input (400 naming the field, nothing on Kafka), the
Idempotency-Key (same answer, one command; another body 422), the operator
token (403 when disabled, 401 when wrong), demo starting balances, and
GET /api/commands/{id} for the issuer only, and a DISCOM delivery report
(produced to Kafka as the DISCOM would) in GET /api/orders/{id}."""
import os
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402

TOKEN = "op-secret-for-tests-0123456789"
OP = {"Authorization": "Bearer " + TOKEN}
BOB, CAROL, ALICE, DAVE = ({"X-Dev-User": u} for u in ("bob", "carol", "alice", "dave"))


def expect(h, got, status, what):
    st, doc = got
    check(st == status, "%s -> %d %s, expected %d" % (what, st, h.last_http[2][:600], status))
    return doc


def expect_error(h, got, status, code, field, what):
    doc = expect(h, got, status, what)
    err = (doc or {}).get("error") or {}
    check(err.get("code") == code and (field is None or err.get("field") == field),
          "%s -> error %r, expected code %s field %s" % (what, err, code, field))
    return doc


def count(h, topic, ce_type=None):
    if not H.topic_exists(h.topic(topic)):
        return 0
    recs = H.read_all(h.topic(topic), isolation="read_uncommitted")
    return len([r for r in recs if ce_type is None or r.headers.get("ce_type") == ce_type])


def offer_body(w, qty=10000, price=600, meter="MTR-1"):
    return {"source_type": "SOLAR", "quantity_wh": qty, "price_per_kwh": price,
            "delivery_start": w["start"], "delivery_end": w["end"], "meter_id": meter}


def operator_checks(h):
    dep = {"participant_id": "bob", "amount": 1000000, "reference": "bank-001"}
    expect_error(h, h.http("POST", "/api/operator/deposits", dep), 401, "unauthenticated",
                 "Authorization", "deposit without token")
    expect_error(h, h.http("POST", "/api/operator/deposits", dep,
                           {"Authorization": "Bearer wrong"}), 401, "unauthenticated",
                 "Authorization", "deposit with a wrong token")
    for body, code, field in [
            ({"participant_id": "bob", "amount": -5, "reference": "r1"}, "invalid_field", "amount"),
            ({"participant_id": "bob", "amount": "5", "reference": "r1"}, "wrong_type", "amount"),
            ({"participant_id": "bob", "amount": 5}, "missing_field", "reference"),
            ({"participant_id": "bob", "amount": 5, "reference": "r", "x": 1}, "unknown_field", "x"),
            ({"participant_id": "no spaces", "amount": 5, "reference": "r"}, "invalid_field",
             "participant_id")]:
        expect_error(h, h.http("POST", "/api/operator/deposits", body, OP), 400, code, field,
                     "deposit %r" % body)
    check(count(h, "participants") == 0, "refused deposits reached Kafka")

    key = dict(OP, **{"Idempotency-Key": "dep-bob-1"})
    first = expect(h, h.http("POST", "/api/operator/deposits", dep, key), 201, "deposit")
    raw_first = h.last_http[2]
    check(first["participant_id"] == "bob" and first["amount"] == 1000000
          and first["status"] == "DEPOSITED" and first["reference"] == "bank-001",
          "deposit answer %r" % first)
    again = expect(h, h.http("POST", "/api/operator/deposits", dep, key), 201, "deposit retry")
    check(h.last_http[2] == raw_first, "retry answered %r, first %r" % (again, first))
    check(count(h, "participants", "energy.p2p.wallet.deposit.v1") == 1,
          "a retried deposit appended a second command")
    expect_error(h, h.http("POST", "/api/operator/deposits", dict(dep, amount=5), key), 422,
                 "idempotency_key_reused", "Idempotency-Key", "same key, other body")
    for who in ("carol", "alice"):
        expect(h, h.http("POST", "/api/operator/deposits",
                         {"participant_id": who, "amount": 500000, "reference": "b-" + who}, OP),
               201, "deposit for " + who)
    # a user id that merely looks like the operator is not one
    expect_error(h, h.http("POST", "/api/operator/deposits", dep, {"X-Dev-User": "operator"}),
                 401, "unauthenticated", "Authorization", "user 'operator' as operator")
    return first


def seller_checks(h, w):
    st_bad = h.http("POST", "/seller/offers", dict(offer_body(w), quantity_wh=0), ALICE)
    expect_error(h, st_bad, 400, "invalid_field", "quantity_wh", "offer with 0 Wh")
    offer = expect(h, h.http("POST", "/seller/offers", offer_body(w, 10000, 600), ALICE), 201,
                   "list an offer")
    check(offer["status"] == "LISTED" and offer["seller_id"] == "alice"
          and offer["remaining_wh"] == 10000 and offer["price_per_kwh"] == 600
          and H.rfc3339_to_ms(offer["delivery_start"]) == w["start_ms"],
          "listed offer %r" % offer)
    cheap = expect(h, h.http("POST", "/seller/offers", offer_body(w, 3000, 500, "MTR-2"), ALICE),
                   201, "list a second offer")
    spare = expect(h, h.http("POST", "/seller/offers", offer_body(w, 2000, 900, "MTR-3"), ALICE),
                   201, "list an offer to withdraw")
    # a rejection is the engine's answer: 4xx with its reason
    w_far = H.future_window(hours_ahead=8 * 24)
    expect_error(h, h.http("POST", "/seller/offers", offer_body(w_far), ALICE), 400,
                 "beyond_horizon", "delivery_start", "offer beyond the horizon")

    # withdraw: another seller's offer is 404, the seller's own 200, twice 409
    path = "/seller/offers/" + spare["offer_id"]
    expect_error(h, h.http("DELETE", path, None, CAROL), 404, "not_found", "offer_id",
                 "carol withdraws alice's offer")
    gone = expect(h, h.http("DELETE", path, None, ALICE), 200, "withdraw")
    check(gone["status"] == "WITHDRAWN" and gone["withdrawn_wh"] == 2000, "withdraw %r" % gone)
    expect_error(h, h.http("DELETE", path, None, ALICE), 409, "not_open", "offer_id",
                 "withdraw twice")
    expect_error(h, h.http("DELETE", "/seller/offers/bad%20id", None, ALICE), 404, "not_found",
                 "offer_id", "withdraw a malformed id")
    return offer, cheap


def buyer_checks(h, w, offer, cheap):
    req = {"quantity_wh": 2000, "delivery_start": w["start"], "delivery_end": w["end"]}
    # invalid input names the field and appends nothing
    before = count(h, "orders")
    for body, code, field in [
            (dict(req, quantity_wh=0), "invalid_field", "quantity_wh"),
            (dict(req, quantity_wh="2000"), "wrong_type", "quantity_wh"),
            ({k: v for k, v in req.items() if k != "delivery_end"}, "missing_field", "delivery_end"),
            (dict(req, delivery_start=H.ms_to_rfc3339(w["start_ms"] + 60000)), "window_not_aligned",
             "delivery_start"),
            (dict(req, source_type="WIND"), "invalid_field", "source_type"),
            (dict(req, allow_partial="yes"), "wrong_type", "allow_partial"),
            (dict(req, colour="red"), "unknown_field", "colour"),
            (dict(req, lines=[{"offer_id": offer["offer_id"], "quantity_wh": 1000}]),
             "invalid_field", "quantity_wh"),
            ({"lines": [{"offer_id": offer["offer_id"], "quantity_wh": 0}]}, "invalid_field",
             "lines[0].quantity_wh")]:
        for path in ("/api/select", "/api/init", "/api/buy"):
            expect_error(h, h.http("POST", path, body, BOB), 400, code, field,
                         "%s %r" % (path, body))
    expect_error(h, h.http("POST", "/api/confirm", {}, BOB), 400, "missing_field", "order_id",
                 "confirm without order_id")
    expect_error(h, h.http("POST", "/api/buy", req), 401, "unauthenticated", None, "buy anonymously")
    expect_error(h, h.http("GET", "/api/buy", None, BOB), 405, "method_not_allowed", None, "GET /api/buy")
    check(count(h, "orders") == before, "refused requests reached the orders topic")

    # select: a priced quote, the cheapest offer first, nothing held
    quote = expect(h, h.http("POST", "/api/select", req, BOB), 200, "select")
    check(quote["status"] == "QUOTED" and quote["filled_wh"] == 2000
          and quote["lines"][0]["offer_id"] == cheap["offer_id"]
          and quote["lines"][0]["price_per_kwh"] == 500
          and quote["amount"] == 1000 and quote["total"] == quote["amount"] + quote["fee"],
          "quote %r" % quote)
    st, o = h.http("GET", "/api/offers/" + cheap["offer_id"])
    check(st == 200 and o["remaining_wh"] == 3000, "a quote held energy: %r" % o)

    # init + confirm; another buyer cannot confirm or see it
    res = expect(h, h.http("POST", "/api/init", req, BOB), 201, "init")
    check(res["status"] == "RESERVED" and res["expires_at"] and res["lines"][0]["fill_id"]
          and len(res["order_id"]) <= 56 and res["buyer_id"] == "bob", "reservation %r" % res)
    expect_error(h, h.http("POST", "/api/confirm", {"order_id": res["order_id"]}, CAROL), 404,
                 "not_found", "order_id", "carol confirms bob's order")
    conf = expect(h, h.http("POST", "/api/confirm", {"order_id": res["order_id"]}, BOB), 200,
                  "confirm")
    check(conf["status"] == "CONFIRMED" and conf["order_id"] == res["order_id"],
          "confirm %r" % conf)
    expect_error(h, h.http("POST", "/api/confirm", {"order_id": res["order_id"]}, BOB), 409,
                 "not_reserved", "order_id", "confirm twice")

    # one-step buy with an Idempotency-Key: a retry is the same answer, one command
    key = dict(BOB, **{"Idempotency-Key": "buy-1"})
    nbuys = count(h, "orders", "energy.p2p.order.buy.v1")
    bought = expect(h, h.http("POST", "/api/buy", req, key), 201, "buy")
    raw = h.last_http[2]
    check(bought["status"] == "CONFIRMED" and bought["filled_wh"] == 2000, "buy %r" % bought)
    expect(h, h.http("POST", "/api/buy", req, key), 201, "buy retry")
    check(h.last_http[2] == raw, "the retry's answer differs")
    # the key is per user and per endpoint: carol's "buy-1" is hers
    expect_error(h, h.http("POST", "/api/buy", dict(req, quantity_wh=1000), key), 422,
                 "idempotency_key_reused", "Idempotency-Key", "buy-1 with another body")
    check(count(h, "orders", "energy.p2p.order.buy.v1") == nbuys + 1,
          "a retried buy appended another command")

    # named offers (lines), then the engine's refusals as 409 with its reason
    named = expect(h, h.http("POST", "/api/buy",
                             {"lines": [{"offer_id": offer["offer_id"], "quantity_wh": 1000}]},
                             BOB), 201, "buy a named offer")
    check(named["lines"][0]["offer_id"] == offer["offer_id"], "named buy %r" % named)
    poor = expect_error(h, h.http("POST", "/api/buy", req, DAVE), 409, "insufficient_funds", None,
                        "dave has no money")
    check(poor["command_id"], "rejection without command_id: %r" % poor)
    short = expect_error(h, h.http("POST", "/api/buy", dict(req, quantity_wh=90000), BOB), 409,
                         "insufficient_supply", "quantity_wh", "more than offered")
    check(short.get("shortfall_wh", 0) > 0, "no shortfall in %r" % short)

    # cancel: not carol's; bob's own reservation is released
    res2 = expect(h, h.http("POST", "/api/init", dict(req, quantity_wh=1000), BOB), 201, "init 2")
    expect_error(h, h.http("POST", "/api/cancel", {"order_id": res2["order_id"]}, CAROL), 404,
                 "not_found", "order_id", "carol cancels bob's order")
    can = expect(h, h.http("POST", "/api/cancel", {"order_id": res2["order_id"]}, BOB), 200,
                 "cancel")
    check(can["status"] == "CANCELLED" and can["released_wh"] == 1000, "cancel %r" % can)
    return bought, conf


def sale_cancel_checks(h, bought):
    fill = bought["lines"][0]["fill_id"]
    path = "/seller/orders/%s/cancel" % fill
    expect_error(h, h.http("POST", path, None, CAROL), 404, "not_found", "fill_id",
                 "carol cancels alice's sale")
    expect_error(h, h.http("POST", path, {"why": "x"}, ALICE), 400, "unknown_field", "why",
                 "sale cancel with a body field")
    done = expect(h, h.http("POST", path, None, ALICE), 200, "sale cancel")
    check(done["status"] == "CANCELLED_BY_SELLER" and done["fill_id"] == fill
          and done["refund"] > 0 and done["penalty"] > 0, "sale cancel %r" % done)
    expect_error(h, h.http("POST", "/seller/orders/nofill/cancel", None, ALICE), 404, "not_found",
                 "fill_id", "a malformed fill id")


def retry_checks(h, w):
    """Every command endpoint: a retry with the same key is the same answer
    and appends nothing."""
    def twice(method, path, body, user, key, topic, ce_type, status):
        hdrs = dict(user, **{"Idempotency-Key": key})
        before = count(h, topic, ce_type)
        first = expect(h, h.http(method, path, body, hdrs), status, "%s %s" % (method, path))
        raw = h.last_http[2]
        expect(h, h.http(method, path, body, hdrs), status, "retry %s %s" % (method, path))
        check(h.last_http[2] == raw, "retry of %s %s answered differently" % (method, path))
        check(count(h, topic, ce_type) == before + 1,
              "%s %s with one key appended %d commands"
              % (method, path, count(h, topic, ce_type) - before))
        return first
    P = "energy.p2p."
    req = {"quantity_wh": 1000, "delivery_start": w["start"], "delivery_end": w["end"]}
    offer = twice("POST", "/seller/offers", offer_body(w, 4000, 550, "MTR-K"), ALICE, "k-offer",
                  "offers", P + "offer.submit.v1", 201)
    twice("POST", "/api/select", req, CAROL, "k-sel", "orders", P + "order.quote.v1", 200)
    res = twice("POST", "/api/init", req, CAROL, "k-init", "orders", P + "order.reserve.v1", 201)
    twice("POST", "/api/confirm", {"order_id": res["order_id"]}, CAROL, "k-conf", "orders",
          P + "order.confirm.v1", 200)
    # a refusal is an answer too: kept and replayed
    twice("POST", "/api/confirm", {"order_id": "ord-nope"}, CAROL, "k-conf-2", "orders",
          P + "order.confirm.v1", 404)
    res2 = twice("POST", "/api/init", req, CAROL, "k-init-2", "orders", P + "order.reserve.v1", 201)
    twice("POST", "/api/cancel", {"order_id": res2["order_id"]}, CAROL, "k-cancel", "orders",
          P + "order.cancel.v1", 200)
    sold = expect(h, h.http("POST", "/api/buy", req, CAROL), 201, "carol buys")
    twice("POST", "/seller/orders/%s/cancel" % sold["lines"][0]["fill_id"], None,
          {"X-Dev-User": sold["lines"][0]["seller_id"]}, "k-sale", "orders",
          P + "sale.cancel.v1", 200)
    twice("DELETE", "/seller/offers/" + offer["offer_id"], None, ALICE, "k-del", "offers",
          P + "offer.withdraw.v1", 200)
    # concurrent requests with one key: one command; the others get the same
    # answer, or 202 with the first one's command while it is undecided
    hdrs = dict(CAROL, **{"Idempotency-Key": "k-race"})
    before = count(h, "orders", P + "order.buy.v1")
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(h.http("POST", "/api/buy", req, hdrs)))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(count(h, "orders", P + "order.buy.v1") == before + 1,
          "6 concurrent requests with one key appended %d commands"
          % (count(h, "orders", P + "order.buy.v1") - before))
    ids = {doc["command_id"] for st, doc in answers if st in (201, 202)}
    check(len(answers) == 6 and len(ids) == 1 and all(st in (201, 202) for st, _ in answers),
          "concurrent answers %r" % answers)
    expect_error(h, h.http("POST", "/api/buy", req, dict(BOB, **{"Idempotency-Key": "a b"})), 400,
                 "invalid_field", "Idempotency-Key", "a key with a space")


def read_checks(h, bought, conf):
    def listed():
        st, doc = h.http("GET", "/api/orders?limit=1", None, BOB)
        return doc if st == 200 and doc["orders"] else None
    page = H.wait_until(listed, 30, what="bob's orders in GET /api/orders")
    check(len(page["orders"]) == 1 and page["next_cursor"], "first page %r" % page)
    ids, cursor = [], None
    H.wait_until(lambda: h.http("GET", "/api/orders/" + conf["order_id"], None, BOB)[0] == 200,
                 30, what="the confirmed order projected")
    while True:
        q = "/api/orders?limit=2" + ("&cursor=" + cursor if cursor else "")
        doc = expect(h, h.http("GET", q, None, BOB), 200, q)
        ids += [o["order_id"] for o in doc["orders"]]
        cursor = doc["next_cursor"]
        if not cursor:
            break
    check(conf["order_id"] in ids and bought["order_id"] in ids and len(ids) == len(set(ids)),
          "paged orders %r" % ids)
    doc = expect(h, h.http("GET", "/api/orders?limit=100", None, BOB), 200, "GET /api/orders")
    listed = {o["order_id"]: o for o in doc["orders"]}
    check([l["fill_id"] for l in listed[conf["order_id"]]["lines"]]
          == [l["fill_id"] for l in conf["lines"]]
          and listed[conf["order_id"]]["status"] == "CONFIRMED", "listed order %r" % listed)
    st, doc = h.http("GET", "/api/orders", None, CAROL)
    check(st == 200 and all(o["order_id"] not in ids for o in doc["orders"]),
          "carol sees bob's orders: %r" % doc)
    one = expect(h, h.http("GET", "/api/orders/" + conf["order_id"], None, BOB), 200, "GET order")
    check(one["lines"] and one["history"] and one["buyer_id"] == "bob", "order %r" % one)
    # GET /api/orders/{id} reads order, lines and history in one statement: the
    # same order and lines as the list, the history as projected, in its order
    check({k: v for k, v in one.items() if k != "history"} == listed[conf["order_id"]],
          "GET order %r differs from the listed %r" % (one, listed[conf["order_id"]]))
    history = h.query("select status, detail from order_status_history where order_id = %s"
                      " order by at_ms, event_id", (conf["order_id"],))
    check([(e["status"], e["detail"]) for e in one["history"]]
          == [(e["status"], e["detail"]) for e in history]
          and all(e["at"].endswith("Z") for e in one["history"]),
          "order history %r, projected %r" % (one["history"], history))
    # its statements are prepared per connection: a connection the server drops
    # is reset and prepares them again
    killed = h.scalar("select count(pg_terminate_backend(pid)) from pg_stat_activity"
                      " where datname = current_database() and query like 'select o.order_id, %%'")
    check(killed >= 1, "no gateway connection had read an order")
    answers = [h.http("GET", "/api/orders/" + conf["order_id"], None, BOB) for _ in range(40)]
    check(all(st in (200, 503) for st, _ in answers)
          and all(st == 200 and doc == one for st, doc in answers[-10:]),
          "GET order after its connections were dropped: %r" % [st for st, _ in answers])
    expect_error(h, h.http("GET", "/api/orders/" + conf["order_id"], None, CAROL), 404,
                 "not_found", "order_id", "carol reads bob's order")
    expect_error(h, h.http("GET", "/api/orders?limit=0", None, BOB), 400, "invalid_field",
                 "limit", "limit 0")
    expect_error(h, h.http("GET", "/api/orders?cursor=zzz", None, BOB), 400, "invalid_field",
                 "cursor", "bad cursor")

    # GET /api/commands/{id}: only the issuer
    cid = conf["command_id"]
    def decided():
        st, doc = h.http("GET", "/api/commands/" + cid, None, BOB)
        check(st == 200 and doc["command_id"] == cid and doc["status"] in ("PENDING", "ACCEPTED"),
              "GET command -> %d %r" % (st, doc))
        return doc if doc["status"] == "ACCEPTED" else None
    doc = H.wait_until(decided, 30, what="the command's result projected")
    check(doc["event_type"].endswith("order.confirmed.v1") and doc["subject_id"] == conf["order_id"],
          "command result %r" % doc)
    expect_error(h, h.http("GET", "/api/commands/" + cid, None, CAROL), 404, "not_found",
                 "command_id", "carol reads bob's command")


def delivery_checks(h, w, conf):
    """The DISCOM's report of a delivered line (a third party's Kafka input:
    produced here) shows in GET /api/orders/{id}."""
    prod = H.CommandProducer()
    P = "energy.p2p."
    after = w["end_ms"] + 60000  # engine time past the delivery window
    prod.produce_sync(h.topic("ticks"), {"command_id": str(uuid.uuid4()), "issued_at_ms": after,
                                          "market": H.MARKET},
                      ce_type=P + "clock.tick.v1", time_ms=after)
    line = conf["lines"][0]
    report = {"command_id": str(uuid.uuid4()), "issued_at_ms": after + 1000, "market": H.MARKET,
              "fill_id": line["fill_id"], "delivered_wh": line["quantity_wh"]}
    H.validate(P + "delivery.report.v1", report)
    prod.produce_sync(h.topic("deliveries"), report, ce_type=P + "delivery.report.v1",
                      time_ms=after + 1000)

    def delivered():
        st, doc = h.http("GET", "/api/orders/" + conf["order_id"], None, BOB)
        check(st == 200, "GET order -> %d %r" % (st, doc))
        got = [l for l in doc["lines"] if l["fill_id"] == line["fill_id"]][0]
        return got if got["delivery"] else None
    got = H.wait_until(delivered, 30, what="the delivery result in GET /api/orders/{id}")
    check(got["delivery"]["delivered_wh"] == line["quantity_wh"]
          and got["delivery"]["curtailed_wh"] == 0 and got["delivery"]["seller_paid"] > 0,
          "delivered line %r" % got)


def demo_checks(h, w):
    # demo mode: the first command of a user brings the starting balance, once
    demo = h.start_gateway(dev_auth=True, primary=False, log_name="gateway-demo",
                           DEMO_START_BALANCE=200000, P2P_OPERATOR_TOKEN=TOKEN,
                           P2P_DECISION_WAIT_MS=15000)
    erin = {"X-Dev-User": "erin"}
    req = {"quantity_wh": 1000, "delivery_start": w["start"], "delivery_end": w["end"]}
    for _ in range(2):
        expect(h, h.http("POST", "/api/buy", req, erin, port=demo.port), 201, "erin buys (demo)")
    deposits = [r for r in H.read_all(h.topic("participants"))
                if r.value.get("participant_id") == "erin"]
    check(len(deposits) == 1 and deposits[0].value["amount"] == 200000,
          "demo deposits for erin: %r" % [r.value for r in deposits])
    # operator endpoints disabled without a token
    expect_error(h, h.http("POST", "/api/operator/deposits",
                           {"participant_id": "x", "amount": 1, "reference": "r"}, OP,
                           port=h.start_gateway(dev_auth=True, primary=False,
                                                log_name="gateway-notoken").port),
                 403, "forbidden", None, "operator endpoint without P2P_OPERATOR_TOKEN")


def pending_checks(h, w):
    # no engine answer within the wait: 202 with the command's status URL
    req = {"quantity_wh": 1000, "delivery_start": w["start"], "delivery_end": w["end"]}
    h.stop(h.engine)
    slow = h.start_gateway(dev_auth=True, primary=False, log_name="gateway-slow",
                           P2P_DECISION_WAIT_MS=300)
    t0 = time.time()
    st, doc = h.http("POST", "/api/buy", req, BOB, port=slow.port)
    check(st == 202 and doc["status"] == "PENDING"
          and doc["status_url"] == "/api/commands/" + doc["command_id"] and doc["order_id"],
          "buy without an engine -> %d %r" % (st, doc))
    check(time.time() - t0 < 5, "the 202 took %.1fs" % (time.time() - t0))
    st, cmd = h.http("GET", doc["status_url"], None, BOB, port=slow.port)
    check(st == 200 and cmd["status"] == "PENDING", "pending command %d %r" % (st, cmd))


def wait_engine_ready(h):
    H.wait_until(lambda: H.log_events(h.engine.log_text(), "engine_started"), 60, 0.05,
                 what="engine_started")


def main():
    with H.Harness() as h:
        h.create_db()
        h.start_engine()
        h.start_projector()
        # a generous wait: the answers are checked, not the 202 (tested below)
        h.start_gateway(dev_auth=True, P2P_OPERATOR_TOKEN=TOKEN, P2P_DECISION_WAIT_MS=15000)
        wait_engine_ready(h)
        w = H.future_window(hours_ahead=6)
        operator_checks(h)
        offer, cheap = seller_checks(h, w)
        bought, conf = buyer_checks(h, w, offer, cheap)
        sale_cancel_checks(h, bought)
        retry_checks(h, w)
        demo_checks(h, w)
        read_checks(h, bought, conf)
        delivery_checks(h, w, conf)
        pending_checks(h, w)
        check(h.gateway.alive(), "the gateway died")
    print("ok")


if __name__ == "__main__":
    main()
