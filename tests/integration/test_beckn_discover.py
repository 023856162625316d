#!/usr/bin/python3
"""Discovery through our CDS role and our catalog publisher, with real
peers (beckn_peer: own keys, real HTTP) and the real gateway, worker,
engine, projector, PostgreSQL and Kafka:

* the publisher (p2p-beckn-worker, BECKN_CDS_URL = a fake external CDS)
  publishes our catalog at start (no offers yet: "beckn:isActive": false),
  then again when offers are listed, with exact prices and quantities; the
  CDS's on_catalog_publish is accepted only for a transaction we sent;
* a peer BAP's discover with the DEG expression (network id contains,
  sourceType, deliveryMode, availableQuantity >= 10.0) gets a signed
  on_discover with exactly the matching offers;
* a peer BPP publishes the DEG catalog to us (ACCEPTED, item_count 2, signed
  on_catalog_publish to its /catalog/on_publish); a discover then finds it
  (availableQuantity and time-window filters); a broken item makes a
  catalog PARTIAL, a catalog without id is REJECTED; "beckn:isActive":
  false revokes it;
* bad filters are NACKed 400 naming message.filters.expression / .type and
  cause no callback;
* our buyer's POST /api/network/discover goes through our own CDS and lists
  the offers found (ours and the peer's), flattened to integers; with
  BECKN_CDS_URL it goes to the external CDS, whose on_discover is accepted
  only from BECKN_CDS_SUBSCRIBER_ID and for a discover we sent.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check, wait_until  # noqa: E402
import beckn_peer as B  # noqa: E402
import bap_fixtures as F  # noqa: E402
from bap_fixtures import D, dec  # noqa: E402


def create_offer(h, seller, source, wh, price, window):
    st, body = h.http("POST", "/seller/offers",
                      {"source_type": source, "quantity_wh": wh, "price_per_kwh": price,
                       "delivery_start": window["start"], "delivery_end": window["end"],
                       "meter_id": "MTR-" + seller},
                      headers={"X-Dev-User": seller})
    # 201: the gateway waited for the engine's decision; 202: still pending.
    # Either way wait for the read model, which our catalog is built from.
    check(st in (201, 202), "offer not accepted: %d %r" % (st, body))
    decided = h.wait_offer_decided(body["offer_id"])
    check(decided["status"] == "LISTED", "offer not listed: %r" % decided)
    return body["offer_id"]


def publishes(cds, min_items=None, after=0):
    return [r for r in cds.callbacks("publish") if r.signer and r.at > after and
            (min_items is None or
             len(r.body["message"]["catalogs"][0]["beckn:items"]) >= min_items)]


def check_our_offer(cat, offer_id, seller, source, wh, price, window, our):
    """Our catalog's item + offer for one of our offers, value by value."""
    check(cat["beckn:bppId"] == our.subscriber_id and cat["beckn:bppUri"] == our.uri,
          "catalog bpp %r %r" % (cat["beckn:bppId"], cat["beckn:bppUri"]))
    check(cat["@type"] == "beckn:Catalog" and cat["@context"] == B.CORE, "catalog type %r" % cat)
    items = {i["beckn:id"]: i for i in cat["beckn:items"]}
    offers = {o["beckn:id"]: o for o in cat["beckn:offers"]}
    check(offer_id in offers, "offer %s missing from %r" % (offer_id, list(offers)))
    o = offers[offer_id]
    check(o["beckn:items"] == ["item-" + offer_id] and o["beckn:provider"] == seller,
          "offer links %r" % o)
    it = items["item-" + offer_id]
    check(it["beckn:provider"]["beckn:id"] == seller, "item provider %r" % it["beckn:provider"])
    check(it["beckn:networkId"] == [F.NETWORK], "networkId %r" % it["beckn:networkId"])
    a = it["beckn:itemAttributes"]
    check(a["@type"] == "EnergyResource" and a["@context"] == B.pack("EnergyResource/v0.2"),
          "itemAttributes type %r" % a)
    check(a["sourceType"] == source and a["deliveryMode"] == "GRID_INJECTION",
          "item source %r" % a)
    check(a["meterId"] == "der://meter/MTR-" + seller, "meterId %r" % a["meterId"])
    check(dec(a["availableQuantity"]) * 1000 == wh, "availableQuantity %r" % a["availableQuantity"])
    check(a["productionWindow"] == [{"@type": "beckn:TimePeriod", "schema:startTime": window["start"],
                                     "schema:endTime": window["end"]}],
          "productionWindow %r" % a["productionWindow"])
    oa = o["beckn:offerAttributes"]
    check(oa["@type"] == "EnergyTradeOffer" and oa["pricingModel"] == "PER_KWH",
          "offerAttributes %r" % oa)
    check(dec(oa["beckn:price"]["value"]) * 100 == price and oa["beckn:price"]["currency"] == "INR"
          and oa["beckn:price"]["unitText"] == "kWh", "price %r (expected %d paise)"
          % (oa["beckn:price"], price))
    check(oa["beckn:maxQuantity"] == {"unitQuantity": oa["beckn:maxQuantity"]["unitQuantity"],
                                      "unitText": "kWh", "unitCode": "KWH"}
          and dec(oa["beckn:maxQuantity"]["unitQuantity"]) * 1000 == wh,
          "maxQuantity %r" % oa["beckn:maxQuantity"])
    check(oa["beckn:timeWindow"]["schema:startTime"] == window["start"] and
          oa["beckn:timeWindow"]["schema:endTime"] == window["end"],
          "timeWindow %r" % oa["beckn:timeWindow"])
    closes = H.rfc3339_to_ms(oa["validityWindow"]["schema:endTime"])
    check(closes == window["start_ms"] - H.GATE_CLOSURE_MS,
          "validityWindow ends %r, not at gate closure" % oa["validityWindow"])
    check(dec(oa["minimumQuantity"]) > 0, "minimumQuantity %r" % oa["minimumQuantity"])


