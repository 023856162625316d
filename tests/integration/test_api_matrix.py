#!/usr/bin/python3
"""The HTTP API matrix of issue 5, through HTTP on the real stack (engine,
projector, gateway, Beckn worker; real Kafka and PostgreSQL; only the other
platform's BPP is a fake, a real HTTP server from test_beckn_flow_bap):
for every endpoint of docs/api.md the cells the other suites leave open:

* unauthenticated: every user endpoint without a user, with a malformed
  X-Dev-User and on a gateway without P2P_DEV_AUTH is 401; the operator
  endpoints without their token are 401 naming Authorization;
* another user's resource: 404 naming the id, and the owner's order, wallet,
  offer and sold line (and the other platform's order) are unchanged;
* invalid input: 400 with the code and the field named, nothing on Kafka,
  no network order made and nothing sent to the other platform;
* Idempotency-Key on every POST: a retry gets the same status and bytes and
  appends nothing (one command, one network order, one Beckn request); the
  same key with another body is 422 naming Idempotency-Key and changes
  nothing; a key is the user's own and scoped to the path.

(The happy paths and the remaining cells are in test_api_write.py,
test_api_read*.py, test_bad_input.py, test_profile_api.py,
test_beckn_flow_bap.py and test_beckn_discover.py.)"""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402
import beckn_peer as B  # noqa: E402
import bap_fixtures as F  # noqa: E402
from test_beckn_flow_bap import FakeBPP  # noqa: E402

TOKEN = "op-secret-matrix-0123456789"
OP = {"Authorization": "Bearer " + TOKEN}
COMMAND_TOPICS = ("orders", "offers", "participants")


def user(name, key=None):
    hdrs = {"X-Dev-User": name}
    if key:
        hdrs["Idempotency-Key"] = key
    return hdrs


def expect(h, got, status, what):
    st, doc = got
    check(st == status, "%s -> %d %s, expected %d" % (what, st, h.last_http[2][:600], status))
    return doc


def expect_error(h, got, status, code, field, what):
    doc = expect(h, got, status, what)
    err = (doc or {}).get("error") or {}
    check(err.get("code") == code and err.get("field") == field
          and isinstance(err.get("message"), str) and err["message"],
          "%s -> error %r, expected code %s naming %r" % (what, err, code, field))
    return doc


def command_counts(h):
    """Records on the command topics (written without transactions: the
    watermarks count them)."""
    return {t: H.count_records(h.topic(t)) or 0 for t in COMMAND_TOPICS}


class World:
    """What the requests act on: bob's reserved and confirmed orders, alice's
    offers and a sold line, dave's order on the other platform."""

    def snapshot(self, h):
        """The owners' views that no refused request may change."""
        def get(path, who):
            return expect(h, h.http("GET", path, None, user(who)), 200, "GET " + path)
        reserved = get("/api/orders/" + self.reserved["order_id"], "bob")
        confirmed = get("/api/orders/" + self.confirmed["order_id"], "bob")
        wallet = get("/api/wallet", "bob")
        offer = expect(h, h.http("GET", "/api/offers/" + self.offer["offer_id"]), 200, "offer")
        sold = get("/seller/orders", "alice")
        net = get("/api/network/orders/" + self.net_order, "dave")
        return {"reserved": (reserved["status"], [l["status"] for l in reserved["lines"]]),
                "confirmed": (confirmed["status"], [l["status"] for l in confirmed["lines"]]),
                "wallet": (wallet["balance"], wallet["held_in_escrow"], wallet["page"]["total"]),
                "offer": (offer["status"], offer["remaining_wh"]),
                "sold": sorted((o["fill_id"], o["status"]) for o in sold["orders"]),
                "net": (net["state"], len(net["requests"]), net["updated_at"]),
                "net_orders": len(get("/api/network/orders", "dave")["orders"]),
                "bpp_requests": len(self.bpp.callbacks())}


def settle(h, wd):
    """Waits until the read models have caught up (two equal snapshots 0.5 s
    apart) and returns the snapshot."""
    box = {"last": None}

    def stable():
        snap = wd.snapshot(h)
        same, box["last"] = snap == box["last"], snap
        return same
    H.wait_until(stable, 30, 0.5, what="the read models to settle")
    return box["last"]


