#!/usr/bin/python3
"""Another platform's BAP (beckn_peer, its own key, real HTTP) buys from our
BPP: select -> init -> confirm -> status -> cancel through the real gateway,
engine, worker and outbox, with every callback's signature (our key, exact
bytes), shape and arithmetic checked:

* on_select: each line priced (beckn:price = our offer's price per kWh),
  orderValue = UNIT + FEE, UNIT = sum of per-line amounts (q x p, half-up to
  the paisa), total_quantity = sum of the lines;
* on_init: payment AUTHORIZED for the total, our settlement account added to
  the BAP's, the reservation's expiry; the peer answers the first on_init
  with HTTP 500 and the callback still arrives (retry with backoff);
* on_confirm: beckn:id = the order id; on_status from the stored state;
  update (the BAP's platform paid half) -> on_update AUTHORIZED for it; the
  same payment resent with a new message_id (our ACK was lost) -> the same
  on_update, and the engine refuses it (duplicate_payment): no second
  journal entry; the rest paid -> on_update COMPLETED for the total;
  on_cancel: CANCELLED, REFUNDED = total - 10 % cancellation fee per line;
  support -> on_support with our contact;
* a replayed request is refused (409) and causes no second callback; a
  worker killed and restarted re-reads nothing twice (no duplicate outbox
  rows, no duplicate callbacks), and a select taken while the worker is
  down is answered once it is back, exactly once.
"""
import copy
import decimal
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402
import beckn_peer as B  # noqa: E402

D = decimal.Decimal
FEE_RATE = D("0.025")


def half_up(x):
    return int(D(x).quantize(D(1), rounding=decimal.ROUND_HALF_UP))


def money(v):
    """A wire amount (major units) as exact Decimal paise."""
    return (D(repr(v)) * 100).quantize(D(1))


def create_offer(h, seller, price, wh, window):
    st, body = h.http("POST", "/seller/offers",
                      {"source_type": "SOLAR", "quantity_wh": wh,
                       "price_per_kwh": price,
                       "delivery_start": window["start"],
                       "delivery_end": window["end"], "meter_id": "MTR-" + seller},
                      headers={"X-Dev-User": seller})
    # 201: the gateway waited for the engine's decision; 202: still pending
    check(st in (201, 202), "offer not accepted: %d %r" % (st, body))
    decided = body if st == 201 else h.wait_offer_decided(body["offer_id"])
    check(decided["status"] == "LISTED", "offer not listed: %r" % decided)
    return body["offer_id"]


def check_context(cb, action, req_ctx, our):
    c = cb.body["context"]
    check(cb.signer == our.subscriber_id, "%s signed by %r" % (action, cb.signer))
    check(c["action"] == action, "action %r != %r" % (c["action"], action))
    for k in ("transaction_id", "message_id", "bap_id", "bap_uri", "domain"):
        check(c[k] == req_ctx[k], "%s context.%s %r != request's %r"
              % (action, k, c[k], req_ctx[k]))
    check(c["bpp_id"] == our.subscriber_id and c["bpp_uri"] == our.uri,
          "%s bpp %r %r" % (action, c["bpp_id"], c["bpp_uri"]))
    check(c["version"] == "2.0.0", "version %r" % c["version"])
    H.rfc3339_to_ms(c["timestamp"])
    check(cb.path == "/beckn/" + action, "callback path %r" % cb.path)


def check_priced(order, offers, where):
    """offers: {offer_id: (price_per_kwh, wh)}. Returns (unit, fee, total) paise."""
    unit = fee = 0
    for it in order["beckn:orderItems"]:
        oid = it["beckn:acceptedOffer"]["beckn:id"]
        price, wh = offers[oid]
        q = it["beckn:quantity"]
        check(q["unitText"] == "kWh" and D(repr(q["unitQuantity"])) * 1000 == wh,
              "%s quantity of %s: %r (expected %d Wh)" % (where, oid, q, wh))
        p = it["beckn:price"]
        check(money(p["value"]) == price and p["currency"] == "INR",
              "%s price of %s: %r (expected %d paise/kWh)" % (where, oid, p, price))
        line_amount = half_up(D(wh) * price / 1000)
        unit += line_amount
        fee += half_up(line_amount * FEE_RATE)
    ov = order["beckn:orderValue"]
    comps = {c["type"]: money(c["value"]) for c in ov["components"]}
    check(comps.get("UNIT") == unit, "%s UNIT %r != sum of lines %d" % (where, comps, unit))
    check(comps.get("FEE") == fee, "%s FEE %r != %d" % (where, comps, fee))
    check(money(ov["value"]) == unit + fee, "%s orderValue %r != %d" % (where, ov, unit + fee))
    total_kwh = sum(D(repr(it["beckn:quantity"]["unitQuantity"]))
                    for it in order["beckn:orderItems"])
    check(D(repr(order["beckn:orderAttributes"]["total_quantity"])) == total_kwh,
          "%s total_quantity %r != %s" % (where, order["beckn:orderAttributes"], total_kwh))
    return unit, fee, unit + fee