def discover(h, bap, our, expression, expect_status=200):
    body = F.discover_body(bap, expression)
    st, ans, _, _ = bap.send(h.port, "discover", body)
    check(st == expect_status, "discover %r: %d %r" % (expression, st, ans))
    if st != 200:
        return body, ans
    cb = bap.wait_callback("on_discover", body["context"]["transaction_id"])
    F.check_signed_by(cb, our, "on_discover")
    c = cb.body["context"]
    check(c["action"] == "on_discover" and c["transaction_id"] == body["context"]["transaction_id"]
          and c["bap_id"] == bap.subscriber_id and c["version"] == "2.0.0",
          "on_discover context %r" % c)
    check(cb.path == "/beckn/on_discover", "on_discover path %r" % cb.path)
    return body, cb.body["message"]["catalogs"]


def external_cds_discovery(h, our, reg, cds, bpp, window):
    """BECKN_CDS_URL = the fake CDS: /api/network/discover sends it a signed
    discover and returns what its on_discover brings; an on_discover signed
    by anyone but BECKN_CDS_SUBSCRIBER_ID, or for a transaction we never
    sent, is refused."""
    port = H.free_port()
    g = h.start_gateway(port=port, primary=False, log_name="gateway-cds",
                        BECKN_CDS_URL=cds.uri, BECKN_CDS_SUBSCRIBER_ID=cds.subscriber_id,
                        **our.env(reg, port))
    result = {}

    def call():
        result["answer"] = h.http("POST", "/api/network/discover",
                                  {"expression": F.DEG_EXPRESSION}, port=g.port,
                                  headers={"X-Dev-User": "dave"})
    t = threading.Thread(target=call)
    t.start()
    req = wait_until(lambda: [r for r in cds.callbacks("discover") if r.signer], timeout=30,
                     what="our discover at the external CDS")[-1]
    F.check_signed_by(req, our, "discover to the external CDS")
    ctx = req.body["context"]
    check(req.path == "/beckn/discover" and ctx["bap_id"] == our.subscriber_id and
          ctx["bap_uri"] == our.uri and "bpp_id" not in ctx and
          req.body["message"]["filters"] == {"type": "jsonpath", "expression": F.DEG_EXPRESSION},
          "discover sent to the CDS: %r" % req.body)
    answer = {"context": F.reply_context(ctx, "on_discover"),
              "message": {"catalogs": [F.deg_catalog(bpp, window, "catalog-from-cds")]}}
    st, ans, _, _ = bpp.send(port, "on_discover", answer)  # not the CDS
    check(st == 401, "on_discover signed by a BPP: %d %r" % (st, ans))
    stray = {"context": dict(F.reply_context(ctx, "on_discover"), transaction_id="txn-never-sent"),
             "message": answer["message"]}
    st, ans, _, _ = cds.send(port, "on_discover", stray)
    check(st == 400 and ans["message"]["error"]["code"] == "30008",
          "on_discover for a transaction we never sent: %d %r" % (st, ans))
    st, ans, _, _ = cds.send(port, "on_discover", answer)
    check(st == 200, "on_discover from the CDS: %d %r" % (st, ans))
    t.join(30)
    st, res = result["answer"]
    check(st == 200 and res["answered"] and res["transaction_id"] == ctx["transaction_id"],
          "API discover through the external CDS: %d %r" % (st, res))
    check({o["offer_id"] for o in res["offers"]} == {"offer-energy-001", "offer-energy-002"} and
          all(o["bpp_id"] == bpp.subscriber_id for o in res["offers"]),
          "offers from the external CDS %r" % res["offers"])