def setup(h, bpp, w):
    """Money, offers, bob's two orders, one discovered network order."""
    wd = World()
    wd.bpp = bpp
    for who, amount in (("bob", 1000000), ("carol", 1000000), ("alice", 100000)):
        expect(h, h.http("POST", "/api/operator/deposits",
                         {"participant_id": who, "amount": amount, "reference": "dep-" + who}, OP),
               201, "deposit for " + who)
    offers = []
    for i, (qty, price) in enumerate(((20000, 600), (20000, 650), (3000, 900))):
        offers.append(expect(h, h.http("POST", "/seller/offers", {
            "source_type": "SOLAR", "quantity_wh": qty, "price_per_kwh": price,
            "delivery_start": w["start"], "delivery_end": w["end"], "meter_id": "MTR-%d" % i},
            user("alice")), 201, "alice lists offer %d" % i))
    wd.offer, wd.spare, wd.spare2 = offers
    wd.req = {"quantity_wh": 1000, "delivery_start": w["start"], "delivery_end": w["end"]}
    wd.reserved = expect(h, h.http("POST", "/api/init", wd.req, user("bob")), 201, "bob reserves")
    wd.confirmed = expect(h, h.http("POST", "/api/buy", {"lines": [
        {"offer_id": wd.offer["offer_id"], "quantity_wh": 1000}]}, user("bob")), 201, "bob buys")
    wd.fill = wd.confirmed["lines"][0]["fill_id"]

    # dave discovers the other platform's catalog and selects from it
    body = F.publish_body(bpp, [F.deg_catalog(bpp, w)])
    st, ans, _, _ = bpp.send(h.port, "catalog_publish", body, path="/beckn/catalog/publish")
    check(st == 200, "publish: %d %r" % (st, ans))
    bpp.wait_callback("on_publish", body["context"]["transaction_id"])
    res = expect(h, h.http("POST", "/api/network/discover", {"expression": F.DEG_EXPRESSION},
                           user("dave")), 200, "dave discovers")
    check(res["answered"] and {"offer-energy-001", "offer-energy-002"}
          <= {o["offer_id"] for o in res["offers"]}, "discovered %r" % res["offers"])
    wd.net_body = {"bpp_id": bpp.subscriber_id, "meter_id": "der://meter/1",
                   "lines": [{"offer_id": "offer-energy-001", "quantity_wh": 2000}]}
    o = expect(h, h.http("POST", "/api/network/orders", wd.net_body, user("dave")), 201,
               "dave selects")
    check(o["state"] == "QUOTED", "network order %r" % o)
    wd.net_order = o["order_id"]

    # the projector has bob's orders and alice's sold line
    def projected():
        st1, r = h.http("GET", "/api/orders/" + wd.reserved["order_id"], None, user("bob"))
        st2, c = h.http("GET", "/api/orders/" + wd.confirmed["order_id"], None, user("bob"))
        st3, s = h.http("GET", "/seller/orders", None, user("alice"))
        return (st1 == 200 and st2 == 200 and st3 == 200 and c["status"] == "CONFIRMED"
                and any(x["fill_id"] == wd.fill for x in s["orders"]))
    H.wait_until(projected, 30, what="bob's orders and alice's sale projected")
    return wd


