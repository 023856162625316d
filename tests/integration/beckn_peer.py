"""A Beckn test peer: another platform's BAP (or BPP) as a real HTTP server.

It has its own Ed25519 key (PyNaCl), signs what it sends exactly as
beckn.md §4 says (BLAKE2b-512 of the exact body bytes via hashlib, the
'(created) (expires) digest' signing string, the Authorization header), and
verifies every callback it receives against the signer's public key over the
exact bytes received, recording each one. It is an independent
implementation of the wire rules: it shares no code with the gateway.

    peer = BecknPeer("bap.peer-a.test", role="BAP")
    peer.start()
    our = OurNode()                       # our platform's identity for the test
    reg = write_registry_file(h, [peer], our)
    start_beckn_gateway(h, our, reg); start_beckn_worker(h, our, reg)
    status, ack, raw = peer.send(h.port, "select", body)
    cb = peer.wait_callback("on_select", transaction_id)

Also: helpers to build DEG-shaped contexts and orders (beckn.md §7).
"""

import base64
import copy
import hashlib
import http.server
import json
import re
import threading
import time
import uuid

import nacl.encoding
import nacl.exceptions
import nacl.signing

import harness
from harness import check, free_port, wait_until

DOMAIN = "beckn.one:deg:p2p-trading-interdiscom:2.0.0"
VERSION = "2.0.0"
CORE = ("https://raw.githubusercontent.com/beckn/protocol-specifications-new/"
        "refs/heads/main/schema/core/v2/context.jsonld")
PACK_BASE = ("https://raw.githubusercontent.com/beckn/protocol-specifications-new/"
             "refs/heads/p2p-trading/schema/")
PAY = ("https://raw.githubusercontent.com/beckn/protocol-specifications-new/"
       "refs/heads/main/schema/PaymentSettlement/v1/context.jsonld")


def pack(name):
    """@context URL of an energy pack, e.g. pack('EnergyOrderItem/v0.1')."""
    return PACK_BASE + name + "/context.jsonld"


def b64(raw):
    return base64.b64encode(raw).decode()


def digest_b64(body):
    return b64(hashlib.blake2b(body, digest_size=64).digest())


def signing_string(created, expires, body):
    return "(created): %d\n(expires): %d\ndigest: BLAKE-512=%s" % (
        created, expires, digest_b64(body))


def sign_header(signing_key, subscriber_id, key_id, body, created=None,
                expires=None):
    created = int(time.time()) if created is None else created
    expires = created + 300 if expires is None else expires
    sig = signing_key.sign(signing_string(created, expires, body).encode()
                           ).signature
    return ('Signature keyId="%s|%s|ed25519",algorithm="ed25519",'
            'created="%d",expires="%d",headers="(created) (expires) digest",'
            'signature="%s"' % (subscriber_id, key_id, created, expires,
                                b64(sig)))


_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*"([^"]*)"\s*')


def parse_header(value):
    check(value and value.startswith("Signature "),
          "not a Signature header: %r" % (value,))
    params = {}
    for part in value[len("Signature "):].split(","):
        m = _PARAM.fullmatch(part)
        check(m, "malformed Signature parameter %r in %r" % (part, value))
        params[m.group(1)] = m.group(2)
    return params


def verify_header(value, body, public_keys, now=None, skew=5):
    """Checks a Signature header over the exact body bytes. public_keys maps
    (subscriber_id, key_id) -> 32-byte public key. Returns the params dict;
    raises TestFailure on any problem."""
    p = parse_header(value)
    for k in ("keyId", "algorithm", "created", "expires", "headers",
              "signature"):
        check(k in p, "Signature header lacks %s: %r" % (k, value))
    sub, kid, alg = p["keyId"].split("|")
    check(alg == "ed25519" and p["algorithm"] == "ed25519",
          "algorithm is not ed25519: %r" % value)
    check(p["headers"] == "(created) (expires) digest",
          "headers=%r" % p["headers"])
    created, expires = int(p["created"]), int(p["expires"])
    now = int(time.time()) if now is None else now
    check(created <= now + skew, "created %d is in the future (now %d)"
          % (created, now))
    check(expires >= now - skew, "signature expired at %d (now %d)"
          % (expires, now))
    check((sub, kid) in public_keys, "unknown signer %s|%s" % (sub, kid))
    vk = nacl.signing.VerifyKey(public_keys[(sub, kid)])
    try:
        vk.verify(signing_string(created, expires, body).encode(),
                  base64.b64decode(p["signature"]))
    except nacl.exceptions.BadSignatureError:
        raise harness.TestFailure("bad signature from %s over %d bytes"
                                  % (sub, len(body)))
    p["subscriber_id"], p["key_id"] = sub, kid
    return p


