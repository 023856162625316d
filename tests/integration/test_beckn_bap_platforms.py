#!/usr/bin/python3
"""Two independent deployments of this platform trade over Beckn: each has
its own identity and key, PostgreSQL database, Kafka topics, engine,
projector, gateway and p2p-beckn-worker, and they talk only over real HTTP.

* the seller platform S publishes its catalog to the buyer platform B's CDS
  (S's worker, BECKN_CDS_URL = B), and republishes when an offer is added;
* B's buyer discovers through B's own CDS (/api/network/discover) and buys
  from S's BPP through B's BAP: select -> init -> confirm -> status ->
  cancel, every callback signed by S, checked by B (signature, context,
  total_quantity = Σ lines, energy = Σ qty × price, payment = orderValue);
* the amounts agree on both sides: B's amount_due = S's order total, lines
  priced at the seller's offer prices.
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
    H.log("%s %s -> %d in %.0f ms (request, signed callback and checks)"
          % (method, path, st, (time.time() - t) * 1000))
    return st, res


def main():
    with H.Harness("test_beckn_bap_platforms_seller") as hs, \
            H.Harness("test_beckn_bap_platforms_buyer") as hb:
        seller = B.OurNode("bpp.seller-platform.test")
        buyer = B.OurNode("bap.buyer-platform.test")
        ps, pb = H.free_port(), H.free_port()
        seller.uri = "http://127.0.0.1:%d/beckn" % ps
        buyer.uri = "http://127.0.0.1:%d/beckn" % pb
        reg = B.write_registry_file(hb, [seller, buyer])
        start_platform(hb, buyer, reg, pb)
        w = H.future_window(6, 1)
        start_platform(hs, seller, reg, ps, BECKN_CDS_URL=buyer.uri, BECKN_PUBLISH_POLL_MS=300)
        o1 = create_offer(hs, "alice", 12000, 651, w)
        o2 = create_offer(hs, "carol", 9000, 700, w)

        # S's catalog arrives at B's CDS
        def published():
            rows = hb.query("select catalog from beckn_cds_catalogs where bpp_id = %s and is_active",
                            (seller.subscriber_id,))
            return rows and '"%s"' % o2 in rows[0]["catalog"]
        wait_until(published, timeout=30, what="S's catalog at B's CDS")
        check(hs.scalar("select count(*) from beckn_catalog_publishes where answered_at_ms is not null "
                        "and results like '%%ACCEPTED%%'") >= 1,
              "S never recorded B's on_catalog_publish")

        # B's buyer discovers through B's CDS
        st, res = api(hb, "POST", "/api/network/discover",
                      {"expression": "$[?(@.beckn:itemAttributes.sourceType == 'SOLAR')]"})
        check(st == 200 and res["answered"], "discover: %d %r" % (st, res))
        flat = {o["offer_id"]: o for o in res["offers"]}
        check(set(flat) == {o1, o2}, "found %r, expected S's two offers" % sorted(flat))
        check(flat[o1]["bpp_id"] == seller.subscriber_id and flat[o1]["bpp_uri"] == seller.uri and
              flat[o1]["price_per_kwh"] == 651 and flat[o1]["max_quantity_wh"] == 12000,
              "discovered offer %r" % flat[o1])

        # select: 1.5 kWh of alice's @ 6.51 + 2 kWh of carol's @ 7.00
        st, o = api(hb, "POST", "/api/network/orders",
                    {"bpp_id": seller.subscriber_id, "meter_id": "der://meter/555",
                     "lines": [{"offer_id": o1, "quantity_wh": 1500},
                               {"offer_id": o2, "quantity_wh": 2000}]})
        check(st == 400 and o["error"]["field"] == "lines",
              "two sellers in one order must be refused: %d %r" % (st, o))
        st, o = api(hb, "POST", "/api/network/orders",
                    {"bpp_id": seller.subscriber_id, "meter_id": "der://meter/555",
                     "lines": [{"offer_id": o1, "quantity_wh": 1500}]})
        check(st == 201 and o["state"] == "QUOTED", "select: %d %r" % (st, o))
        oid = o["order_id"]
        energy = (1500 * 651 + 500) // 1000  # 977 paise
        check(o["total_quantity_wh"] == 1500 and o["lines"][0]["amount"] == energy and
              o["amount_due"] >= energy, "quote %r" % o)
        quote = o["beckn_order"]
        check(quote["beckn:orderItems"][0]["beckn:acceptedOffer"]["beckn:id"] == o1, "quoted offer")

        st, o = api(hb, "POST", "/api/network/orders/%s/init" % oid)
        check(st == 200 and o["state"] == "INITIALIZED" and o["payment_status"] == "AUTHORIZED",
              "init: %d %r" % (st, o))
        due = o["amount_due"]
        st, o = api(hb, "POST", "/api/network/orders/%s/confirm" % oid)
        check(st == 200 and o["state"] == "CONFIRMED" and o["remote_order_id"],
              "confirm: %d %r" % (st, o))
        remote = o["remote_order_id"]
        row = hs.query("select total, amount from beckn_orders where order_id = %s", (remote,))
        check(row and row[0]["total"] == due and row[0]["amount"] == energy,
              "S's order %r vs B's amount_due %d / energy %d" % (row, due, energy))
        st, o = api(hb, "POST", "/api/network/orders/%s/status" % oid)
        check(st == 200 and o["remote_status"] and o["last_action"] == "on_status",
              "status: %d %r" % (st, o))
        st, o = api(hb, "POST", "/api/network/orders/%s/cancel" % oid)
        check(st == 200 and o["state"] == "CANCELLED", "cancel: %d %r" % (st, o))
        check([(q["action"], q["ack"]) for q in o["requests"]] ==
              [("select", "ACK"), ("init", "ACK"), ("confirm", "ACK"), ("status", "ACK"),
               ("cancel", "ACK")] and all(q["answered_at"] for q in o["requests"]),
              "requests %r" % o["requests"])
        srow = hs.query("select status, refund from beckn_orders where order_id = %s", (remote,))[0]
        check(srow["status"] == "CANCELLED" and o["refund"] == srow["refund"] and
              0 <= o["refund"] <= due and o["payment_status"] in ("REFUNDED", "CANCELLED"),
              "cancelled: S %r, B refund %r %r" % (srow, o["refund"], o["payment_status"]))


if __name__ == "__main__":
    main()