def unauthenticated_cells(h, wd, plain):
    """No user: 401 on every user endpoint, nothing appended or changed."""
    res, conf = wd.reserved["order_id"], wd.confirmed["order_id"]
    net = "/api/network/orders/" + wd.net_order
    offer = {"source_type": "SOLAR", "quantity_wh": 1000, "price_per_kwh": 600,
             "delivery_start": wd.req["delivery_start"], "delivery_end": wd.req["delivery_end"],
             "meter_id": "MTR-X"}
    requests = [
        ("POST", "/api/discover", wd.req), ("POST", "/api/select", wd.req),
        ("POST", "/api/init", wd.req), ("POST", "/api/confirm", {"order_id": res}),
        ("POST", "/api/buy", wd.req), ("POST", "/api/cancel", {"order_id": conf}),
        ("GET", "/api/orders", None), ("GET", "/api/orders/" + conf, None),
        ("GET", "/api/commands/" + wd.confirmed["command_id"], None),
        ("GET", "/seller/profile", None), ("POST", "/seller/offers", offer),
        ("DELETE", "/seller/offers/" + wd.offer["offer_id"], None),
        ("GET", "/seller/orders", None), ("POST", "/seller/orders/%s/cancel" % wd.fill, None),
        ("GET", "/api/profile", None),
        ("PUT", "/api/profile", {"production_capacity_wh_per_month": 1000}),
        ("GET", "/api/wallet", None), ("GET", "/api/trust", None),
        ("POST", "/api/network/discover", {"expression": F.DEG_EXPRESSION}),
        ("GET", "/api/network/orders", None), ("POST", "/api/network/orders", wd.net_body),
        ("GET", net, None)] + [("POST", "%s/%s" % (net, a), None)
                               for a in ("init", "confirm", "status", "cancel")]
    before, counts = settle(h, wd), command_counts(h)
    for method, path, body in requests:
        what = "%s %s" % (method, path)
        expect_error(h, h.http(method, path, body, {"Idempotency-Key": "anon-1"}), 401,
                     "unauthenticated", None, what + " without a user")
        expect_error(h, h.http(method, path, body, {"X-Dev-User": "bob smith"}), 401,
                     "unauthenticated", "X-Dev-User", what + " with a malformed user")
        # X-Dev-User means nothing without P2P_DEV_AUTH=1
        expect_error(h, h.http(method, path, body, user("bob"), port=plain.port), 401,
                     "unauthenticated", None, what + " on a gateway without dev auth")
    for method, path, body in (("POST", "/api/operator/deposits",
                                {"participant_id": "bob", "amount": 5, "reference": "r-anon"}),
                               ("GET", "/api/operator/rebuild", None)):
        for hdrs in ({}, user("bob"), {"Authorization": "Bearer " + TOKEN + "x"},
                     {"Authorization": TOKEN}):
            expect_error(h, h.http(method, path, body, hdrs), 401, "unauthenticated",
                         "Authorization", "%s %s with %r" % (method, path, hdrs))
    expect(h, h.http("GET", "/api/operator/rebuild", None, OP), 200, "rebuild status")
    check(command_counts(h) == counts, "unauthenticated requests reached Kafka: %r -> %r"
          % (counts, command_counts(h)))
    after = wd.snapshot(h)
    check(after == before, "unauthenticated requests changed %r into %r" % (before, after))
    H.log("unauthenticated: %d user endpoints x 3, 2 operator endpoints x 4" % len(requests))


