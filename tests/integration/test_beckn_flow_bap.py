#!/usr/bin/python3
"""Our buyers buy from another platform: our BAP -> their BPP.

A fake remote BPP (beckn_peer: its own key, real HTTP, verifying every
request's signature over the exact bytes) publishes the DEG catalog to our
CDS; our buyer discovers it through our API (/api/network/discover, our
own CDS, the worker's outbox), then select -> init -> confirm -> status ->
cancel through /api/network/orders. The BPP checks each request (signer,
context, the accepted offers as discovered, total_quantity = Σ lines,
payment = Σ qty × price exactly) and answers with signed callbacks; our
side checks each callback (signature, context, arithmetic) before it moves
the order, and the API shows state, amounts and the requests sent.
Also: a callback with a wrong total or amount is NACKed 400 naming the path
and recorded; callbacks matching no request of ours are NACKed 30008; a
callback signed by another key is refused 401; an unsolicited on_update is
accepted; a BPP's NACK of select gives 502 and a FAILED order; actions in
the wrong state are 409; orders are visible only to their owner.
"""
import copy
import os
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check, wait_until  # noqa: E402
import beckn_peer as B  # noqa: E402
import bap_fixtures as F  # noqa: E402
from bap_fixtures import D, dec  # noqa: E402

BUYER = "dave"
PRICES = {"offer-energy-001": D("0.15"), "offer-energy-002": D("0.12")}  # INR per kWh


class FakeBPP(B.BecknPeer):
    """A remote BPP: ACKs each request, then answers it with a signed
    callback to our /beckn/on_<action>. `tamper[action]` edits the callback
    order before it is sent (once). Our synchronous answers to its callbacks
    are kept in self.replies[action]."""

    def __init__(self, subscriber_id, our, our_port):
        super().__init__(subscriber_id, role="BPP")
        self.our, self.our_port = our, our_port
        self.tamper = {}
        self.replies = {}
        self.orders = {}  # transaction -> last order sent
        self.problems = []
        self.seq = 0

    def _handle(self, path, headers, raw):
        status, answer = super()._handle(path, headers, raw)
        with self._lock:
            r = self.received[-1]
        if status == 200 and r.action in ("select", "init", "confirm", "status", "cancel"):
            threading.Thread(target=self._respond, args=(r,), daemon=True).start()
        return status, answer

    def _respond(self, r):
        try:
            time.sleep(0.2)  # after our ACK has gone out
            ctx = r.body["context"]
            order = self.answer(r.action, ctx, r.body["message"]["order"])
            fn = self.tamper.pop(r.action, None)
            if fn:
                fn(order)
            self.orders[ctx["transaction_id"]] = order
            body = {"context": F.reply_context(ctx, "on_" + r.action),
                    "message": {"order": order}}
            st, ans, _, _ = self.send(self.our_port, "on_" + r.action, body)
            self.replies.setdefault(r.action, []).append((st, ans, body))
        except Exception as e:  # pylint: disable=broad-except
            self.problems.append("%s: %r" % (r.action, e))

    def answer(self, action, ctx, order):
        txn = ctx["transaction_id"]
        if action in ("status", "cancel"):
            o = copy.deepcopy(self.orders[txn])
            check(order == {"beckn:id": o["beckn:id"]}, "%s order %r" % (action, order))
            o["beckn:orderStatus"] = "INPROGRESS" if action == "status" else "CANCELLED"
            if action == "cancel":
                o["beckn:payment"]["beckn:paymentStatus"] = "REFUNDED"
            return o
        o = copy.deepcopy(order)
        if action == "select":
            total = D(0)
            for it in o["beckn:orderItems"]:
                price = dec(it["beckn:acceptedOffer"]["beckn:offerAttributes"]["beckn:price"]["value"])
                it["beckn:price"] = {"value": float(price), "currency": "INR"}
                total += dec(it["beckn:quantity"]["unitQuantity"]) * price
            o["beckn:orderValue"] = {"currency": "INR", "value": float(total)}
        elif action == "init":
            o["beckn:payment"]["beckn:paymentStatus"] = "AUTHORIZED"
        elif action == "confirm":
            self.seq += 1
            o["beckn:id"] = "order-remote-%d" % self.seq
            o["beckn:orderStatus"] = "CONFIRMED"
        return o