class Identity:
    """A subscriber id, key id and Ed25519 key pair."""

    def __init__(self, subscriber_id, key_id=None, seed=None):
        self.subscriber_id = subscriber_id
        self.key_id = key_id or "k-" + uuid.uuid4().hex[:12]
        self.signing_key = (nacl.signing.SigningKey(seed) if seed
                            else nacl.signing.SigningKey.generate())
        self.public_key = bytes(self.signing_key.verify_key)

    @property
    def public_b64(self):
        return b64(self.public_key)

    @property
    def seed_b64(self):
        return b64(bytes(self.signing_key))

    def sign(self, body, created=None, expires=None):
        return sign_header(self.signing_key, self.subscriber_id, self.key_id,
                           body, created, expires)


class OurNode(Identity):
    """Our platform's identity in a test (the gateway gets it by env)."""

    def __init__(self, subscriber_id="bpp.p2p-energy.test"):
        super().__init__(subscriber_id)
        self.uri = None  # set once the gateway's port is known

    def env(self, registry_file, port):
        self.uri = "http://127.0.0.1:%d/beckn" % port
        return {"BECKN_SUBSCRIBER_ID": self.subscriber_id,
                "BECKN_KEY_ID": self.key_id,
                "BECKN_SIGNING_PRIVATE_KEY": self.seed_b64,
                "BECKN_SUBSCRIBER_URI": self.uri,
                "BECKN_REGISTRY_FILE": registry_file}


class Received:
    __slots__ = ("path", "action", "headers", "raw", "body", "signer",
                 "status_sent", "at")

    def __repr__(self):
        return "Received(%s %s %r)" % (self.path, self.status_sent,
                                       self.raw[:300])


class BecknPeer(Identity):
    """Another platform (BAP or BPP) with a real HTTP server.

    Every POST it receives is verified (signature by a key it knows, over the
    exact bytes) and recorded; it answers ACK, unless a planned answer is
    queued with answer_next(). A callback that fails verification is
    recorded with signer None and answered 401 NACK, and counts in
    self.bad_signatures."""

    def __init__(self, subscriber_id, role="BAP", key_id=None):
        super().__init__(subscriber_id, key_id)
        self.role = role
        self.port = None
        self.received = []
        self.bad_signatures = []
        self.known_keys = {}
        self._planned = {}
        self._lock = threading.Lock()
        self._server = None

    @property
    def uri(self):
        return "http://127.0.0.1:%d/beckn" % self.port if self.port else None

    def trust(self, identity):
        """Accept signatures of identity (e.g. our OurNode)."""
        self.known_keys[(identity.subscriber_id, identity.key_id)] = \
            identity.public_key

    def answer_next(self, action, status, body=None, times=1):
        """The next `times` POSTs to /beckn/<action> get (status, body)."""
        with self._lock:
            self._planned.setdefault(action, []).extend(
                [(status, body)] * times)

    def start(self):
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                status, answer = peer._handle(self.path, dict(self.headers),
                                              raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 128   # the default 5 refuses connects under load

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever,
                         daemon=True).start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _handle(self, path, headers, raw):
        r = Received()
        r.path, r.headers, r.raw, r.at = path, headers, raw, time.time()
        r.action = path.rstrip("/").rsplit("/", 1)[-1]
        try:
            r.body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            r.body = None
        try:
            p = verify_header(headers.get("Authorization"), raw,
                              self.known_keys)
            r.signer = p["subscriber_id"]
        except harness.TestFailure as e:
            r.signer = None
            with self._lock:
                self.bad_signatures.append((r, str(e)))
        with self._lock:
            planned = self._planned.get(r.action)
            status, answer = (planned.pop(0) if planned else (None, None))
        if status is None:
            if r.signer is None:
                status, answer = 401, nack("60001", "bad signature")
            else:
                status, answer = 200, {"message": {"ack": {"status": "ACK"}}}
        r.status_sent = status
        with self._lock:
            self.received.append(r)
        return status, answer

    # -- sending
    def send(self, port, action, body, headers=None, sign=True, created=None,
             expires=None, signer=None, path=None, timeout=30):
        """POSTs body (dict -> compact JSON bytes; bytes as is) to
        127.0.0.1:port/beckn/<action>, signed by this peer (or `signer`, an
        Identity). Returns (status, parsed answer, raw bytes, headers)."""
        import http.client
        raw = (body if isinstance(body, bytes)
               else json.dumps(body, separators=(",", ":")).encode())
        hdrs = {"Content-Type": "application/json"}
        if sign:
            hdrs["Authorization"] = (signer or self).sign(raw, created,
                                                          expires)
        hdrs.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            try:
                conn.request("POST", path or "/beckn/" + action, body=raw,
                             headers=hdrs)
            except (BrokenPipeError, ConnectionResetError):
                pass
            resp = conn.getresponse()
            data = resp.read()
            status, rh = resp.status, dict(resp.getheaders())
        finally:
            conn.close()
        try:
            parsed = json.loads(data.decode("utf-8")) if data else None
        except (UnicodeDecodeError, ValueError):
            parsed = None
        return status, parsed, data, rh

    # -- what arrived
    def callbacks(self, action=None, transaction_id=None):
        with self._lock:
            out = list(self.received)
        return [r for r in out
                if (action is None or r.action == action)
                and (transaction_id is None or
                     (isinstance(r.body, dict) and
                      r.body.get("context", {}).get("transaction_id")
                      == transaction_id))]

    def wait_callback(self, action, transaction_id, timeout=60, count=1,
                      acked=True):
        """Waits for `count` verified callbacks of action on the
        transaction (acked: that we answered 200). Returns the last."""
        def got():
            rs = [r for r in self.callbacks(action, transaction_id)
                  if r.signer and (not acked or r.status_sent == 200)]
            return rs[count - 1] if len(rs) >= count else None
        return wait_until(got, timeout=timeout, interval=0.1,
                          what="%s callback on %s (received: %r)"
                          % (action, transaction_id,
                             [(r.action, r.status_sent)
                              for r in self.callbacks()][-10:]))