def other_user_cells(h, wd):
    """Another user's resource: 404 naming the id; the owner's state stays."""
    res, conf = wd.reserved["order_id"], wd.confirmed["order_id"]
    net = "/api/network/orders/" + wd.net_order
    cells = [
        ("carol", "POST", "/api/confirm", {"order_id": res}, "order_id"),
        ("carol", "POST", "/api/cancel", {"order_id": res}, "order_id"),
        ("carol", "POST", "/api/cancel", {"order_id": conf}, "order_id"),
        ("carol", "GET", "/api/orders/" + res, None, "order_id"),
        ("carol", "GET", "/api/commands/" + wd.confirmed["command_id"], None, "command_id"),
        ("carol", "DELETE", "/seller/offers/" + wd.offer["offer_id"], None, "offer_id"),
        ("carol", "POST", "/seller/orders/%s/cancel" % wd.fill, None, "fill_id"),
        # the buyer cannot cancel the seller's sale, nor the seller the buyer's order
        ("bob", "POST", "/seller/orders/%s/cancel" % wd.fill, None, "fill_id"),
        ("alice", "POST", "/api/cancel", {"order_id": conf}, "order_id"),
        ("alice", "GET", "/api/orders/" + conf, None, "order_id"),
        ("alice", "GET", "/api/commands/" + wd.confirmed["command_id"], None, "command_id"),
        # the operator's command is not a user's
        ("bob", "GET", "/api/commands/" + wd.deposit_command, None, "command_id"),
        ("mallory", "GET", net, None, "order_id")] + [
        ("mallory", "POST", "%s/%s" % (net, a), None, "order_id")
        for a in ("init", "confirm", "status", "cancel")]
    before = settle(h, wd)
    for i, (who, method, path, body, field) in enumerate(cells):
        expect_error(h, h.http(method, path, body, user(who, "other-%d" % i)), 404, "not_found",
                     field, "%s: %s %s %r" % (who, method, path, body))
        after = wd.snapshot(h)
        check(after == before, "%s's %s %s changed %r into %r"
              % (who, method, path, before, after))
    # every read shows the caller's own data only
    mine = expect(h, h.http("GET", "/api/orders?limit=100", None, user("carol")), 200, "orders")
    check(not {res, conf} & {o["order_id"] for o in mine["orders"]}, "carol lists bob's orders")
    wal = expect(h, h.http("GET", "/api/wallet", None, user("carol")), 200, "carol's wallet")
    check(wal["participant_id"] == "carol" and wal["balance"] == 1000000
          and all(p["ref_id"] not in (res, conf) for p in wal["postings"]),
          "carol's wallet %r" % wal)
    so = expect(h, h.http("GET", "/seller/orders", None, user("carol")), 200, "carol's sales")
    check(so["orders"] == [], "carol sees alice's sales: %r" % so)
    sp = expect(h, h.http("GET", "/seller/profile", None, user("carol")), 200, "carol's profile")
    check(sp["seller_id"] == "carol" and sp["offers"]["total"] == 0
          and sp["month"]["committed_wh"] == 0, "carol's seller profile %r" % sp)
    for path in ("/api/profile", "/api/trust"):
        doc = expect(h, h.http("GET", path, None, user("carol")), 200, path)
        check(doc["participant_id"] == "carol", "%s as carol: %r" % (path, doc))
    nl = expect(h, h.http("GET", "/api/network/orders", None, user("mallory")), 200, "list")
    check(nl["orders"] == [], "mallory lists dave's network orders: %r" % nl)

    # an Idempotency-Key is the user's own: carol's "k-shared" is not bob's
    key = "k-shared-" + h.run
    b = expect(h, h.http("POST", "/api/buy", wd.req, user("bob", key)), 201, "bob buys (key)")
    c = expect(h, h.http("POST", "/api/buy", wd.req, user("carol", key)), 201, "carol (same key)")
    check(c["buyer_id"] == "carol" and c["order_id"] != b["order_id"]
          and c["command_id"] != b["command_id"], "carol got bob's answer: %r" % c)
    again = expect(h, h.http("POST", "/api/buy", wd.req, user("bob", key)), 201, "bob retries")
    check(again == b, "bob's retry after carol's %r != %r" % (again, b))
    H.log("another user's resource: %d cells" % len(cells))


