#!/usr/bin/python3
"""Exactly-once, ordered, hash-chained engine output under SIGKILL.

The input topics are made with P2P_ENGINE_CRASH_PARTITIONS (default 2)
partitions before the engine starts; every command goes to a random
partition. The engine runs with small batches (P2P_ENGINE_BATCH=50,
P2P_ENGINE_BATCH_MS=5) and a small snapshot interval
(P2P_ENGINE_SNAPSHOT_EVERY=500).

Opening: a deposit for every buyer, a profile for every seller and 500 offers
(more than the snapshot interval, so a snapshot exists before the first kill
and every restart loads it and replays the sequence log after it).

Phase 1: a background thread produces the rest of P2P_ENGINE_CRASH_COMMANDS
(default 3000) in bursts, interleaved over all five input topics (deposits and
profiles on participants, offers, one-step buys on orders, clock ticks, and
delivery reports for fills that do not exist). Meanwhile the engine is
SIGKILLed at random moments and restarted with the same P2P_ENGINE_ID, at
least 4 times and until at least 3 kills hit an open transaction, 2 of them
before its sequence record was written (or 30 s of killing). A kill comes
a random time after the engine committed its first batch, or (1 in 5) while
it is still starting; for some, the engine is frozen (SIGSTOP) at random
moments until it is caught applying a batch, and then SIGKILLed (to the
broker that is a kill at the moment of the freeze).

Right after each kill the test notes, per output topic, the last stable
offset (read_committed) and the high watermark (read_uncommitted): records
between them belong to the transaction the kill interrupted. A kill is
"mid-batch" when some of those records were aborted in the end (the batch had
written outputs but not committed them); "while applying" when its sequence
record was not among them (only some of the batch's outputs were written).

Then, with every output topic read back read_committed:
 1. no event_id twice in any topic (and ce_id = event_id, key = market);
 2. the sequence records' inputs, concatenated, list every input record we
    produced (= every record of the input topics) exactly once, in offset
    order per partition; batches are numbered 1, 2, 3, ... without gaps;
 3. every input's events are numbered n = 0..k, carry that input's position
    and command_id, and every event's input is listed in the sequence; within
    each output topic the offsets follow the production order;
 4. the hash chain, recomputed with BLAKE2b-256 in production order, matches
    every record's prev_hash;
 5. business sanity: the events of each command are one of the outcomes its
    kind allows (each deposit booked exactly once, each buy confirmed with its
    fills or rejected, each offer listed or rejected, ...); fill Wh per offer
    <= the offer's quantity, and per order = the confirmed filled_wh; every
    journal entry sums to 0; no wallet or escrow balance is ever negative
    (running sums in production order).

Phase 2: the engine is stopped cleanly (SIGTERM: it writes a snapshot),
nothing is deleted, it is started again (it must load that snapshot and
replay nothing), 100 more commands are produced (none to ticks or deliveries)
and all checks run again over the whole log; then once more a clean stop and a
start from the new snapshot (whose instance never consumed the ticks and
deliveries partitions). Phase 3: a clean stop, the snapshot moved aside, a
start: it must replay the whole sequence log from the beginning (checking
every sequence record's prev_hash against its own replay: the outputs of all
the crashed and snapshot-restored instances are what one uninterrupted run
computes), then serve 20 more commands; all checks run again.

P2P_ENGINE_CRASH_SEED repeats a run's random choices (not its timing).
"""
import hashlib
import json
import os
import random
import shutil
import signal
import sys
import threading
import time
import uuid

import confluent_kafka as ck

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402

N = int(os.environ.get("P2P_ENGINE_CRASH_COMMANDS", "3000"))
PARTITIONS = int(os.environ.get("P2P_ENGINE_CRASH_PARTITIONS", "2"))
N_PHASE2, N_PHASE3 = 100, 20
PRELOAD_OFFERS = 500
MIN_KILLS = 4
WANT_MID_BATCH = 3        # keep killing (within the budget) until this many
WANT_PARTIAL = 2          # ... of which this many before the sequence record
KILL_BUDGET_S = 30.0      # seconds of killing at most, once MIN_KILLS done
ENGINE_ENV = {"P2P_ENGINE_BATCH": 50, "P2P_ENGINE_BATCH_MS": 5,
              "P2P_ENGINE_SNAPSHOT_EVERY": 500}

P = "energy.p2p."
INPUTS = ("offers", "orders", "participants", "deliveries", "ticks")
OUTPUTS = ("offer-events", "order-events", "fills", "trust", "journal",
           "participant-events", "engine-sequence")
SEQ = "engine-sequence"

BUYERS = ["buyer-%d" % i for i in range(24)]
SELLERS = ["seller-%d" % i for i in range(32)]
N_SLOTS = 12


# ------------------------------------------------------------ the commands

