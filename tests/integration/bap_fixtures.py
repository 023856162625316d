"""Fixtures of the discovery and BAP tests (test_beckn_discover.py,
test_beckn_flow_bap.py): DEG-shaped catalogs a peer BPP publishes
(beckn.md §7.1), the DEG discover expression (§7.2), reading the catalogs
of an on_discover, and exact decimal checks of what our platform sends.
Independent of the gateway's code: built from the spec's examples."""

import copy
import decimal
import uuid

import beckn_peer as B
from harness import check

D = decimal.Decimal
NETWORK = "p2p-interdiscom-trading-pilot-network"
DEG_EXPRESSION = (
    "$[?('%s' == @.beckn:networkId && @.beckn:itemAttributes.sourceType == 'SOLAR' && "
    "@.beckn:itemAttributes.deliveryMode == 'GRID_INJECTION' && "
    "@.beckn:itemAttributes.availableQuantity >= 10.0 )]" % NETWORK)


def dec(v):
    """A JSON number as the exact decimal it was written as."""
    return D(repr(v)) if isinstance(v, float) else D(v)


def deg_item(item_id, kwh, meter, start, end, source="SOLAR", provider="provider-solar-farm-001",
             network=NETWORK):
    return {
        "@context": B.CORE, "@type": "beckn:Item", "beckn:networkId": [network],
        "beckn:isActive": True, "beckn:id": item_id,
        "beckn:descriptor": {"@type": "beckn:Descriptor",
                             "schema:name": "Solar Energy - %s kWh" % kwh},
        "beckn:provider": {"beckn:id": provider,
                           "beckn:descriptor": {"@type": "beckn:Descriptor",
                                                "schema:name": "Solar Farm 001"}},
        "beckn:itemAttributes": {
            "@context": B.pack("EnergyResource/v0.2"), "@type": "EnergyResource",
            "sourceType": source, "deliveryMode": "GRID_INJECTION",
            "certificationStatus": "Carbon Offset Certified", "meterId": meter,
            "availableQuantity": kwh,
            "productionWindow": [{"@type": "beckn:TimePeriod", "schema:startTime": start,
                                  "schema:endTime": end}]}}


def deg_offer(offer_id, item_id, price, max_kwh, start, end, currency="INR",
              provider="provider-solar-farm-001", minimum=1.0):
    return {
        "@context": B.CORE, "@type": "beckn:Offer", "beckn:id": offer_id,
        "beckn:descriptor": {"@type": "beckn:Descriptor", "schema:name": "offer " + offer_id},
        "beckn:provider": provider, "beckn:items": [item_id],
        "beckn:offerAttributes": {
            "@context": B.pack("EnergyTradeOffer/v0.2"), "@type": "EnergyTradeOffer",
            "pricingModel": "PER_KWH", "settlementType": "DAILY",
            "minimumQuantity": minimum, "maximumQuantity": max_kwh,
            "validityWindow": {"@type": "beckn:TimePeriod", "schema:startTime": start,
                               "schema:endTime": end},
            "beckn:price": {"value": price, "currency": currency, "unitText": "kWh"},
            "beckn:maxQuantity": {"unitQuantity": max_kwh, "unitText": "kWh",
                                  "unitCode": "KWH"},
            "beckn:timeWindow": {"@type": "beckn:TimePeriod", "schema:startTime": start,
                                 "schema:endTime": end}}}


def deg_catalog(bpp, window, catalog_id="catalog-energy-001"):
    """The §7.1 catalog of a peer BPP: two solar items (30.5 and 50.0 kWh)
    with one offer each (0.15 and 0.12 INR/kWh), delivery in `window`."""
    s, e = window["start"], window["end"]
    return {
        "@context": B.CORE, "@type": "beckn:Catalog", "beckn:id": catalog_id,
        "beckn:descriptor": {"@type": "beckn:Descriptor",
                             "schema:name": "Solar Energy Trading Catalog"},
        "beckn:bppId": bpp.subscriber_id, "beckn:bppUri": bpp.uri,
        "beckn:items": [
            deg_item("energy-resource-solar-001", 30.5, "der://meter/100200300", s, e),
            deg_item("energy-resource-solar-002", 50.0, "der://meter/100200301", s, e)],
        "beckn:offers": [
            deg_offer("offer-energy-001", "energy-resource-solar-001", 0.15, 30.5, s, e),
            deg_offer("offer-energy-002", "energy-resource-solar-002", 0.12, 50.0, s, e,
                      minimum=10.0)]}


def publish_body(bpp, catalogs, our=None, transaction_id=None):
    ctx = B.context("catalog_publish", our or bpp, bpp,
                    transaction_id=transaction_id or "txn-catalog-" + uuid.uuid4().hex)
    return {"context": ctx, "message": {"catalogs": catalogs}}


def discover_body(bap, expression=None, filter_type="jsonpath"):
    ctx = B.context("discover", bap, bap)
    del ctx["bpp_id"], ctx["bpp_uri"]
    ctx["location"] = {"city": {"code": "BLR", "name": "Bangalore"},
                       "country": {"code": "IND", "name": "India"}}
    ctx["schema_context"] = [B.pack("EnergyResource/v0.2")]
    msg = {}
    if expression is not None:
        msg["filters"] = {"type": filter_type, "expression": expression}
    return {"context": ctx, "message": msg}


def reply_context(req_ctx, action):
    """The context of a callback answering req_ctx (new message id, now)."""
    import harness
    c = copy.deepcopy(req_ctx)
    c["action"] = action
    c["message_id"] = "msg-%s-%s" % (action, uuid.uuid4().hex)
    c["timestamp"] = harness.ms_to_rfc3339(harness.now_ms())
    return c


def catalog_items(catalogs):
    """{item id: (catalog, item)} over on_discover catalogs."""
    out = {}
    for cat in catalogs:
        for it in cat["beckn:items"]:
            out[it["beckn:id"]] = (cat, it)
    return out


def catalog_offers(catalogs):
    out = {}
    for cat in catalogs:
        for o in cat.get("beckn:offers", []):
            out[o["beckn:id"]] = (cat, o)
    return out


def check_signed_by(cb, identity, what):
    check(cb.signer == identity.subscriber_id,
          "%s signed by %r, not %s" % (what, cb.signer, identity.subscriber_id))