def check_request(r, action, our, bpp, txn=None):
    """A request our BAP sent: signature by our key, context."""
    F.check_signed_by(r, our, action)
    c = r.body["context"]
    check(r.path == "/beckn/" + action, "%s path %r" % (action, r.path))
    check(c["action"] == action and c["bap_id"] == our.subscriber_id and c["bap_uri"] == our.uri
          and c["bpp_id"] == bpp.subscriber_id and c["bpp_uri"] == bpp.uri and
          c["version"] == "2.0.0" and c["domain"] == B.DOMAIN and c["ttl"] == "PT30S",
          "%s context %r" % (action, c))
    H.rfc3339_to_ms(c["timestamp"])
    if txn:
        check(c["transaction_id"] == txn, "%s transaction %r != %r" % (action, c["transaction_id"], txn))
    return c


def last_request(bpp, action, n=1):
    return wait_until(lambda: (bpp.callbacks(action) or [None] * n)[-1] if len(bpp.callbacks(action)) >= n
                      else None, timeout=30, what="%s at the BPP" % action)


def api(h, method, path, body=None, user=BUYER):
    return h.http(method, path, body, headers={"X-Dev-User": user} if user else {})


def check_callback_reply(bpp, action, status=200, code=None, path=None):
    st, ans, body = wait_until(lambda: (bpp.replies.get(action) or [None])[-1], timeout=30,
                               what="our answer to on_" + action)
    if status == 200:
        check(st == 200 and ans == {"message": {"ack": {"status": "ACK"}}},
              "on_%s not ACKed: %d %r" % (action, st, ans))
    else:
        err = ans["message"]["error"]
        check(st == status and ans["message"]["ack"]["status"] == "NACK" and
              err["code"] == code and err["paths"] == path,
              "on_%s: expected %d %s %s, got %d %r" % (action, status, code, path, st, ans))
    return body