class Commands:
    """Generates commands and remembers, by input position, what was sent."""

    def __init__(self, h, rnd, t0):
        self.h, self.rnd = h, rnd
        self.t = t0
        self.slot0 = H.next_slot_ms(t0) + 6 * H.SLOT_MS
        self.n_orders = 0
        self.n_offers = 0
        self.sent = {}          # (topic, partition, offset) -> command dict
        self.lock = threading.Lock()
        self.errors = []
        self.validated = set()
        self.prnd = random.Random(rnd.random())   # partitions (any thread)
        self.produced = 0       # handed to the producer

    def _base(self):
        self.t += 1
        return {"command_id": str(uuid.uuid4()), "issued_at_ms": self.t,
                "market": H.MARKET}

    def deposit(self, who=None):
        v = self._base()
        v.update({"participant_id": who or self.rnd.choice(BUYERS),
                  "amount": self.rnd.randint(2000, 30000),
                  "reference": "pay-" + v["command_id"][:8]})
        return ("participants", "wallet.deposit.v1", v)

    def profile(self, who=None):
        v = self._base()
        v.update({"participant_id": who or self.rnd.choice(SELLERS),
                  "capacity_wh_per_month": self.rnd.randint(400, 500) * 1000000})
        return ("participants", "participant.profile.v1", v)

    def offer(self):
        v = self._base()
        self.n_offers += 1
        start = self.slot0 + self.rnd.randrange(N_SLOTS) * H.SLOT_MS
        end = start + self.rnd.choice((1, 1, 1, 2)) * H.SLOT_MS
        misaligned = self.rnd.random() < 0.04
        if misaligned:
            start += 15 * 60000
        seller = self.rnd.choice(SELLERS)
        v.update({"offer_id": "of-%d-%s" % (self.n_offers, v["command_id"][:6]),
                  "seller_id": seller,
                  "source_type": self.rnd.choice(("SOLAR", "BATTERY", "GRID",
                                                  "HYBRID", "RENEWABLE")),
                  "quantity_wh": self.rnd.randint(2, 10) * 1000,
                  "price_per_kwh": self.rnd.randint(100, 900),
                  "currency": "INR",
                  "min_order_wh": self.rnd.choice((500, 1000)),
                  "delivery_start_ms": start, "delivery_end_ms": end,
                  "meter_id": "MTR-" + seller, "valid_until_ms": None})
        v["_misaligned"] = misaligned
        return ("offers", "offer.submit.v1", v)

    def buy(self):
        v = self._base()
        self.n_orders += 1
        start = self.slot0 + self.rnd.randrange(N_SLOTS) * H.SLOT_MS
        v.update({"order_id": "ord-%d-%s" % (self.n_orders, v["command_id"][:6]),
                  "buyer_id": self.rnd.choice(BUYERS),
                  "quantity_wh": self.rnd.randint(5, 60) * 100,
                  "window_start_ms": start,
                  "window_end_ms": start + self.rnd.choice((1, 1, 2)) * H.SLOT_MS})
        if self.rnd.random() < 0.5:
            v["allow_partial"] = True
        if self.rnd.random() < 0.3:
            v["max_price_per_kwh"] = self.rnd.randint(300, 900)
        if self.rnd.random() < 0.1:
            v["source_type"] = self.rnd.choice(("SOLAR", "BATTERY"))
        return ("orders", "order.buy.v1", v)

    def tick(self):
        return ("ticks", "clock.tick.v1", self._base())

    def delivery(self):
        v = self._base()
        v.update({"fill_id": "no-such-order-%d/1" % self.rnd.randrange(10**6),
                  "delivered_wh": 1000})
        return ("deliveries", "delivery.report.v1", v)

    def opening(self, n_offers):
        """A deposit for every buyer, a profile for every seller, then
        n_offers offers: a funded market with a book to buy from."""
        return ([self.deposit(b) for b in BUYERS]
                + [self.profile(s) for s in SELLERS]
                + [self.offer() for _ in range(n_offers)])

    def mix(self, n, topics=INPUTS):
        """n commands of every kind (that goes to one of `topics`),
        interleaved at random."""
        kinds = ((self.deposit, 10, "participants"),
                 (self.profile, 5, "participants"), (self.offer, 35, "offers"),
                 (self.buy, 44, "orders"), (self.tick, 3, "ticks"),
                 (self.delivery, 3, "deliveries"))
        funcs = [f for f, _, t in kinds if t in topics]
        weights = [w for _, w, t in kinds if t in topics]
        return [self.rnd.choices(funcs, weights)[0]() for _ in range(n)]

    def produce(self, producer, cmd):
        """Produces one command to a random partition of its topic; the
        delivery report records its position."""
        name, kind, v = cmd
        if kind not in self.validated:
            body = {k: x for k, x in v.items() if not k.startswith("_")}
            errs = H.schema_errors(P + kind, body)
            check(not errs, "test command %s does not match its schema: %r"
                  % (kind, errs))
            self.validated.add(kind)
        body = {k: x for k, x in v.items() if not k.startswith("_")}
        topic = self.h.topic(name)
        info = {"name": name, "kind": kind, "value": v}
        self.produced += 1

        def cb(err, msg):
            if err is not None:
                self.errors.append(err)
                return
            with self.lock:
                self.sent[(topic, msg.partition(), msg.offset())] = info
        while True:
            try:
                producer.produce(
                    topic, partition=self.prnd.randrange(PARTITIONS),
                    key=H.MARKET.encode(), value=json.dumps(body).encode(),
                    headers=H.command_headers(P + kind, v["command_id"],
                                              time_ms=v["issued_at_ms"]),
                    on_delivery=cb)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)

    def flush(self, producer):
        left = producer.flush(60)
        check(left == 0, "%d commands not delivered" % left)
        check(not self.errors, "delivery errors: %r" % self.errors[:5])