def main():
    with H.Harness() as h:
        h.create_db()
        h.start_engine()
        h.start_projector()
        bap = B.BecknPeer("bap.peer-buyer.test", role="BAP").start()
        bpp = B.BecknPeer("bpp.peer-seller.test", role="BPP").start()
        cds = B.BecknPeer("cds.peer-network.test", role="CDS").start()
        our = B.OurNode()
        for p in (bap, bpp, cds):
            p.trust(our)
        try:
            reg = B.write_registry_file(h, [bap, bpp, cds], our)
            B.start_beckn_gateway(h, our, reg)
            B.start_beckn_worker(h, our, reg, BECKN_CDS_URL=cds.uri, BECKN_PUBLISH_POLL_MS=300)

            # -- the publisher: at start nothing is for sale -> revoked catalog
            first = wait_until(lambda: publishes(cds), timeout=30, what="first catalog_publish")[0]
            F.check_signed_by(first, our, "catalog_publish")
            check(first.path == "/beckn/catalog/publish", "publish path %r" % first.path)
            c = first.body["context"]
            check(c["action"] == "catalog_publish" and c["bpp_id"] == our.subscriber_id and
                  c["bpp_uri"] == our.uri, "publish context %r" % c)
            cat0 = first.body["message"]["catalogs"][0]
            check(cat0["beckn:isActive"] is False and cat0["beckn:items"] == [],
                  "empty catalog must be published revoked: %r" % cat0)
            # the CDS answers; a made-up transaction is refused
            answer = {"context": F.reply_context(c, "on_catalog_publish"),
                      "message": {"results": [{"catalog_id": cat0["beckn:id"],
                                               "status": "ACCEPTED", "item_count": 0}]}}
            st, ans, _, _ = cds.send(h.port, "on_publish", answer, path="/beckn/catalog/on_publish")
            check(st == 200, "on_catalog_publish not ACKed: %d %r" % (st, ans))
            row = h.query("select * from beckn_catalog_publishes where transaction_id = %s",
                          (c["transaction_id"],))[0]
            check(row["answered_at_ms"] and '"ACCEPTED"' in row["results"] and
                  row["ack"] == "ACK" and row["is_active"] is False, "publish row %r" % row)
            bad = {"context": dict(F.reply_context(c, "on_catalog_publish"),
                                   transaction_id="txn-not-ours"),
                   "message": {"results": []}}
            st, ans, _, _ = cds.send(h.port, "on_publish", bad, path="/beckn/catalog/on_publish")
            check(st == 400 and ans["message"]["error"]["code"] == "30008",
                  "unknown publish answer: %d %r" % (st, ans))
            time.sleep(1.0)
            check(len(publishes(cds)) == 1, "unchanged catalog republished: %d"
                  % len(publishes(cds)))

            # -- our offers; the publisher republishes them
            w = H.future_window(6, 1)
            w2 = H.future_window(8, 2)
            alice = create_offer(h, "alice", "SOLAR", 12000, 651, w)
            bob = create_offer(h, "bob", "SOLAR", 5000, 700, w)
            carol = create_offer(h, "carol", "BATTERY", 20000, 600, w2)
            pub = wait_until(lambda: publishes(cds, 3), timeout=30, what="publish of 3 offers")[-1]
            F.check_signed_by(pub, our, "catalog_publish")
            cat = pub.body["message"]["catalogs"][0]
            check(cat["beckn:isActive"] is True, "active catalog %r" % cat.get("beckn:isActive"))
            check_our_offer(cat, alice, "alice", "SOLAR", 12000, 651, w, our)
            check_our_offer(cat, bob, "bob", "SOLAR", 5000, 700, w, our)
            check_our_offer(cat, carol, "carol", "BATTERY", 20000, 600, w2, our)

            # -- a peer BAP discovers with the DEG expression
            _, catalogs = discover(h, bap, our, F.DEG_EXPRESSION)
            offers = F.catalog_offers(catalogs)
            check(set(offers) == {alice}, "DEG discover found %r, expected alice's only"
                  % sorted(offers))
            check_our_offer(offers[alice][0], alice, "alice", "SOLAR", 12000, 651, w, our)
            check(len(catalogs[0]["beckn:items"]) == 1, "items %r" % catalogs[0]["beckn:items"])

            # -- a peer BPP publishes the DEG catalog to our CDS
            pw = H.future_window(10, 6)
            published = F.deg_catalog(bpp, pw)
            published["beckn:bppUri"] = "http://attacker.invalid/beckn"  # not the signer's URI
            body = F.publish_body(bpp, [published])
            st, ans, _, _ = bpp.send(h.port, "catalog_publish", body, path="/beckn/catalog/publish")
            check(st == 200 and ans == {"message": {"ack": {"status": "ACK"}}},
                  "catalog_publish: %d %r" % (st, ans))
            txn = body["context"]["transaction_id"]
            cb = bpp.wait_callback("on_publish", txn)
            F.check_signed_by(cb, our, "on_catalog_publish")
            check(cb.path == "/beckn/catalog/on_publish", "on_publish path %r" % cb.path)
            check(cb.body["context"]["action"] == "on_catalog_publish", "action %r"
                  % cb.body["context"]["action"])
            check(cb.body["message"]["results"] == [{"catalog_id": "catalog-energy-001",
                                                     "status": "ACCEPTED", "item_count": 2}],
                  "results %r" % cb.body["message"]["results"])

            # availableQuantity >= 40: only the peer's 50 kWh item
            _, catalogs = discover(h, bap, our, "$[?(@.beckn:itemAttributes.availableQuantity >= 40)]")
            items = F.catalog_items(catalogs)
            check(set(items) == {"energy-resource-solar-002"}, "found %r" % sorted(items))
            pcat = items["energy-resource-solar-002"][0]
            check(pcat["beckn:bppId"] == bpp.subscriber_id and pcat["beckn:bppUri"] == bpp.uri,
                  "peer catalog bpp %r" % pcat["beckn:bppId"])
            check([o["beckn:id"] for o in pcat["beckn:offers"]] == ["offer-energy-002"],
                  "peer offers %r" % pcat["beckn:offers"])
            # a time window over the offers' delivery: the peer's and carol's
            expr = ("$[?(@.beckn:offers.beckn:offerAttributes.beckn:timeWindow.schema:startTime "
                    ">= '%s' && @.beckn:itemAttributes.sourceType != 'GRID')]" % w2["start"])
            _, catalogs = discover(h, bap, our, expr)
            found = set(F.catalog_offers(catalogs))
            check(found == {carol, "offer-energy-001", "offer-energy-002"},
                  "time-window discover found %r" % sorted(found))
            # || and parentheses
            expr = ("$[?((@.beckn:itemAttributes.sourceType == 'BATTERY' || "
                    "@.beckn:itemAttributes.availableQuantity < 6) && !(@.beckn:isActive == false))]")
            _, catalogs = discover(h, bap, our, expr)
            found = set(F.catalog_offers(catalogs))
            check(found == {bob, carol}, "|| discover found %r" % sorted(found))

            # -- our buyer discovers through our own CDS (the API)
            st, res = h.http("POST", "/api/network/discover",
                             {"expression": F.DEG_EXPRESSION}, headers={"X-Dev-User": "dave"})
            check(st == 200 and res["answered"] is True, "API discover: %d %r" % (st, res))
            flat = {o["offer_id"]: o for o in res["offers"]}
            check(set(flat) == {alice, "offer-energy-001", "offer-energy-002"},
                  "API discover offers %r" % sorted(flat))
            a = flat[alice]
            check(a["bpp_id"] == our.subscriber_id and a["price_per_kwh"] == 651 and
                  a["currency"] == "INR" and a["max_quantity_wh"] == 12000 and
                  a["source_type"] == "SOLAR" and a["seller"] == "alice" and
                  a["item_id"] == "item-" + alice and a["delivery_start"] == w["start"],
                  "flattened offer %r" % a)
            p2 = flat["offer-energy-002"]
            check(p2["bpp_id"] == bpp.subscriber_id and p2["bpp_uri"] == bpp.uri and
                  p2["price_per_kwh"] == 12 and p2["min_quantity_wh"] == 10000 and
                  p2["max_quantity_wh"] == 50000, "flattened peer offer %r" % p2)
            st, res = h.http("POST", "/api/network/discover", {"expression": "$[?(@.x ==)]"},
                             headers={"X-Dev-User": "dave"})
            check(st == 400 and res["error"]["field"] == "expression" and
                  "offset" in res["error"]["message"], "API bad expression: %d %r" % (st, res))
            st, res = h.http("POST", "/api/network/discover", {}, headers={})
            check(st == 401, "API discover without a user: %d" % st)

            # -- PARTIAL and REJECTED catalogs
            broken = F.deg_catalog(bpp, pw, catalog_id="catalog-energy-002")
            broken["beckn:items"].append({"beckn:id": "no-attributes"})
            nameless = F.deg_catalog(bpp, pw)
            del nameless["beckn:id"]
            body = F.publish_body(bpp, [broken, nameless])
            st, ans, _, _ = bpp.send(h.port, "catalog_publish", body, path="/beckn/catalog/publish")
            check(st == 200, "publish of broken catalogs: %d %r" % (st, ans))
            cb = bpp.wait_callback("on_publish", body["context"]["transaction_id"])
            res = cb.body["message"]["results"]
            check(len(res) == 2 and res[0]["status"] == "PARTIAL" and res[0]["item_count"] == 2
                  and res[0]["warnings"] and res[1]["status"] == "REJECTED" and
                  res[1]["error"]["paths"] == "message.catalogs[1].beckn:id",
                  "results %r" % res)

            # -- revocation
            revoked = F.deg_catalog(bpp, pw)
            revoked["beckn:isActive"] = False
            body = F.publish_body(bpp, [revoked])
            st, ans, _, _ = bpp.send(h.port, "catalog_publish", body, path="/beckn/catalog/publish")
            check(st == 200, "revoking publish: %d %r" % (st, ans))
            cb = bpp.wait_callback("on_publish", body["context"]["transaction_id"])
            check(cb.body["message"]["results"][0]["status"] == "ACCEPTED", "revocation %r"
                  % cb.body["message"]["results"])
            _, catalogs = discover(h, bap, our, None)
            ids = {c["beckn:id"] for c in catalogs}
            check("catalog-energy-001" not in ids and "catalog-energy-002" in ids and
                  "catalog-" + our.subscriber_id in ids, "catalogs after revocation %r" % ids)

            # -- bad filters: NACK 400 naming the path, no callback
            before = len(bap.callbacks("on_discover"))
            for expr, ftype, path in (("$[?(@.a == )]", "jsonpath", "message.filters.expression"),
                                      ("$[?(@.a == 'x')", "jsonpath", "message.filters.expression"),
                                      ("$..book", "jsonpath", "message.filters.expression"),
                                      ("$[?(@.a == 1)]", "xpath", "message.filters.type")):
                body = F.discover_body(bap, expr, ftype)
                st, ans, _, _ = bap.send(h.port, "discover", body)
                err = (ans or {}).get("message", {}).get("error", {})
                check(st == 400 and ans["message"]["ack"]["status"] == "NACK" and
                      err.get("paths") == path and err.get("code") == "30000",
                      "bad filter %r: %d %r" % (expr, st, ans))
            body = F.discover_body(bap, None)
            body["message"]["filters"] = {"type": "jsonpath", "expression": 7}
            st, ans, _, _ = bap.send(h.port, "discover", body)
            check(st == 400, "numeric expression: %d %r" % (st, ans))
            time.sleep(1.5)
            check(len(bap.callbacks("on_discover")) == before, "a refused discover got an answer")

            # -- a discover signed by someone else than its bap_id is refused
            body = F.discover_body(bap, None)
            st, ans, _, _ = bap.send(h.port, "discover", body, signer=bpp)
            check(st == 401, "discover signed by another subscriber: %d %r" % (st, ans))

            # -- a new offer is republished
            before = time.time()
            erin = create_offer(h, "erin", "SOLAR", 15000, 640, w)
            pub = wait_until(lambda: publishes(cds, 4, after=before), timeout=30,
                             what="republish with erin's offer")[-1]
            check_our_offer(pub.body["message"]["catalogs"][0], erin, "erin", "SOLAR", 15000, 640,
                            w, our)
            # -- our buyers discovering through the external CDS: a second
            # gateway of ours (same database) configured with it
            external_cds_discovery(h, our, reg, cds, bpp, pw)
            for p in (bap, bpp, cds):
                check(not p.bad_signatures, "%s saw bad signatures: %r"
                      % (p.subscriber_id, p.bad_signatures))
        finally:
            for p in (bap, bpp, cds):
                p.stop()


if __name__ == "__main__":
    main()