def main():
    with H.Harness() as h:
        h.create_db()
        h.start_engine()
        h.start_projector()
        our = B.OurNode("bap.p2p-energy.test")
        port = H.free_port()
        bpp = FakeBPP("bpp.remote-platform.test", our, port).start()
        intruder = B.BecknPeer("bap.intruder.test", role="BAP").start()
        bpp.trust(our)
        try:
            reg = B.write_registry_file(h, [bpp, intruder], our)
            h.start_gateway(port=port, BECKN_BAP_WAIT_MS=10000, **our.env(reg, port))
            B.start_beckn_worker(h, our, reg)
            wait_until(lambda: h.table_exists("network_order_requests"), timeout=60,
                       what="migration 004")
            w = H.future_window(10, 6)

            # the remote BPP publishes its catalog to our CDS
            body = F.publish_body(bpp, [F.deg_catalog(bpp, w)])
            st, ans, _, _ = bpp.send(h.port, "catalog_publish", body, path="/beckn/catalog/publish")
            check(st == 200, "publish: %d %r" % (st, ans))
            bpp.wait_callback("on_publish", body["context"]["transaction_id"])

            # our buyer discovers it through our API
            st, res = api(h, "POST", "/api/network/discover", {"expression": F.DEG_EXPRESSION})
            check(st == 200 and res["answered"], "discover: %d %r" % (st, res))
            flat = {o["offer_id"]: o for o in res["offers"]}
            check(set(flat) == {"offer-energy-001", "offer-energy-002"}, "found %r" % sorted(flat))
            discovered = F.catalog_offers(res["catalogs"])

            # select: 15 kWh @ 0.15 + 10 kWh @ 0.12 = 3.45 INR
            lines = [{"offer_id": "offer-energy-001", "item_id": "energy-resource-solar-001",
                      "quantity_wh": 15000},
                     {"offer_id": "offer-energy-002", "quantity_wh": 10000}]
            st, o = api(h, "POST", "/api/network/orders",
                        {"bpp_id": bpp.subscriber_id, "meter_id": "der://meter/98765456",
                         "lines": lines})
            check(st == 201, "select: %d %r" % (st, o))
            r = last_request(bpp, "select")
            c = check_request(r, "select", our, bpp)
            txn = c["transaction_id"]
            check(o["transaction_id"] == txn and o["state"] == "QUOTED" and
                  o["last_action"] == "on_select", "order after select %r" % o)
            sel = r.body["message"]["order"]
            check(sel["beckn:orderStatus"] == "CREATED" and sel["beckn:seller"] ==
                  "provider-solar-farm-001" and sel["beckn:buyer"]["beckn:id"] == BUYER,
                  "select order %r" % sel)
            items = sel["beckn:orderItems"]
            check([it["beckn:acceptedOffer"] for it in items] ==
                  [discovered["offer-energy-001"][1], discovered["offer-energy-002"][1]],
                  "accepted offers are not the discovered ones")
            check([it["beckn:orderedItem"] for it in items] ==
                  ["energy-resource-solar-001", "energy-resource-solar-002"], "ordered items")
            check([dec(it["beckn:quantity"]["unitQuantity"]) for it in items] == [D(15), D(10)] and
                  all(it["beckn:quantity"]["unitText"] == "kWh" for it in items), "quantities")
            check(items[0]["beckn:orderItemAttributes"]["providerAttributes"]["meterId"] ==
                  "der://meter/98765456", "buyer meter %r" % items[0]["beckn:orderItemAttributes"])
            check(dec(sel["beckn:orderAttributes"]["total_quantity"]) == D(25) and
                  sel["beckn:orderAttributes"]["bap_id"] == our.subscriber_id,
                  "select orderAttributes %r" % sel["beckn:orderAttributes"])
            check_callback_reply(bpp, "select")
            check(o["total_quantity_wh"] == 25000 and o["amount_due"] == 345 and o["currency"] == "INR",
                  "quote %r" % o)
            check([(l["offer_id"], l["quantity_wh"], l["price_per_kwh"], l["amount"]) for l in o["lines"]]
                  == [("offer-energy-001", 15000, 15, 225), ("offer-energy-002", 10000, 12, 120)],
                  "lines %r" % o["lines"])
            oid = o["order_id"]

            # the wrong state
            st, e = api(h, "POST", "/api/network/orders/%s/confirm" % oid)
            check(st == 409 and e["error"]["code"] == "wrong_state", "early confirm: %d %r" % (st, e))
            # the owner only
            st, _ = api(h, "GET", "/api/network/orders/" + oid, user="mallory")
            check(st == 404, "another user sees the order: %d" % st)
            st, lst = api(h, "GET", "/api/network/orders", user="mallory")
            check(st == 200 and lst["orders"] == [], "another user's list %r" % lst)

            # init: payment INITIATED for 3.45 INR; on_init with a wrong amount is refused
            def wrong_amount(order):
                order["beckn:payment"]["beckn:amount"]["value"] = 3.46
            bpp.tamper["init"] = wrong_amount
            st, o = api(h, "POST", "/api/network/orders/%s/init" % oid)
            check(st == 202 and o["state"] == "INITIALIZING", "init with a bad answer: %d %r" % (st, o))
            r = last_request(bpp, "init")
            check_request(r, "init", our, bpp, txn)
            pay = r.body["message"]["order"]["beckn:payment"]
            check(pay["beckn:paymentStatus"] == "INITIATED" and pay["beckn:amount"] ==
                  {"currency": "INR", "value": 3.45} and pay["beckn:beneficiary"] == "BPP",
                  "init payment %r" % pay)
            check(r.body["message"]["order"]["beckn:fulfillment"]["beckn:mode"] == "DELIVERY",
                  "init fulfillment")
            check_callback_reply(bpp, "init", 400, "30000",
                                 "message.order.beckn:payment.beckn:amount.value")
            st, o = api(h, "GET", "/api/network/orders/" + oid)
            check(o["state"] == "INITIALIZING" and o["last_error"]["paths"] ==
                  "message.order.beckn:payment.beckn:amount.value", "refusal recorded %r" % o)
            # the BPP sends a correct on_init for the same request
            good = copy.deepcopy(bpp.replies["init"][-1][2])
            good["message"]["order"]["beckn:payment"]["beckn:amount"]["value"] = 3.45
            good["context"]["message_id"] = "msg-on-init-" + uuid.uuid4().hex
            st, ans, _, _ = bpp.send(h.port, "on_init", good)
            check(st == 200, "corrected on_init: %d %r" % (st, ans))
            st, o = api(h, "GET", "/api/network/orders/" + oid)
            check(o["state"] == "INITIALIZED" and o["payment_status"] == "AUTHORIZED" and
                  o["last_error"] is None and o["amount_due"] == 345, "after on_init %r" % o)
            bpp.orders[txn] = good["message"]["order"]

            # an on_confirm before any confirm, and one for a foreign transaction
            early = {"context": F.reply_context(c, "on_confirm"), "message": good["message"]}
            early["context"]["transaction_id"] = txn
            st, ans, _, _ = bpp.send(h.port, "on_confirm", early)
            check(st == 400 and ans["message"]["error"]["code"] == "30008",
                  "unrequested on_confirm: %d %r" % (st, ans))
            early["context"] = dict(early["context"], transaction_id="txn-unknown",
                                    message_id="m-" + uuid.uuid4().hex)
            st, ans, _, _ = bpp.send(h.port, "on_confirm", early)
            check(st == 400 and ans["message"]["error"]["code"] == "30008",
                  "foreign on_confirm: %d %r" % (st, ans))
            # signed by someone who is not the context's bpp_id
            early["context"] = dict(early["context"], transaction_id=txn,
                                    message_id="m-" + uuid.uuid4().hex)
            st, ans, _, _ = bpp.send(h.port, "on_confirm", early, signer=intruder)
            check(st == 401, "on_confirm signed by another key: %d %r" % (st, ans))

            # confirm
            st, o = api(h, "POST", "/api/network/orders/%s/confirm" % oid)
            check(st == 200 and o["state"] == "CONFIRMED" and o["remote_order_id"] == "order-remote-1"
                  and o["remote_status"] == "CONFIRMED", "confirm: %d %r" % (st, o))
            r = last_request(bpp, "confirm")
            check_request(r, "confirm", our, bpp, txn)
            check(r.body["message"]["order"] == good["message"]["order"],
                  "confirm must carry the on_init order")
            check_callback_reply(bpp, "confirm")

            # status
            st, o = api(h, "POST", "/api/network/orders/%s/status" % oid)
            check(st == 200 and o["state"] == "CONFIRMED" and o["remote_status"] == "INPROGRESS",
                  "status: %d %r" % (st, o))
            check_request(last_request(bpp, "status"), "status", our, bpp, txn)
            check_callback_reply(bpp, "status")

            # unsolicited on_update (curtailment)
            upd = copy.deepcopy(bpp.orders[txn])
            upd["beckn:orderStatus"] = "PARTIALLYFULFILLED"
            body = {"context": F.reply_context(c, "on_update"), "message": {"order": upd}}
            st, ans, _, _ = bpp.send(h.port, "on_update", body)
            check(st == 200, "unsolicited on_update: %d %r" % (st, ans))
            st, o = api(h, "GET", "/api/network/orders/" + oid)
            check(o["remote_status"] == "PARTIALLYFULFILLED" and o["last_action"] == "on_update",
                  "after on_update %r" % o)
            # an on_update whose total does not add up
            upd["beckn:orderAttributes"]["total_quantity"] = 24.0
            body = {"context": F.reply_context(c, "on_update"), "message": {"order": upd}}
            st, ans, _, _ = bpp.send(h.port, "on_update", body)
            check(st == 400 and ans["message"]["error"]["paths"] ==
                  "message.order.beckn:orderAttributes.total_quantity",
                  "on_update with a wrong total: %d %r" % (st, ans))

            # cancel
            st, o = api(h, "POST", "/api/network/orders/%s/cancel" % oid)
            check(st == 200 and o["state"] == "CANCELLED" and o["payment_status"] == "REFUNDED"
                  and o["refund"] == 345 and o["amount_due"] == 345,
                  "cancel: %d %r" % (st, o))
            check_request(last_request(bpp, "cancel"), "cancel", our, bpp, txn)
            check_callback_reply(bpp, "cancel")
            check([(q["action"], q["ack"], q["answered_at"] is not None) for q in o["requests"]] ==
                  [("select", "ACK", True), ("init", "ACK", True), ("confirm", "ACK", True),
                   ("status", "ACK", True), ("cancel", "ACK", True)], "requests %r" % o["requests"])

            # a select the BPP refuses: 502, FAILED
            bpp.answer_next("select", 400, B.nack("40002", "item quantity unavailable"))
            st, e = api(h, "POST", "/api/network/orders",
                        {"bpp_id": bpp.subscriber_id, "meter_id": "der://meter/1",
                         "lines": [{"offer_id": "offer-energy-001", "quantity_wh": 2000}]})
            check(st == 502 and e["error"]["code"] == "peer_refused" and "40002" in e["error"]["message"],
                  "refused select: %d %r" % (st, e))
            # an on_select with a wrong total_quantity is NACKed; the order waits
            def wrong_total(order):
                order["beckn:orderAttributes"]["total_quantity"] = 2.5
            bpp.tamper["select"] = wrong_total
            st, o2 = api(h, "POST", "/api/network/orders",
                         {"bpp_id": bpp.subscriber_id, "meter_id": "der://meter/1",
                          "lines": [{"offer_id": "offer-energy-001", "quantity_wh": 2000}]})
            check_callback_reply(bpp, "select", 400, "30000",
                                 "message.order.beckn:orderAttributes.total_quantity")
            check(st == 202 and o2["state"] == "SELECTING", "select with a bad answer: %d %r" % (st, o2))
            # bad requests
            for body, field in (({"bpp_id": bpp.subscriber_id, "meter_id": "m",
                                  "lines": [{"offer_id": "offer-nope", "quantity_wh": 1000}]}, "offer_id"),
                                ({"bpp_id": bpp.subscriber_id, "meter_id": "m",
                                  "lines": [{"offer_id": "offer-energy-002", "quantity_wh": 5000}]},
                                 "quantity_wh"),
                                ({"bpp_id": bpp.subscriber_id, "meter_id": "m", "lines": []}, "lines"),
                                ({"bpp_id": bpp.subscriber_id, "lines": []}, "meter_id")):
                st, e = api(h, "POST", "/api/network/orders", body)
                check(st == 400 and e["error"]["field"] == field, "bad order %r: %d %r" % (body, st, e))
            st, lst = api(h, "GET", "/api/network/orders")
            states = sorted(x["state"] for x in lst["orders"])
            check(states == ["CANCELLED", "FAILED", "SELECTING"], "orders %r" % states)
            check(not bpp.bad_signatures and not bpp.problems,
                  "BPP problems: %r %r" % (bpp.bad_signatures, bpp.problems))
        finally:
            bpp.stop()
            intruder.stop()


if __name__ == "__main__":
    main()