# ------------------------------------------------------------ watching

class SequenceWatcher:
    """Follows the engine-sequence topic read_committed: how many input
    records committed batches list."""

    def __init__(self, topic):
        self.c = ck.Consumer({"bootstrap.servers": H.KAFKA_BROKERS,
                              "group.id": "seq-" + uuid.uuid4().hex,
                              "enable.auto.commit": False,
                              "isolation.level": "read_committed",
                              "auto.offset.reset": "earliest"})
        self.c.assign([ck.TopicPartition(topic, 0, ck.OFFSET_BEGINNING)])
        self.inputs = 0
        self.batch = 0

    def poll(self):
        while True:
            m = self.c.poll(0.05)
            if m is None:
                return self.inputs
            if m.error():
                continue
            v = json.loads(m.value())
            self.inputs += len(v["inputs"])
            self.batch = v["batch"]

    def wait_inputs(self, n, timeout=60):
        H.wait_until(lambda: self.poll() >= n, timeout=timeout, interval=0.1,
                     what="the engine to apply all %d inputs (sequence lists "
                     "%d so far)" % (n, self.inputs))
        check(self.inputs == n, "the sequence log lists %d inputs, %d were "
              "produced" % (self.inputs, n))

    def close(self):
        self.c.close()


def wait_ready(h, proc, timeout=60):
    """Until the engine logged engine_started; returns the log text."""
    def ready():
        check(proc.alive(), "engine exited with %s during start; log tail:\n%s"
              % (proc.popen.returncode, H.tail(proc.log_path)))
        return H.log_events(proc.log_text(), "engine_started")
    H.wait_until(ready, timeout=timeout, interval=0.05, what="engine_started")
    return proc.log_text()


class WatermarkProbe:
    """Last stable offsets (read_committed) and high watermarks
    (read_uncommitted) of the output topics, with two long-lived consumers
    (fast enough to look while the engine is frozen)."""

    def __init__(self, topics):
        self.topics = topics
        md = H.admin().list_topics(timeout=10)
        self.parts = {t: sorted(md.topics[t].partitions) for t in topics}
        self.c = {iso: ck.Consumer({"bootstrap.servers": H.KAFKA_BROKERS,
                                    "group.id": "wm-" + uuid.uuid4().hex,
                                    "enable.auto.commit": False,
                                    "isolation.level": iso})
                  for iso in ("read_committed", "read_uncommitted")}

    def sample(self):
        """{topic: {partition: (last stable offset, high watermark)}}"""
        out = {}
        for t in self.topics:
            out[t] = {}
            for p in self.parts[t]:
                tp = ck.TopicPartition(t, p)
                hw = self.c["read_uncommitted"].get_watermark_offsets(
                    tp, timeout=10)[1]
                lso = self.c["read_committed"].get_watermark_offsets(
                    tp, timeout=10)[1]
                out[t][p] = (min(lso, hw), hw)
        return out

    def close(self):
        for c in self.c.values():
            c.close()


def freeze_while_applying(proc, probe, rnd, tries=60):
    """Freezes the engine (SIGSTOP) at random moments until it is caught in
    the middle of applying a batch: some outputs of the open transaction
    written, its sequence record not yet. Returns the number of freezes; the
    engine is left frozen (to be SIGKILLed: to the broker that is a kill at
    the moment of the freeze), at the last try whatever its state."""
    seq = [t for t in probe.topics if t.endswith(SEQ)][0]
    for i in range(1, tries + 1):
        time.sleep(rnd.uniform(0.0, 0.03))
        proc.popen.send_signal(signal.SIGSTOP)
        try:
            time.sleep(0.02)          # let what was on the wire land
            wm = probe.sample()
        except BaseException:
            proc.popen.send_signal(signal.SIGCONT)
            raise
        seq_open = any(hw > lso for lso, hw in wm[seq].values())
        other_open = any(hw > lso for t in probe.topics if t != seq
                         for lso, hw in wm[t].values())
        if (other_open and not seq_open) or i == tries:
            return i
        proc.popen.send_signal(signal.SIGCONT)
    return tries