def invalid_input_cells(h, wd):
    """400 with the code and the field; nothing on Kafka, nothing sent."""
    res = wd.reserved["order_id"]
    net = "/api/network/orders/" + wd.net_order
    nb = wd.net_body
    cells = []
    for path in ("/api/confirm", "/api/cancel"):
        cells += [("POST", path, b"{\"order_id\": ", 400, "malformed_json", "body"),
                  ("POST", path, b"[]", 400, "malformed_json", "body"),
                  ("POST", path, {}, 400, "missing_field", "order_id"),
                  ("POST", path, {"order_id": 5}, 400, "wrong_type", "order_id"),
                  ("POST", path, {"order_id": res, "reason": "x"}, 400, "unknown_field",
                   "reason")]
    for path in ("/api/select", "/api/init", "/api/buy", "/api/discover"):
        cells += [("POST", path, b"{nope", 400, "malformed_json", "body"),
                  ("POST", path, dict(wd.req, delivery_end=wd.req["delivery_start"]), 400,
                   "window_inverted", "delivery_end")]
    cells += [
        ("POST", "/seller/offers", b"{nope", 400, "malformed_json", "body"),
        ("POST", "/seller/orders/%s/cancel" % wd.fill, b"{nope", 400, "malformed_json", "body"),
        ("PUT", "/api/profile", {"production_capacity_wh_per_month": True}, 400, "wrong_type",
         "production_capacity_wh_per_month"),
        ("GET", "/api/orders/no%20such", None, 404, "not_found", "order_id"),
        ("GET", "/api/commands/no%20such", None, 404, "not_found", "command_id"),
        ("GET", "/api/commands/00000000-0000-4000-8000-000000000000", None, 404, "not_found",
         "command_id"),
        ("GET", "/api/orders?limit=101", None, 400, "invalid_field", "limit"),
        ("GET", "/api/trust?offset=-1", None, 400, "invalid_field", "offset"),
        ("POST", "/api/network/discover", {"expression": 5}, 400, "wrong_type", "expression"),
        ("POST", "/api/network/discover", {"expression": F.DEG_EXPRESSION, "bpp_id": "x"}, 400,
         "unknown_field", "bpp_id"),
        ("POST", "/api/network/discover", b"{nope", 400, "malformed_json", "body"),
        ("POST", "/api/network/orders", b"{nope", 400, "malformed_json", "body"),
        ("POST", "/api/network/orders", dict(nb, colour="red"), 400, "unknown_field", "colour"),
        ("POST", "/api/network/orders", {k: v for k, v in nb.items() if k != "bpp_id"}, 400,
         "missing_field", "bpp_id"),
        ("POST", "/api/network/orders", dict(nb, lines="all"), 400, "invalid_field", "lines"),
        ("POST", "/api/network/orders", dict(nb, lines=[{"offer_id": "offer-energy-001",
                                                        "quantity_wh": 0}]),
         400, "invalid_field", "quantity_wh"),
        ("POST", "/api/network/orders", dict(nb, lines=[{"offer_id": "offer-energy-001",
                                                        "quantity_wh": "2000"}]),
         400, "wrong_type", "quantity_wh"),
        ("POST", "/api/network/orders", dict(nb, bpp_id="bpp.unknown.test"), 400,
         "invalid_field", "offer_id"),
        ("POST", net + "/pay", None, 404, "not_found", None),
        ("GET", "/api/network/orders/no-such-order", None, 404, "not_found", "order_id"),
        ("POST", "/api/network/orders/no-such-order/init", None, 404, "not_found", "order_id"),
        ("POST", net + "/confirm", None, 409, "wrong_state", "state"),
        ("POST", net + "/init", {"force": True}, 400, "unknown_field", "force"),
        ("POST", net + "/init", b"{nope", 400, "malformed_json", "body"),
    ]
    before, counts = settle(h, wd), command_counts(h)
    for method, path, body, status, code, field in cells:
        expect_error(h, h.http(method, path, body, user("bob" if "network" not in path
                                                         else "dave")),
                     status, code, field, "%s %s %r" % (method, path, body))
    # a malformed Idempotency-Key is refused before anything is done
    for path, body in (("/api/select", wd.req), ("/api/confirm", {"order_id": res}),
                       ("/api/network/orders", nb)):
        for key in ("k" * 129, "caf\u00e9".encode().decode("latin-1"), "a b"):
            expect_error(h, h.http("POST", path, body, user("dave", key)), 400, "invalid_field",
                         "Idempotency-Key", "%s with key %r" % (path, key))
    for op_body, code, field in (({"participant_id": "bob", "amount": 0, "reference": "r"},
                                  "invalid_field", "amount"),
                                 ({"participant_id": "bob", "amount": 5, "reference": ""},
                                  "invalid_field", "reference")):
        expect_error(h, h.http("POST", "/api/operator/deposits", op_body, OP), 400, code, field,
                     "deposit %r" % op_body)
    for q in ("limit=0", "limit=101", "limit=x"):
        expect_error(h, h.http("GET", "/api/operator/rebuild?" + q, None, OP), 400,
                     "invalid_field", "limit", "rebuild status ?" + q)
    check(command_counts(h) == counts, "invalid requests reached Kafka: %r -> %r"
          % (counts, command_counts(h)))
    after = wd.snapshot(h)
    check(after == before, "invalid requests changed %r into %r" % (before, after))
    H.log("invalid input: %d cells" % len(cells))