def nack(code, message):
    return {"message": {"ack": {"status": "NACK"},
                        "error": {"code": code, "paths": "",
                                  "message": message}}}


def write_registry_file(h, peers, our=None):
    """A BECKN_REGISTRY_FILE listing the peers (and our node) in the test's
    log directory. Returns its path."""
    import os
    entries = []
    for p in list(peers) + ([our] if our else []):
        e = {"subscriber_id": p.subscriber_id, "key_id": p.key_id,
             "signing_public_key": p.public_b64,
             "type": getattr(p, "role", "BPP")}
        if getattr(p, "uri", None):
            e["url"] = p.uri
        entries.append(e)
    path = os.path.join(h.log_dir, "beckn-registry-%s-%s.json" % (h.run, uuid.uuid4().hex[:6]))
    with open(path, "w") as f:
        json.dump(entries, f, indent=1)
    return path


def start_beckn_gateway(h, our, registry_file, **env_over):
    """Starts the gateway with our Beckn identity (dev auth on), once the
    projector has applied migration 003 (the Beckn tables)."""
    wait_until(lambda: h.table_exists("beckn_worker_offsets"), timeout=60,
               what="migration 003_beckn applied")
    port = free_port()
    env = our.env(registry_file, port)
    env.update(env_over)
    return h.start_gateway(port=port, **env)


def start_beckn_worker(h, our, registry_file, **env_over):
    """Starts p2p-beckn-worker with the same identity as the gateway (start
    the gateway first: it fixes our URI)."""
    check(our.uri, "start the gateway before the worker")
    env = {"BECKN_SUBSCRIBER_ID": our.subscriber_id,
           "BECKN_KEY_ID": our.key_id,
           "BECKN_SIGNING_PRIVATE_KEY": our.seed_b64,
           "BECKN_SUBSCRIBER_URI": our.uri,
           "BECKN_REGISTRY_FILE": registry_file,
           "BECKN_CALLBACK_BACKOFF_MS": "200",
           "BECKN_CALLBACK_BACKOFF_MAX_MS": "1000"}
    env.update(env_over)
    p = h.start("beckn-worker", **env)
    h.beckn_worker = p
    return p


# ---------------------------------------------------------------- messages