# ------------------------------------------------------------ the checks

def evtype(r):
    return r.headers.get("ce_type", "")[len(P):]


def verify(h, cmds, phase):
    """Every check over the whole committed output; returns a summary."""
    prefix = h.prefix
    got = H.read_many([h.topic(n) for n in OUTPUTS])
    out = {n: got[h.topic(n)] for n in OUTPUTS}
    expected = dict(cmds.sent)
    seq_topic = h.topic(SEQ)

    # the input topics hold exactly what we produced
    in_topic_keys = {(r.topic, r.partition, r.offset)
                     for recs in H.read_many([h.topic(n) for n in INPUTS],
                                             "read_uncommitted").values()
                     for r in recs}
    check(in_topic_keys == set(expected),
          "[%s] the input topics hold %d records, %d were produced "
          "(%d not produced, %d produced but absent)"
          % (phase, len(in_topic_keys), len(expected),
             len(in_topic_keys - set(expected)),
             len(set(expected) - in_topic_keys)))

    # (1) no duplicate event_id; envelope basics
    for n in OUTPUTS:
        seen = {}
        for r in out[n]:
            check(r.value is not None and isinstance(r.value, dict),
                  "[%s] %s/%d/%d is not a JSON object: %r"
                  % (phase, r.topic, r.partition, r.offset, r.raw[:200]))
            eid = r.value.get("event_id")
            check(isinstance(eid, str), "[%s] %s/%d has no event_id: %r"
                  % (phase, r.topic, r.offset, r.raw[:300]))
            check(eid not in seen, "[%s] duplicate event_id %s in %s at "
                  "offsets %d and %d" % (phase, eid, n, seen.get(eid, -1),
                                          r.offset))
            seen[eid] = r.offset
            check(r.headers.get("ce_id") == eid and r.key == H.MARKET.encode(),
                  "[%s] %s/%d: ce_id %r / key %r for event %s"
                  % (phase, n, r.offset, r.headers.get("ce_id"), r.key, eid))

    # (2) the sequence log
    seqs = out[SEQ]
    order = []                 # input keys in the order they were applied
    batch_of = {}
    for i, s in enumerate(seqs):
        v = s.value
        b = i + 1
        check(v.get("batch") == b,
              "[%s] sequence record %d (offset %d) has batch %r, expected %d "
              "(previous: %r)" % (phase, i, s.offset, v.get("batch"), b,
                                  seqs[i - 1].value if i else None))
        check(v["event_id"] == "%s/%d" % (h.engine_id, b)
              and v["engine_id"] == h.engine_id
              and evtype(s) == "engine.sequence.v1",
              "[%s] sequence record %d: %r %r" % (phase, b, v, s.headers))
        check(v["topics"] == [prefix + n for n in INPUTS],
              "[%s] sequence record %d topics %r" % (phase, b, v["topics"]))
        for t, part, off in v["inputs"]:
            check(0 <= t < len(v["topics"]), "[%s] batch %d names topic "
                  "index %r" % (phase, b, t))
            key = (v["topics"][t], part, off)
            check(key not in batch_of, "[%s] input %r listed twice: batches "
                  "%d and %d" % (phase, key, batch_of.get(key, -1), b))
            batch_of[key] = b
            order.append(key)
    missing = set(expected) - set(batch_of)
    extra = set(batch_of) - set(expected)
    check(len(order) == len(expected) and not missing and not extra,
          "[%s] the sequence lists %d inputs, %d were produced; %d missing "
          "(e.g. %r), %d never produced (e.g. %r)"
          % (phase, len(order), len(expected), len(missing),
             sorted(missing)[:5], len(extra), sorted(extra)[:5]))
    last = {}
    for key in order:
        tp = key[:2]
        check(key[2] > last.get(tp, -1),
              "[%s] %s/%d: offset %d applied after offset %d (batches %d, %d)"
              % (phase, tp[0], tp[1], key[2], last.get(tp, -1),
                 batch_of[key], batch_of.get(tp + (last.get(tp, -1),), -1)))
        last[tp] = key[2]

    # (3) events per input
    by_input = {}
    for n in OUTPUTS[:-1]:
        for r in out[n]:
            v = r.value
            parts = v["event_id"].rsplit("/", 3)
            check(len(parts) == 4, "[%s] event_id %r is not topic/partition/"
                  "offset/n" % (phase, v["event_id"]))
            key = (parts[0], int(parts[1]), int(parts[2]))
            check(v.get("input") == {"topic": key[0], "partition": key[1],
                                     "offset": key[2]},
                  "[%s] %s: input %r does not match its event_id"
                  % (phase, v["event_id"], v.get("input")))
            check(key in batch_of, "[%s] event %s (%s, %s/%d): its input is "
                  "in no sequence record" % (phase, v["event_id"], evtype(r),
                                             n, r.offset))
            cmd = expected[key]["value"]
            check(v.get("command_id") == cmd["command_id"],
                  "[%s] event %s has command_id %r, the input's is %r"
                  % (phase, v["event_id"], v.get("command_id"),
                     cmd["command_id"]))
            by_input.setdefault(key, []).append((int(parts[3]), r))
    for key, evs in by_input.items():
        evs.sort(key=lambda x: x[0])
        check([k for k, _ in evs] == list(range(len(evs))),
              "[%s] events of input %r are numbered %r, not 0..%d"
              % (phase, key, [k for k, _ in evs], len(evs) - 1))

    # (4) the hash chain, in production order
    chain = bytes(32)
    production = []            # every record, in production order
    for s in seqs:
        v = s.value
        for t, part, off in v["inputs"]:
            for _, r in by_input.get((v["topics"][t], part, off), []):
                check(r.value["prev_hash"] == chain.hex(),
                      "[%s] hash chain broken at %s (%s, %s/%d, batch %d): "
                      "prev_hash %s, recomputed %s"
                      % (phase, r.value["event_id"], evtype(r), r.topic,
                         r.offset, v["batch"], r.value["prev_hash"],
                         chain.hex()))
                chain = hashlib.blake2b(chain + r.raw, digest_size=32).digest()
                production.append(r)
        check(v["prev_hash"] == chain.hex(),
              "[%s] hash chain broken at sequence batch %d (offset %d): "
              "prev_hash %s, recomputed %s"
              % (phase, v["batch"], s.offset, v["prev_hash"], chain.hex()))
        chain = hashlib.blake2b(chain + s.raw, digest_size=32).digest()
        production.append(s)
    n_out = sum(len(out[n]) for n in OUTPUTS)
    check(len(production) == n_out, "[%s] %d records in production order, "
          "%d on the topics" % (phase, len(production), n_out))
    last_off = {}
    for i, r in enumerate(production):
        tp = (r.topic, r.partition)
        check(r.offset > last_off.get(tp, -1),
              "[%s] %s/%d: offset %d was produced after offset %d"
              % (phase, r.topic, r.partition, r.offset, last_off.get(tp, -1)))
        last_off[tp] = r.offset

    # (5) business sanity
    listed, buys = {}, {}
    for key in order:
        info = expected[key]
        kind, cmd = info["kind"], info["value"]
        evs = [r for _, r in by_input.get(key, [])]
        types = [evtype(r) for r in evs]
        where = "[%s] %s %s/%d/%d (batch %d)" % (phase, kind, key[0], key[1],
                                                key[2], batch_of[key])
        if kind == "wallet.deposit.v1":
            check(types == ["journal.entry.v1"], "%s: events %r" % (where, types))
            j = evs[0].value
            check(j["reason"] == "deposit" and j["ref_id"] == cmd["reference"]
                  and sorted((p["account"], p["amount"]) for p in j["postings"])
                  == sorted([("external", -cmd["amount"]),
                             ("wallet:" + cmd["participant_id"], cmd["amount"])]),
                  "%s: journal entry %r" % (where, j))
        elif kind == "participant.profile.v1":
            check(types == ["participant.updated.v1"]
                  and evs[0].value["participant_id"] == cmd["participant_id"]
                  and evs[0].value["capacity_wh_per_month"]
                  == cmd["capacity_wh_per_month"],
                  "%s: events %r" % (where, [r.value for r in evs]))
        elif kind == "offer.submit.v1":
            want = "offer.rejected.v1" if cmd["_misaligned"] else "offer.listed.v1"
            check(types == [want], "%s (misaligned: %s): events %r %r"
                  % (where, cmd["_misaligned"], types,
                     [r.value.get("reason") for r in evs]))
            if want == "offer.listed.v1":
                o = evs[0].value["offer"]
                check(o["offer_id"] == cmd["offer_id"]
                      and o["quantity_wh"] == cmd["quantity_wh"],
                      "%s: listed %r" % (where, o))
                check(cmd["offer_id"] not in listed, "%s: offer %s listed "
                      "twice" % (where, cmd["offer_id"]))
                listed[cmd["offer_id"]] = o["quantity_wh"]
        elif kind == "order.buy.v1":
            if types == ["order.rejected.v1"]:
                check(evs[0].value["subject_id"] == cmd["order_id"],
                      "%s: rejection %r" % (where, evs[0].value))
                code = evs[0].value["reason"]["code"]
                buys[code] = buys.get(code, 0) + 1
                continue
            buys["confirmed"] = buys.get("confirmed", 0) + 1
            check(len(types) >= 4 and types[0] == "order.reserved.v1"
                  and types[-2:] == ["journal.entry.v1", "order.confirmed.v1"]
                  and all(t == "fill.v1" for t in types[1:-2]),
                  "%s: events %r" % (where, types))
            fills = [r.value for r in evs[1:-2]]
            conf = evs[-1].value
            check(all(f["order_id"] == cmd["order_id"]
                      and f["buyer_id"] == cmd["buyer_id"] for f in fills)
                  and conf["order_id"] == cmd["order_id"]
                  and conf["filled_wh"] == sum(f["quantity_wh"] for f in fills)
                  and conf["filled_wh"] <= cmd["quantity_wh"]
                  and (cmd.get("allow_partial")
                       or conf["filled_wh"] == cmd["quantity_wh"]),
                  "%s: fills %r, confirmed %r" % (where, fills, conf))
        elif kind == "clock.tick.v1":
            check(types == [], "%s: events %r" % (where, types))
        elif kind == "delivery.report.v1":
            check(types == ["command.rejected.v1"], "%s: events %r"
                  % (where, types))
    sold = {}
    for r in out["fills"]:
        f = r.value
        check(f["offer_id"] in listed, "[%s] fill %s of offer %s, which was "
              "never listed" % (phase, f["fill_id"], f["offer_id"]))
        sold[f["offer_id"]] = sold.get(f["offer_id"], 0) + f["quantity_wh"]
    for oid, wh in sold.items():
        check(wh <= listed[oid], "[%s] offer %s: %d Wh sold of %d"
              % (phase, oid, wh, listed[oid]))
    balances = {}
    for r in production:
        if r.topic != h.topic("journal"):
            continue
        j = r.value
        check(sum(p["amount"] for p in j["postings"]) == 0,
              "[%s] journal entry %s does not balance: %r"
              % (phase, j["event_id"], j["postings"]))
        for p in j["postings"]:
            a = p["account"]
            balances[a] = balances.get(a, 0) + p["amount"]
            if a.startswith("wallet:") or a.startswith("escrow:"):
                check(balances[a] >= 0, "[%s] %s goes to %d at journal entry "
                      "%s" % (phase, a, balances[a], j["event_id"]))
    counts = {n: len(out[n]) for n in OUTPUTS}
    return {"counts": counts, "batches": len(seqs), "inputs": len(order),
            "chain": chain.hex(), "fills": len(out["fills"]),
            "sold_wh": sum(sold.values()), "buys": buys}