def retry_cells(h, wd, w):
    """Idempotency-Key on every POST: the same answer, one effect; another
    body with the key: 422, no effect."""
    P = "energy.p2p."

    def ce_count(topic, ce_type):
        return len([r for r in H.read_all(h.topic(topic), isolation="read_uncommitted")
                    if r.headers.get("ce_type") == P + ce_type])

    def cell(path, body, other, who, status, topic, ce_type, method="POST"):
        key = "k-%s-%s" % (path.strip("/").replace("/", "-"), h.run)
        hdrs = user(who, key)
        n = ce_count(topic, ce_type)
        first = expect(h, h.http(method, path, body, hdrs), status, "%s %s" % (method, path))
        raw = h.last_http[2]
        expect(h, h.http(method, path, body, hdrs), status, "retry %s %s" % (method, path))
        check(h.last_http[2] == raw, "the retry of %s answered %r, first %r"
              % (path, h.last_http[2][:300], raw[:300]))
        check(ce_count(topic, ce_type) == n + 1, "%s with one key appended %d %s"
              % (path, ce_count(topic, ce_type) - n, ce_type))
        if other is not None:  # refused before anything is appended
            counts = command_counts(h)
            expect_error(h, h.http(method, path, other, hdrs), 422, "idempotency_key_reused",
                         "Idempotency-Key", "%s: the key with another body" % path)
            check(command_counts(h) == counts, "a reused key on %s appended a command" % path)
        return first

    req = dict(wd.req, quantity_wh=1000)  # an offer's minimum order is 1 kWh
    cell("/api/select", req, dict(req, quantity_wh=2000), "carol", 200, "orders", "order.quote.v1")
    r1 = cell("/api/init", req, dict(req, allow_partial=True), "carol", 201, "orders",
              "order.reserve.v1")
    r2 = expect(h, h.http("POST", "/api/init", req, user("carol")), 201, "carol reserves again")
    cell("/api/confirm", {"order_id": r1["order_id"]}, {"order_id": r2["order_id"]}, "carol",
         200, "orders", "order.confirm.v1")
    cell("/api/cancel", {"order_id": r2["order_id"]}, {"order_id": r1["order_id"]}, "carol",
         200, "orders", "order.cancel.v1")
    cell("/api/buy", req, dict(req, source_type="SOLAR"), "carol", 201, "orders",
         "order.buy.v1")
    offer = {"source_type": "BATTERY", "quantity_wh": 2000, "price_per_kwh": 700,
             "delivery_start": w["start"], "delivery_end": w["end"], "meter_id": "MTR-K"}
    cell("/seller/offers", offer, dict(offer, price_per_kwh=701), "erin", 201, "offers",
         "offer.submit.v1")
    dep = {"participant_id": "erin", "amount": 1234, "reference": "bank-k"}
    hdrs = dict(OP, **{"Idempotency-Key": "k-dep-" + h.run})
    n = ce_count("participants", "wallet.deposit.v1")
    expect(h, h.http("POST", "/api/operator/deposits", dep, hdrs), 201, "deposit")
    raw = h.last_http[2]
    expect(h, h.http("POST", "/api/operator/deposits", dep, hdrs), 201, "deposit retry")
    check(h.last_http[2] == raw and ce_count("participants", "wallet.deposit.v1") == n + 1,
          "deposit retry: %r, %d commands" % (h.last_http[2][:300],
                                              ce_count("participants", "wallet.deposit.v1") - n))
    expect_error(h, h.http("POST", "/api/operator/deposits", dict(dep, amount=1235), hdrs), 422,
                 "idempotency_key_reused", "Idempotency-Key", "deposit, another body")

    # no body: the key is scoped to the path, a retry is the same answer
    key = "k-nobody-" + h.run
    n = ce_count("offers", "offer.withdraw.v1")
    a = expect(h, h.http("DELETE", "/seller/offers/" + wd.spare["offer_id"], None,
                         user("alice", key)), 200, "withdraw with a key")
    raw = h.last_http[2]
    expect(h, h.http("DELETE", "/seller/offers/" + wd.spare["offer_id"], None,
                     user("alice", key)), 200, "withdraw retry")
    check(h.last_http[2] == raw, "withdraw retry answered %r" % h.last_http[2][:300])
    b = expect(h, h.http("DELETE", "/seller/offers/" + wd.spare2["offer_id"], None,
                         user("alice", key)), 200, "the key on another offer")
    check(a["offer_id"] == wd.spare["offer_id"] and b["offer_id"] == wd.spare2["offer_id"]
          and ce_count("offers", "offer.withdraw.v1") == n + 2,
          "withdrawals %r %r" % (a, b))
    sold = expect(h, h.http("POST", "/api/buy", {"lines": [
        {"offer_id": wd.offer["offer_id"], "quantity_wh": 1000}]}, user("carol")), 201,
        "carol buys a line")
    path = "/seller/orders/%s/cancel" % sold["lines"][0]["fill_id"]
    n = ce_count("orders", "sale.cancel.v1")
    expect(h, h.http("POST", path, None, user("alice", key)), 200, "sale cancel with a key")
    raw = h.last_http[2]
    expect(h, h.http("POST", path, {}, user("alice", key)), 200, "sale cancel retry ({})")
    check(h.last_http[2] == raw and ce_count("orders", "sale.cancel.v1") == n + 1,
          "sale cancel retry answered %r" % h.last_http[2][:300])

    # a refused request keeps nothing: its key then serves a valid body
    key = "k-refused-" + h.run
    expect_error(h, h.http("POST", "/api/buy", dict(req, quantity_wh=0), user("carol", key)),
                 400, "invalid_field", "quantity_wh", "buy 0 Wh with a key")
    expect(h, h.http("POST", "/api/buy", req, user("carol", key)), 201, "the key, a valid buy")

    # reads take a key and are still reads
    for path, body in (("/api/discover", wd.req),):
        n = command_counts(h)
        first = expect(h, h.http("POST", path, body, user("bob", "k-read")), 200, path)
        again = expect(h, h.http("POST", path, body, user("bob", "k-read")), 200, path)
        check(first == again and command_counts(h) == n, "%s with a key: %r / %r"
              % (path, first, again))
    H.log("Idempotency-Key: every command POST and DELETE")