def context(action, bap, bpp, transaction_id=None, message_id=None,
            timestamp=None, ttl="PT30S", domain=DOMAIN, version=VERSION):
    """A wave-1 context (beckn.md §7.0). bap/bpp: objects with
    subscriber_id and uri."""
    ts = timestamp or harness.ms_to_rfc3339(harness.now_ms())
    c = {"version": version, "action": action, "timestamp": ts,
         "message_id": message_id or "msg-%s-%s" % (action, uuid.uuid4().hex),
         "transaction_id": transaction_id or "txn-" + uuid.uuid4().hex,
         "bap_id": bap.subscriber_id, "bap_uri": bap.uri,
         "bpp_id": bpp.subscriber_id, "bpp_uri": bpp.uri,
         "ttl": ttl, "domain": domain}
    if ttl is None:
        del c["ttl"]
    return c


def order_item(offer_id, kwh, item_id=None, meter="der://meter/98765456",
               price=None, start=None, end=None, provider="provider-1"):
    """One DEG order item buying `kwh` of offer `offer_id`."""
    attrs = {"@context": pack("EnergyTradeOffer/v0.2"),
             "@type": "EnergyTradeOffer", "pricingModel": "PER_KWH",
             "settlementType": "DAILY"}
    if price is not None:
        attrs["beckn:price"] = {"value": price, "currency": "INR",
                                "unitText": "kWh"}
    if start and end:
        attrs["beckn:timeWindow"] = {"@type": "beckn:TimePeriod",
                                     "schema:startTime": start,
                                     "schema:endTime": end}
    return {"beckn:orderedItem": item_id or offer_id,
            "beckn:orderItemAttributes": {
                "@context": pack("EnergyOrderItem/v0.1"),
                "@type": "EnergyOrderItem",
                "providerAttributes": {
                    "@context": pack("EnergyCustomer/v0.1"),
                    "@type": "EnergyCustomer", "meterId": meter,
                    "utilityCustomerId": "UTIL-CUST-123456",
                    "utilityId": "BESCOM-KA"}},
            "beckn:quantity": {"unitQuantity": kwh, "unitText": "kWh"},
            "beckn:acceptedOffer": {
                "@context": CORE, "@type": "beckn:Offer",
                "beckn:id": offer_id,
                "beckn:descriptor": {"@type": "beckn:Descriptor",
                                     "schema:name": "offer " + offer_id},
                "beckn:provider": provider,
                "beckn:items": [item_id or offer_id],
                "beckn:offerAttributes": attrs}}


def order(bap, bpp, items, buyer_id="buyer-001", seller="provider-1",
          status="CREATED"):
    """A DEG select/init order (beckn.md §7.3) over `items`."""
    total = sum(i["beckn:quantity"]["unitQuantity"] for i in items)
    return {"@context": CORE, "@type": "beckn:Order",
            "beckn:orderStatus": status, "beckn:seller": seller,
            "beckn:buyer": {"@context": CORE, "@type": "beckn:Buyer",
                            "beckn:id": buyer_id},
            "beckn:orderAttributes": {
                "@context": pack("EnergyTradeOrder/v0.2"),
                "@type": "EnergyTradeOrderInterUtility",
                "bap_id": bap.subscriber_id, "bpp_id": bpp.subscriber_id,
                "total_quantity": total, "utilityIdBuyer": "BESCOM-KA",
                "utilityIdSeller": "TPDDL-DL"},
            "beckn:orderItems": items}


def with_payment(o, bap, amount, currency="INR", status="INITIATED"):
    """The init additions (beckn.md §7.4): fulfillment and payment."""
    o = copy.deepcopy(o)
    o["beckn:fulfillment"] = {"@context": CORE, "@type": "beckn:Fulfillment",
                              "beckn:id": "fulfillment-1",
                              "beckn:mode": "DELIVERY"}
    o["beckn:payment"] = {
        "@context": CORE, "@type": "beckn:Payment",
        "beckn:id": "payment-1",
        "beckn:amount": {"currency": currency, "value": amount},
        "beckn:beneficiary": "BPP", "beckn:paymentStatus": status,
        "beckn:paymentAttributes": {
            "@context": PAY, "@type": "PaymentSettlement",
            "settlementAccounts": [{
                "beneficiaryId": bap.subscriber_id,
                "accountHolderName": "Peer BAP Pvt Ltd",
                "bankName": "HDFC Bank", "vpa": "peer@upi"}]}}
    return o
