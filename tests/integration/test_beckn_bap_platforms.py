#!/usr/bin/python3
"""Two independent deployments of this platform trade over Beckn in both
directions: each has its own identity and key, PostgreSQL database, Kafka
topics, engine, projector, gateway and p2p-beckn-worker, and they talk only
over real HTTP.

* each publishes its catalog to the other's CDS (worker, BECKN_CDS_URL)
  and records the other's on_catalog_publish;
* each platform's buyer discovers through its own CDS
  (/api/network/discover) and buys from the other's BPP through its own
  BAP: select -> init -> confirm -> status -> cancel, every callback signed
  by the seller platform and checked by the buyer's (signature, context,
  total_quantity = Σ lines, energy = Σ qty × price, payment = orderValue,
  refund <= order);
* the amounts agree on both sides: the buyer's amount_due = the seller's
  order total, the energy = 1.5 kWh × 6.51 INR/kWh half-up.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check, wait_until  # noqa: E402
import beckn_peer as B  # noqa: E402
import bap_fixtures as F  # noqa: E402


def create_offer(h, seller, wh, price, window):
    st, body = h.http("POST", "/seller/offers",
                      {"source_type": "SOLAR", "quantity_wh": wh, "price_per_kwh": price,
                       "delivery_start": window["start"], "delivery_end": window["end"],
                       "meter_id": "MTR-" + seller}, headers={"X-Dev-User": seller})
    # 201: the gateway waited for the engine's decision; 202: still pending.
    # Either way wait for the read model, which our catalog is built from.
    check(st in (201, 202), "offer not accepted: %d %r" % (st, body))
    check(h.wait_offer_decided(body["offer_id"])["status"] == "LISTED", "offer not listed")
    return body["offer_id"]


def start_platform(h, node, reg, port, **worker_env):
    h.create_db()
    h.start_engine()
    h.start_projector()
    h.start_gateway(port=port, BECKN_BAP_WAIT_MS=15000, **node.env(reg, port))
    B.start_beckn_worker(h, node, reg, **worker_env)
    wait_until(lambda: h.table_exists("network_order_requests") and h.table_exists("beckn_outbox"),
               timeout=60, what="Beckn migrations")


def api(h, method, path, body=None, user="bob"):
    t = time.time()
    st, res = h.http(method, path, body, headers={"X-Dev-User": user}, timeout=60)
    H.log("%s %s -> %d in %.0f ms (the API call, Beckn round trip included)"
          % (method, path, st, (time.time() - t) * 1000))
    return st, res


def trade(hb, hs, seller, buyer, o1, o2, user):
    """hb's buyer `user` buys 1.5 kWh of o1 (6.51 INR/kWh) from platform hs
    (identity `seller`) through hb's CDS and BAP, then cancels."""
    # hs's catalog arrives at hb's CDS
    def published():
        rows = hb.query("select catalog from beckn_cds_catalogs where bpp_id = %s and is_active",
                        (seller.subscriber_id,))
        return rows and '"%s"' % o2 in rows[0]["catalog"]
    wait_until(published, timeout=30, what="the seller's catalog at the buyer's CDS")
    wait_until(lambda: hs.scalar("select count(*) from beckn_catalog_publishes where answered_at_ms "
                                 "is not null and results like '%%ACCEPTED%%'") >= 1,
               timeout=30, what="the seller recording the CDS's on_catalog_publish")

    # the buyer discovers through its own CDS
    st, res = api(hb, "POST", "/api/network/discover",
                  {"expression": "$[?(@.beckn:itemAttributes.sourceType == 'SOLAR')]"}, user)
    check(st == 200 and res["answered"], "discover: %d %r" % (st, res))
    flat = {o["offer_id"]: o for o in res["offers"] if o["bpp_id"] == seller.subscriber_id}
    check(set(flat) == {o1, o2}, "found %r, expected the seller's two offers" % sorted(flat))
    check(flat[o1]["bpp_uri"] == seller.uri and flat[o1]["price_per_kwh"] == 651 and
          flat[o1]["max_quantity_wh"] == 12000, "discovered offer %r" % flat[o1])

    st, o = api(hb, "POST", "/api/network/orders",
                {"bpp_id": seller.subscriber_id, "meter_id": "der://meter/555",
                 "lines": [{"offer_id": o1, "quantity_wh": 1500},
                           {"offer_id": o2, "quantity_wh": 2000}]}, user)
    check(st == 400 and o["error"]["field"] == "lines",
          "two sellers in one order must be refused: %d %r" % (st, o))
    st, o = api(hb, "POST", "/api/network/orders",
                {"bpp_id": seller.subscriber_id, "meter_id": "der://meter/555",
                 "lines": [{"offer_id": o1, "quantity_wh": 1500}]}, user)
    check(st == 201 and o["state"] == "QUOTED", "select: %d %r" % (st, o))
    oid = o["order_id"]
    energy = (1500 * 651 + 500) // 1000  # 977 paise
    check(o["total_quantity_wh"] == 1500 and o["lines"][0]["amount"] == energy and
          o["amount_due"] >= energy, "quote %r" % o)
    check(o["beckn_order"]["beckn:orderItems"][0]["beckn:acceptedOffer"]["beckn:id"] == o1,
          "quoted offer")

    st, o = api(hb, "POST", "/api/network/orders/%s/init" % oid, None, user)
    check(st == 200 and o["state"] == "INITIALIZED" and o["payment_status"] == "AUTHORIZED",
          "init: %d %r" % (st, o))
    due = o["amount_due"]
    st, o = api(hb, "POST", "/api/network/orders/%s/confirm" % oid, None, user)
    check(st == 200 and o["state"] == "CONFIRMED" and o["remote_order_id"],
          "confirm: %d %r" % (st, o))
    remote = o["remote_order_id"]
    row = hs.query("select total, amount, bap_id from beckn_orders where order_id = %s", (remote,))
    check(row and row[0]["total"] == due and row[0]["amount"] == energy and
          row[0]["bap_id"] == buyer.subscriber_id,
          "seller's order %r vs buyer's amount_due %d / energy %d" % (row, due, energy))
    st, o = api(hb, "POST", "/api/network/orders/%s/status" % oid, None, user)
    check(st == 200 and o["remote_status"] and o["last_action"] == "on_status",
          "status: %d %r" % (st, o))
    st, o = api(hb, "POST", "/api/network/orders/%s/cancel" % oid, None, user)
    check(st == 200 and o["state"] == "CANCELLED", "cancel: %d %r" % (st, o))
    check([(q["action"], q["ack"]) for q in o["requests"]] ==
          [("select", "ACK"), ("init", "ACK"), ("confirm", "ACK"), ("status", "ACK"),
           ("cancel", "ACK")] and all(q["answered_at"] for q in o["requests"]),
          "requests %r" % o["requests"])
    srow = hs.query("select status, refund from beckn_orders where order_id = %s", (remote,))[0]
    check(srow["status"] == "CANCELLED" and o["refund"] == srow["refund"] and
          0 <= o["refund"] <= due and o["payment_status"] in ("REFUNDED", "CANCELLED"),
          "cancelled: seller %r, buyer refund %r %r" % (srow, o["refund"], o["payment_status"]))