def network_retry_cells(h, wd):
    """POST /api/network/orders[/{id}/action] with an Idempotency-Key: one
    order, one request to the other platform, the same answer."""
    bpp = wd.bpp
    key = user("dave", "k-net-" + h.run)
    body = dict(wd.net_body, lines=[{"offer_id": "offer-energy-002", "quantity_wh": 10000}])
    orders = len(expect(h, h.http("GET", "/api/network/orders", None, user("dave")), 200,
                        "list")["orders"])
    selects = len(bpp.callbacks("select"))
    first = expect(h, h.http("POST", "/api/network/orders", body, key), 201, "select with a key")
    raw = h.last_http[2]
    expect(h, h.http("POST", "/api/network/orders", body, key), 201, "select retry")
    check(h.last_http[2] == raw, "the select retry answered %r, first %r"
          % (h.last_http[2][:300], raw[:300]))
    expect_error(h, h.http("POST", "/api/network/orders", dict(body, meter_id="der://meter/2"),
                           key), 422, "idempotency_key_reused", "Idempotency-Key",
                 "select, the key with another body")
    lst = expect(h, h.http("GET", "/api/network/orders", None, user("dave")), 200, "list")
    check(len(lst["orders"]) == orders + 1 and len(bpp.callbacks("select")) == selects + 1,
          "one keyed select made %d orders and sent %d selects"
          % (len(lst["orders"]) - orders, len(bpp.callbacks("select")) - selects))
    oid = first["order_id"]
    for action, state in (("init", "INITIALIZED"), ("confirm", "CONFIRMED"),
                          ("status", "CONFIRMED"), ("cancel", "CANCELLED")):
        path = "/api/network/orders/%s/%s" % (oid, action)
        hdrs = user("dave", "k-net-%s-%s" % (action, h.run))
        sent = len(bpp.callbacks(action))
        o = expect(h, h.http("POST", path, None, hdrs), 200, action)
        raw = h.last_http[2]
        check(o["state"] == state, "%s: %r" % (action, o))
        expect(h, h.http("POST", path, None, hdrs), 200, "retry " + action)
        check(h.last_http[2] == raw, "the %s retry answered %r" % (action, h.last_http[2][:300]))
        check(len(bpp.callbacks(action)) == sent + 1, "a keyed %s sent %d requests"
              % (action, len(bpp.callbacks(action)) - sent))

    # a refused request keeps nothing: its key then serves a valid body
    key = user("dave", "k-net-refused-" + h.run)
    bad = dict(body, lines=[{"offer_id": "offer-energy-002", "quantity_wh": 1000}])
    expect_error(h, h.http("POST", "/api/network/orders", bad, key), 400, "invalid_field",
                 "quantity_wh", "select below the offer's minimum")
    selects = len(bpp.callbacks("select"))
    expect(h, h.http("POST", "/api/network/orders", body, key), 201, "the key, a valid body")
    check(len(bpp.callbacks("select")) == selects + 1, "the valid select was not sent")

    # concurrent requests with one key: one order, one select
    key = user("dave", "k-net-race-" + h.run)
    selects = len(bpp.callbacks("select"))
    orders = len(expect(h, h.http("GET", "/api/network/orders", None, user("dave")), 200,
                        "list")["orders"])
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(
        h.http("POST", "/api/network/orders", body, key))) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    made = {doc["order_id"] for st, doc in answers if st == 201}
    check(len(answers) == 5 and len(made) == 1
          and all(st == 201 or (st == 202 and doc["status"] == "PENDING")
                  for st, doc in answers), "5 concurrent selects with one key: %r" % answers)
    lst = expect(h, h.http("GET", "/api/network/orders", None, user("dave")), 200, "list")
    check(len(lst["orders"]) == orders + 1 and len(bpp.callbacks("select")) == selects + 1,
          "5 concurrent selects with one key made %d orders, sent %d selects"
          % (len(lst["orders"]) - orders, len(bpp.callbacks("select")) - selects))
    check(not bpp.bad_signatures and not bpp.problems,
          "BPP problems: %r %r" % (bpp.bad_signatures, bpp.problems))
    H.log("Idempotency-Key: the network API")