def classify_kills(h, kills):
    """For each kill, the records of the interrupted transaction (between the
    last stable offset and the high watermark at the kill): how many were
    aborted and how many committed later (a commit already under way)."""
    topics = [h.topic(n) for n in OUTPUTS]
    committed = {t: {(r.partition, r.offset) for r in recs}
                 for t, recs in H.read_many(topics).items()}
    uncommitted = H.read_many(topics, "read_uncommitted")
    for k in kills:
        k["aborted"], k["late"], k["aborted_inputs"] = 0, 0, set()
        k["aborted_seq"] = 0
        for t, parts in k["wm"].items():
            for p, (lso, hw) in parts.items():
                if hw <= lso:
                    continue
                for r in uncommitted[t]:
                    if r.partition != p or not lso <= r.offset < hw:
                        continue
                    if (p, r.offset) in committed[t]:
                        k["late"] += 1
                    else:
                        k["aborted"] += 1
                        try:
                            v = json.loads(r.raw)
                            if t == h.topic(SEQ):
                                k["aborted_seq"] += 1
                            else:
                                k["aborted_inputs"].add(
                                    v["event_id"].rsplit("/", 1)[0])
                        except (ValueError, KeyError, TypeError):
                            pass
    return kills


# ------------------------------------------------------------ the test