def ack(status, body, where):
    check(status == 200 and body == {"message": {"ack": {"status": "ACK"}}},
          "%s not ACKed: %d %r" % (where, status, body))


def status_until(h, bap, our, txn, order_id, wanted, timeout=60):
    """Asks status until on_status shows beckn:orderStatus `wanted`."""
    deadline = time.time() + timeout
    while True:
        ctx = B.context("status", bap, our, transaction_id=txn)
        st, body, _, _ = bap.send(h.port, "status", {"context": ctx, "message": {"order": {"beckn:id": order_id}}})
        ack(st, body, "status")
        n = len([r for r in bap.callbacks("on_status", txn)
                 if r.body["context"]["message_id"] == ctx["message_id"]])
        cb = H.wait_until(lambda: [r for r in bap.callbacks("on_status", txn)
                                   if r.signer and r.body["context"]["message_id"] == ctx["message_id"]],
                          timeout=30, what="on_status")[0]
        check(n == 0, "on_status arrived before the request")
        o = cb.body["message"]["order"]
        if o["beckn:orderStatus"] == wanted:
            check_context(cb, "on_status", ctx, our)
            return o
        check(time.time() < deadline, "order status stays %r (wanted %r)"
              % (o["beckn:orderStatus"], wanted))
        time.sleep(0.5)


def pay_update(h, bap, our, txn, o, amount, ref, paid_total, status, what):
    """The BAP's platform reports a payment of `amount` paise with txnRef
    `ref` (a new message_id every time); on_update must show `status` for
    `paid_total`."""
    paid = copy.deepcopy(o)
    paid["beckn:payment"]["beckn:paymentStatus"] = "COMPLETED"
    paid["beckn:payment"]["beckn:txnRef"] = ref
    paid["beckn:payment"]["beckn:amount"]["value"] = float(D(amount) / 100)
    ctx = B.context("update", bap, our, transaction_id=txn)
    st, body, _, _ = bap.send(h.port, "update", {"context": ctx, "message": {"order": paid}})
    ack(st, body, what)
    cb = H.wait_until(lambda: [r for r in bap.callbacks("on_update", txn)
                               if r.signer and r.body["context"]["message_id"] == ctx["message_id"]],
                      timeout=30, what="on_update of " + what)[0]
    check_context(cb, "on_update", ctx, our)
    check("error" not in cb.body, "%s: on_update error %r" % (what, cb.body.get("error")))
    up = cb.body["message"]["order"]["beckn:payment"]
    check(up["beckn:paymentStatus"] == status and money(up["beckn:amount"]["value"]) == paid_total,
          "%s: on_update payment %r (expected %s %d)" % (what, up, status, paid_total))


def check_paid_once(h, bap, order_id, payments):
    """The engine applied each payment [(amount, reference)] once and refused
    the resend as duplicate_payment: one order.paid and one receivable_paid
    journal entry per payment, and the platform owes nothing more."""
    def about_order(topic, ce_type, key="order_id"):
        return [r.value for r in H.read_all(h.topic(topic))
                if r.headers.get("ce_type") == "energy.p2p." + ce_type
                and r.value.get(key) == order_id]
    refused = about_order("order-events", "command.rejected.v1", key="subject_id")
    check([(r["reason"]["code"], r["reason"]["field"]) for r in refused]
          == [("duplicate_payment", "reference")], "refusals of %s: %r" % (order_id, refused))
    paid = about_order("order-events", "order.paid.v1")
    check([(e["amount"], e["reference"]) for e in paid] == payments,
          "order.paid of %s: %r (expected %r)" % (order_id, paid, payments))
    entries = [e for e in about_order("journal", "journal.entry.v1", key="ref_id")
               if e["reason"] == "receivable_paid"]
    check(len(entries) == len(payments), "receivable_paid entries of %s: %r" % (order_id, entries))
    account = "receivable:" + bap.subscriber_id
    balance = sum(p["amount"] for r in H.read_all(h.topic("journal"))
                  for p in r.value["postings"] if p["account"] == account)
    check(balance == 0, "%s after paying the total: %d" % (account, balance))