def main():
    with H.Harness("test_beckn_bap_platforms_a") as ha, \
            H.Harness("test_beckn_bap_platforms_b") as hb:
        a = B.OurNode("p2p.platform-a.test")
        b = B.OurNode("p2p.platform-b.test")
        pa, pb = H.free_port(), H.free_port()
        a.uri = "http://127.0.0.1:%d/beckn" % pa
        b.uri = "http://127.0.0.1:%d/beckn" % pb
        reg = B.write_registry_file(hb, [a, b])
        # each publishes its catalog to the other's CDS
        start_platform(ha, a, reg, pa, BECKN_CDS_URL=b.uri, BECKN_PUBLISH_POLL_MS=300)
        start_platform(hb, b, reg, pb, BECKN_CDS_URL=a.uri, BECKN_PUBLISH_POLL_MS=300)
        w = H.future_window(6, 1)
        a1 = create_offer(ha, "alice", 12000, 651, w)
        a2 = create_offer(ha, "carol", 9000, 700, w)
        b1 = create_offer(hb, "erin", 12000, 651, w)
        b2 = create_offer(hb, "frank", 9000, 700, w)
        H.log("platform B's buyer buys from platform A")
        trade(hb, ha, a, b, a1, a2, "bob")
        H.log("platform A's buyer buys from platform B")
        trade(ha, hb, b, a, b1, b2, "dave")


if __name__ == "__main__":
    main()