def main():
    with H.Harness() as h:
        h.create_db()
        h.start_engine()
        h.start_projector()
        our = B.OurNode("bap.p2p-matrix.test")
        port = H.free_port()
        bpp = FakeBPP("bpp.remote-matrix.test", our, port).start()
        bpp.trust(our)
        try:
            reg = B.write_registry_file(h, [bpp], our)
            h.start_gateway(port=port, P2P_OPERATOR_TOKEN=TOKEN, P2P_DECISION_WAIT_MS=15000,
                            BECKN_BAP_WAIT_MS=10000, **our.env(reg, port))
            B.start_beckn_worker(h, our, reg)
            plain = h.start_gateway(dev_auth=False, primary=False, log_name="gateway-noauth",
                                    P2P_OPERATOR_TOKEN=TOKEN)
            H.wait_until(lambda: H.log_events(h.engine.log_text(), "engine_started"), 60, 0.05,
                         what="engine_started")
            H.wait_until(lambda: h.table_exists("network_order_requests"), timeout=60,
                         what="migration 004")
            w = H.future_window(10, 2)
            wd = setup(h, bpp, w)
            wd.deposit_command = H.read_all(h.topic("participants"))[0].value["command_id"]
            unauthenticated_cells(h, wd, plain)
            other_user_cells(h, wd)
            invalid_input_cells(h, wd)
            retry_cells(h, wd, w)
            network_retry_cells(h, wd)
            check(h.gateway.alive(), "the gateway died")
        finally:
            bpp.stop()
    print("ok")


if __name__ == "__main__":
    main()