def deliver_and_track(h, bap, our, order, offers, w):
    """A second order is confirmed, the DISCOM reports line 1 delivered in
    full and line 2 half (the rest curtailed); on_status shows the progress:
    PARTIALLYFULFILLED, per-line delivered and curtailed kWh and a meter
    reading whose allocated energy equals the delivered quantity; the BAP
    also gets it pushed as unsolicited on_update callbacks."""
    txn = "txn-" + uuid.uuid4().hex
    ctx = B.context("init", bap, our, transaction_id=txn)
    st, body, _, _ = bap.send(h.port, "init", {"context": ctx, "message": {"order": B.with_payment(order, bap, 1.0)}})
    ack(st, body, "init 2")
    o = bap.wait_callback("on_init", txn).body["message"]["order"]
    ctx = B.context("confirm", bap, our, transaction_id=txn)
    st, body, _, _ = bap.send(h.port, "confirm", {"context": ctx, "message": {"order": o}})
    ack(st, body, "confirm 2")
    cb = bap.wait_callback("on_confirm", txn)
    check("error" not in cb.body, "on_confirm 2 error %r" % cb.body.get("error"))
    order_id = cb.body["message"]["order"]["beckn:id"]
    lines = h.query("select fill_id, offer_id, quantity_wh from beckn_order_lines"
                    " where order_id = %s order by line", (order_id,))
    check(len(lines) == 2, "stored lines %r" % lines)
    delivered = {lines[0]["offer_id"]: (lines[0]["quantity_wh"], 0),
                 lines[1]["offer_id"]: (lines[1]["quantity_wh"] // 2,
                                        lines[1]["quantity_wh"] - lines[1]["quantity_wh"] // 2)}
    prod = H.CommandProducer()
    for ln in lines:
        d, c = delivered[ln["offer_id"]]
        prod.produce(h.topic("deliveries"),
                     {"command_id": str(uuid.uuid4()), "issued_at_ms": w["end_ms"] + 60000,
                      "market": H.MARKET, "fill_id": ln["fill_id"], "delivered_wh": d,
                      "curtailed_wh": c},
                     ce_type="energy.p2p.delivery.report.v1", time_ms=w["end_ms"] + 60000)
    prod.flush()
    so = status_until(h, bap, our, txn, order_id, "PARTIALLYFULFILLED")
    for it in so["beckn:orderItems"]:
        oid = it["beckn:acceptedOffer"]["beckn:id"]
        d, c = delivered[oid]
        fa = it["beckn:orderItemAttributes"]["fulfillmentAttributes"]
        check(fa["deliveryStatus"] == "COMPLETED" and D(repr(fa["deliveredQuantity"])) * 1000 == d,
              "line %s delivery %r (expected %d Wh)" % (oid, fa, d))
        check(D(repr(fa.get("curtailedQuantity", 0))) * 1000 == c,
              "line %s curtailed %r (expected %d Wh)" % (oid, fa, c))
        readings = fa["meterReadings"]
        check(len(readings) == 1 and D(repr(readings[0]["allocatedEnergy"])) == D(repr(fa["deliveredQuantity"])),
              "line %s readings %r" % (oid, readings))
        check(readings[0]["beckn:timeWindow"]["schema:startTime"] == w["start"],
              "reading window %r" % readings[0])
    # the same progress was pushed unsolicited: one on_update per settled
    # line and one when the order settled, each with a new message_id
    pushes = H.wait_until(lambda: len([r for r in bap.callbacks("on_update", txn) if r.signer]) >= 3
                          and bap.callbacks("on_update", txn), timeout=60, what="on_update pushes")
    check(len(pushes) == 3, "on_update pushes: %r" % pushes)
    ids = {r.body["context"]["message_id"] for r in pushes}
    asked = {r.body["context"]["message_id"] for r in bap.callbacks("on_status", txn)}
    check(len(ids) == 3 and not ids & asked, "pushes need new message ids: %r" % ids)
    # (a retried push may arrive after a later one: compare as a set)
    states = sorted(r.body["message"]["order"]["beckn:orderStatus"] for r in pushes)
    check(states == ["INPROGRESS", "INPROGRESS", "PARTIALLYFULFILLED"],
          "pushed order states %r" % states)
    check(all(r.body["message"]["order"]["beckn:id"] == order_id for r in pushes),
          "pushes name the order")


def main():
    with H.Harness() as h:
        h.create_db()
        h.start_engine()
        h.start_projector()
        bap = B.BecknPeer("bap.peer-platform.test").start()
        our = B.OurNode()
        bap.trust(our)
        try:
            reg = B.write_registry_file(h, [bap], our)
            B.start_beckn_gateway(h, our, reg, BECKN_SUPPORT_EMAIL="help@p2p-energy.test")
            B.start_beckn_worker(h, our, reg)
            w = H.future_window(6, 1)
            o1 = create_offer(h, "alice", 651, 5000, w)
            o2 = create_offer(h, "carol", 700, 5000, w)
            offers = {o1: (651, 1500), o2: (700, 2000)}
            items = [B.order_item(o1, 1.5, start=w["start"], end=w["end"]),
                     B.order_item(o2, 2.0, start=w["start"], end=w["end"])]
            order = B.order(bap, our, items, buyer_id="buyer-42")
            txn = "txn-" + uuid.uuid4().hex

            # select -> on_select
            ctx = B.context("select", bap, our, transaction_id=txn)
            st, body, _, _ = bap.send(h.port, "select", {"context": ctx, "message": {"order": order}})
            ack(st, body, "select")
            cb = bap.wait_callback("on_select", txn)
            check_context(cb, "on_select", ctx, our)
            unit, fee, total = check_priced(cb.body["message"]["order"], offers, "on_select")
            check("error" not in cb.body, "on_select carries an error: %r" % cb.body.get("error"))

            # a replay of the same message is refused and sends nothing more
            st, body, _, _ = bap.send(h.port, "select", {"context": ctx, "message": {"order": order}})
            check(st == 409 and body["message"]["ack"]["status"] == "NACK",
                  "replayed select: %d %r" % (st, body))

            # init -> on_init (the first delivery is answered 500)
            bap.answer_next("on_init", 500, B.nack("500", "try again"))
            init_order = B.with_payment(order, bap, float(D(total) / 100))
            ctx = B.context("init", bap, our, transaction_id=txn)
            st, body, _, _ = bap.send(h.port, "init", {"context": ctx, "message": {"order": init_order}})
            ack(st, body, "init")
            cb = bap.wait_callback("on_init", txn)
            check_context(cb, "on_init", ctx, our)
            tries = bap.callbacks("on_init", txn)
            check(len(tries) == 2 and tries[0].status_sent == 500 and tries[0].raw == tries[1].raw,
                  "on_init should arrive twice with the same bytes (500 then ACK): %r" % tries)
            o = cb.body["message"]["order"]
            check_priced(o, offers, "on_init")
            pay = o["beckn:payment"]
            check(pay["beckn:paymentStatus"] == "AUTHORIZED" and money(pay["beckn:amount"]["value"]) == total,
                  "on_init payment %r (expected AUTHORIZED %d)" % (pay, total))
            accounts = [a["beneficiaryId"] for a in
                        pay["beckn:paymentAttributes"]["settlementAccounts"]]
            check(accounts == [bap.subscriber_id, our.subscriber_id],
                  "settlement accounts %r" % accounts)
            check(o["beckn:orderStatus"] == "CREATED", "on_init status %r" % o["beckn:orderStatus"])
            H.rfc3339_to_ms(o["beckn:orderAttributes"]["reservationExpiresAt"])

            # the BAP sends init again (new message_id): the same answer, nothing doubled
            ctx2 = B.context("init", bap, our, transaction_id=txn)
            st, body, _, _ = bap.send(h.port, "init", {"context": ctx2, "message": {"order": init_order}})
            ack(st, body, "init again")
            again = H.wait_until(lambda: [r for r in bap.callbacks("on_init", txn)
                                          if r.body["context"]["message_id"] == ctx2["message_id"]],
                                 timeout=60, what="on_init of the repeated init")[0]
            check("error" not in again.body and again.body["message"]["order"] == o,
                  "repeated init: %r" % again.body)
            check(h.scalar("select count(*) from beckn_orders where transaction_id = %s", (txn,)) == 1,
                  "a repeated init made a second order")

            # confirm -> on_confirm
            ctx = B.context("confirm", bap, our, transaction_id=txn)
            st, body, _, _ = bap.send(h.port, "confirm", {"context": ctx, "message": {"order": o}})
            ack(st, body, "confirm")
            cb = bap.wait_callback("on_confirm", txn)
            check_context(cb, "on_confirm", ctx, our)
            check("error" not in cb.body, "on_confirm error %r" % cb.body.get("error"))
            o = cb.body["message"]["order"]
            order_id = o["beckn:id"]
            check(order_id.startswith("bk-") and len(order_id) <= 56, "order id %r" % order_id)
            check(o["beckn:orderStatus"] == "CONFIRMED", "on_confirm status %r" % o)
            check_priced(o, offers, "on_confirm")

            # status -> on_status (from stored state)
            ctx = B.context("status", bap, our, transaction_id=txn)
            st, body, _, _ = bap.send(h.port, "status", {"context": ctx, "message": {"order": {"beckn:id": order_id}}})
            ack(st, body, "status")
            cb = bap.wait_callback("on_status", txn)
            check_context(cb, "on_status", ctx, our)
            so = cb.body["message"]["order"]
            check(so["beckn:id"] == order_id and so["beckn:orderStatus"] == "CONFIRMED",
                  "on_status order %r" % so)
            for it in so["beckn:orderItems"]:
                fa = it["beckn:orderItemAttributes"]["fulfillmentAttributes"]
                check(fa["@type"] == "EnergyTradeDelivery" and fa["deliveryStatus"] == "PENDING"
                      and fa["deliveredQuantity"] == 0, "on_status delivery %r" % fa)

            # update: the BAP's platform pays what it owes in two parts; the
            # first is sent twice (our ACK was lost) and applied once
            half = total // 2
            refs = ["utr-" + uuid.uuid4().hex[:12], "utr-" + uuid.uuid4().hex[:12]]
            pay_update(h, bap, our, txn, o, half, refs[0], half, "AUTHORIZED", "update")
            pay_update(h, bap, our, txn, o, half, refs[0], half, "AUTHORIZED", "update resent")
            pay_update(h, bap, our, txn, o, total - half, refs[1], total, "COMPLETED", "update 2")
            check_paid_once(h, bap, order_id, [(half, refs[0]), (total - half, refs[1])])

            # cancel -> on_cancel
            ctx = B.context("cancel", bap, our, transaction_id=txn)
            st, body, _, _ = bap.send(h.port, "cancel", {"context": ctx, "message": {"order": {"beckn:id": order_id}}})
            ack(st, body, "cancel")
            cb = bap.wait_callback("on_cancel", txn)
            check_context(cb, "on_cancel", ctx, our)
            co = cb.body["message"]["order"]
            check(co["beckn:orderStatus"] == "CANCELLED" and co["beckn:id"] == order_id,
                  "on_cancel order %r" % co)
            cancel_fee = sum(half_up(half_up(D(wh) * p / 1000) * D("0.10"))
                             for p, wh in offers.values())
            cp = co["beckn:payment"]
            check(cp["beckn:paymentStatus"] == "REFUNDED"
                  and money(cp["beckn:amount"]["value"]) == total - cancel_fee,
                  "on_cancel payment %r (expected REFUNDED %d)" % (cp, total - cancel_fee))

            # support -> on_support with our contact
            ctx = B.context("support", bap, our, transaction_id=txn)
            st, body, _, _ = bap.send(h.port, "support", {"context": ctx, "message": {"refId": order_id, "refType": "ORDER"}})
            ack(st, body, "support")
            cb = bap.wait_callback("on_support", txn)
            check_context(cb, "on_support", ctx, our)
            sup = cb.body["message"]["support"]
            check(sup["@type"] == "beckn:SupportInfo" and sup["email"] == "help@p2p-energy.test"
                  and sup["channels"] == ["EMAIL"], "on_support %r" % sup)

            # restart the worker: nothing is turned into callbacks twice
            before = {a: len(bap.callbacks(a, txn)) for a in
                      ("on_select", "on_init", "on_confirm", "on_status", "on_cancel", "on_support")}
            rows = h.scalar("select count(*) from beckn_outbox")
            h.kill(h.beckn_worker)
            B.start_beckn_worker(h, our, reg)
            time.sleep(3)
            check(h.scalar("select count(*) from beckn_outbox") == rows,
                  "the restarted worker queued callbacks again")
            after = {a: len(bap.callbacks(a, txn)) for a in before}
            check(after == before, "callbacks after restart %r != before %r" % (after, before))

            # a select while the worker is down is answered once it is back
            h.kill(h.beckn_worker)
            txn3 = "txn-" + uuid.uuid4().hex
            ctx = B.context("select", bap, our, transaction_id=txn3)
            st, body, _, _ = bap.send(h.port, "select", {"context": ctx, "message": {"order": order}})
            ack(st, body, "select with the worker down")
            time.sleep(1)
            check(not bap.callbacks("on_select", txn3), "on_select without a worker")
            B.start_beckn_worker(h, our, reg)
            cb = bap.wait_callback("on_select", txn3)
            check_priced(cb.body["message"]["order"], offers, "on_select after the restart")
            time.sleep(2)
            check(len(bap.callbacks("on_select", txn3)) == 1, "on_select sent more than once")

            deliver_and_track(h, bap, our, order, offers, w)
            check(not bap.bad_signatures, "bad signatures: %r" % bap.bad_signatures)
        finally:
            bap.stop()


if __name__ == "__main__":
    main()