def main():
    seed = int(os.environ.get("P2P_ENGINE_CRASH_SEED", str(int(time.time()))))
    rnd = random.Random(seed)
    H.log("seed %d, %d commands, %d partitions per input topic"
          % (seed, N, PARTITIONS))
    t_begin = time.time()
    with H.Harness() as h:
        H.create_topics([h.topic(n) for n in INPUTS], PARTITIONS)
        engine = h.start_engine(**ENGINE_ENV)
        for n in OUTPUTS:
            H.wait_until(lambda n=n: H.topic_exists(h.topic(n)), 60,
                         what="topic %s" % h.topic(n))
        wait_ready(h, engine)

        cmds = Commands(h, random.Random(seed + 2), H.now_ms())
        prod = ck.Producer({"bootstrap.servers": H.KAFKA_BROKERS,
                            "acks": "all", "enable.idempotence": True,
                            "linger.ms": 5})
        seqw = SequenceWatcher(h.topic(SEQ))
        # a funded market with a book first (more than
        # P2P_ENGINE_SNAPSHOT_EVERY inputs: a snapshot exists before the
        # first kill, so every restart loads it and replays the log after it)
        for c in cmds.opening(PRELOAD_OFFERS):
            cmds.produce(prod, c)
        cmds.flush(prod)
        seqw.wait_inputs(len(cmds.sent))
        H.log("opening: %d commands applied" % len(cmds.sent))
        phase1 = cmds.mix(N - len(cmds.sent))
        done = threading.Event()
        prod_err = []
        prnd = random.Random(seed + 1)

        def producer():
            try:
                i = 0
                while i < len(phase1):
                    burst = prnd.randint(30, 120)
                    for c in phase1[i:i + burst]:
                        cmds.produce(prod, c)
                    i += burst
                    prod.poll(0)
                    time.sleep(prnd.uniform(0.3, 0.7))
                cmds.flush(prod)
            except Exception as e:  # pylint: disable=broad-except
                prod_err.append(e)
            finally:
                done.set()
        th = threading.Thread(target=producer, daemon=True)
        th.start()

        # ---- kill at random moments: mostly while the engine works through
        # a backlog (so transactions are open), sometimes while it recovers
        out_topics = [h.topic(n) for n in OUTPUTS]
        probe = WatermarkProbe(out_topics)
        kills = []
        t_loop = time.time()

        def backlog():
            return cmds.produced - seqw.poll()
        while True:
            n_open = sum(1 for k in kills if k["open"])
            n_partial = sum(1 for k in kills if k["open"] and not k["open_seq"])
            mode = "random"
            if rnd.random() < 0.2:
                mode = "starting"
                time.sleep(rnd.uniform(0.0, 1.5))     # likely still starting
            else:
                # until the engine commits its first batch (or has nothing to
                # do), then a random moment while it works
                wait_ready(h, engine)
                base = seqw.poll()

                def working():
                    check(engine.alive(), "engine exited with %s; log tail:\n%s"
                          % (engine.popen.returncode, H.tail(engine.log_path)))
                    return seqw.poll() > base or (done.is_set()
                                                  and backlog() == 0)
                H.wait_until(working, timeout=30, interval=0.01,
                             what="the engine to commit a batch")
                time.sleep(rnd.uniform(0.0, 1.0))
                if n_partial < WANT_PARTIAL and rnd.random() < 0.5:
                    mode = "applying"
            left = backlog()
            if (len(kills) >= MIN_KILLS and done.is_set() and (
                    left == 0
                    or (n_open >= WANT_MID_BATCH and n_partial >= WANT_PARTIAL)
                    or time.time() - t_loop > KILL_BUDGET_S)):
                break
            check(engine.alive(), "engine died on its own: status %s\n%s"
                  % (engine.popen.returncode, H.tail(engine.log_path)))
            tries = 0
            if mode == "applying":
                tries = freeze_while_applying(engine, probe, rnd)
            h.kill(engine)
            t_k = time.time() - t_begin
            wm = probe.sample()
            open_recs = sum(b - a for parts in wm.values()
                            for a, b in parts.values())
            open_seq = sum(b - a for a, b in wm[h.topic(SEQ)].values())
            kills.append({"t": t_k, "wm": wm, "open": open_recs,
                          "open_seq": open_seq, "mode": mode})
            H.log("kill %d at %.1fs (%s%s): %d output records (%d sequence) "
                  "in an open transaction; %d commands sent, %d not yet "
                  "applied" % (len(kills), t_k, mode,
                               ", %d freezes" % tries if tries else "",
                               open_recs, open_seq, len(cmds.sent), left))
            engine = h.start_engine(**ENGINE_ENV)
        probe.close()
        th.join(60)
        check(not prod_err, "producing failed: %r" % prod_err)
        check(len(cmds.sent) == N, "%d of %d commands delivered"
              % (len(cmds.sent), N))

        wait_ready(h, engine)
        seqw.wait_inputs(len(cmds.sent), timeout=90)
        H.log("engine applied all %d inputs in %d batches (%.1fs)"
              % (len(cmds.sent), seqw.batch, time.time() - t_begin))

        s1 = verify(h, cmds, "phase 1")
        H.log("phase 1 verified: %d batches, outputs %r, %d fills, %d Wh "
              "sold, buys: %r" % (s1["batches"], s1["counts"], s1["fills"],
                                  s1["sold_wh"], s1["buys"]))

        classify_kills(h, kills)
        mid = [k for k in kills if k["aborted"] > 0]
        partial = [k for k in mid if not k["aborted_seq"]]
        late = [k for k in kills if k["aborted"] == 0 and k["late"] > 0]
        for i, k in enumerate(kills):
            if k["aborted"] and not k["aborted_seq"]:
                what = ("mid-batch, while applying: events of %d inputs "
                        "written (%d records), no sequence record yet; all "
                        "aborted" % (len(k["aborted_inputs"]), k["aborted"]))
            elif k["aborted"]:
                what = ("mid-batch, in the commit: events of %d inputs and "
                        "the sequence record written (%d records); all "
                        "aborted" % (len(k["aborted_inputs"]), k["aborted"]))
            elif k["late"]:
                what = ("after the commit was decided: %d records committed "
                        "after the kill" % k["late"])
            else:
                what = "between transactions (or while starting)"
            H.log("kill %d at %.1fs: %s" % (i + 1, k["t"], what))
        H.log("%d kills: %d mid-batch (%d while applying, %d in the commit), "
              "%d after the commit was decided"
              % (len(kills), len(mid), len(partial), len(mid) - len(partial),
                 len(late)))
        with open(engine.log_path, "rb") as f:
            events = H.log_events(f.read().decode("utf-8", "replace"))
        loads = [e["msg"] for e in events if e.get("event") == "snapshot_loaded"]
        replays = [int(e["msg"].split()[0]) for e in events
                   if e.get("event") == "replayed"]
        H.log("%d snapshot loads; sequence records replayed by each start "
              "that got that far: %r" % (len(loads), replays))

        # ---- phase 2: clean stop, restart from its snapshot
        h.stop(engine)
        stopped = H.log_events(engine.log_text())
        last_batch = s1["batches"]
        snap = [e for e in stopped if e.get("event") == "snapshot_written"]
        check(snap and snap[-1]["msg"].endswith("at batch %d" % last_batch),
              "no snapshot at batch %d on a clean stop: %r"
              % (last_batch, snap[-1:]))
        engine = h.start_engine(**ENGINE_ENV)
        text = wait_ready(h, engine)
        loaded = H.log_events(text, "snapshot_loaded")
        replayed = H.log_events(text, "replayed")
        check(loaded and loaded[0]["msg"].endswith("at batch %d" % last_batch),
              "the restart did not load the snapshot of batch %d: %r"
              % (last_batch, loaded))
        check(replayed and replayed[0]["msg"].startswith(
            "0 sequence records replayed up to batch %d" % last_batch),
              "after the clean stop the restart replayed: %r" % replayed)
        # none to ticks and deliveries: this instance never consumes their
        # partitions, yet its snapshot must record where they stand
        for c in cmds.mix(N_PHASE2, ("participants", "offers", "orders")):
            cmds.produce(prod, c)
        cmds.flush(prod)
        seqw.wait_inputs(len(cmds.sent))
        s2 = verify(h, cmds, "phase 2")
        check(s2["batches"] > last_batch, "phase 2 added no batches")
        H.log("phase 2 verified: %d batches, outputs %r"
              % (s2["batches"], s2["counts"]))
        # and once more: a clean stop, a start from that snapshot
        h.stop(engine)
        engine = h.start_engine(**ENGINE_ENV)
        text = wait_ready(h, engine)
        loaded = H.log_events(text, "snapshot_loaded")
        replayed = H.log_events(text, "replayed")
        check(loaded and loaded[0]["msg"].endswith("at batch %d" % s2["batches"])
              and replayed and replayed[0]["msg"].startswith(
                  "0 sequence records replayed up to batch %d" % s2["batches"]),
              "the second clean restart: %r %r" % (loaded, replayed))

        # ---- phase 3: clean stop, snapshot moved aside: a full replay
        h.stop(engine)
        path = os.path.join(h.env()["P2P_ENGINE_SNAPSHOT_DIR"],
                            h.engine_id + ".snapshot")
        check(os.path.exists(path), "no snapshot at %s" % path)
        shutil.move(path, path + ".phase2")
        engine = h.start_engine(**ENGINE_ENV)
        text = wait_ready(h, engine, timeout=90)
        replayed = H.log_events(text, "replayed")
        check(not H.log_events(text, "snapshot_loaded") and replayed
              and replayed[0]["msg"].startswith(
                  "%d sequence records replayed up to batch %d"
                  % (s2["batches"], s2["batches"])),
              "full replay: %r" % replayed)
        for c in cmds.mix(N_PHASE3):
            cmds.produce(prod, c)
        cmds.flush(prod)
        seqw.wait_inputs(len(cmds.sent))
        s3 = verify(h, cmds, "phase 3")
        seqw.close()
        H.log("phase 3 verified: %d batches, outputs %r (%.1fs in all)"
              % (s3["batches"], s3["counts"], time.time() - t_begin))

        check(len(kills) >= MIN_KILLS, "only %d kills" % len(kills))
        check(mid, "no kill landed mid-batch (open records at the kills: %r); "
              "the test proved less than it should, rerun with another "
              "P2P_ENGINE_CRASH_SEED" % [k["open"] for k in kills])
        H.log("%d kills, %d of them mid-batch (outputs written, transaction "
              "not committed; %d before the sequence record)"
              % (len(kills), len(mid), len(partial)))


if __name__ == "__main__":
    main()
