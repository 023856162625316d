#!/usr/bin/python3
"""./p2p audit (build/engine/p2p-audit): re-execution of the engine over its
recorded inputs, byte for byte.

The engine (small batches and a small snapshot interval, so snapshots are
taken and used) runs over a few thousand commands on all five input topics:
deposits and profiles, offers, one-step buys (a fifth paid by another
platform: payer_id), reservations and their confirmations, buyer
cancellations, platform payments (full, partial, too much, resent), clock ticks and,
once the delivery window is over, DISCOM delivery reports. Midway the engine
is SIGKILLed and restarted (it recovers from its snapshot plus the log).

Then, with the engine stopped:
 1. the audit passes: exit 0, "N events verified, identical", and N is every
    record of the seven output topics (all of them compared);
 2. --max-batches 3 audits exactly 3 batches;
 3. the input topics are copied record by record (same partitions, offsets,
    keys, headers, timestamps) to a second prefix: auditing with
    --input-prefix on the copy passes too;
 4. a second copy differs in one stored input (the quantity of one confirmed
    buy): the audit exits 1 and names the first divergent output: its topic,
    partition and offset, which is the first output of the altered input.
"""
import json
import os
import subprocess
import sys
import uuid

import confluent_kafka as ck

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402

AUDIT = os.path.join(H.BUILD_ROOT, "engine", "p2p-audit")
INPUTS = ("offers", "orders", "participants", "deliveries", "ticks")
OUTPUTS = ("offer-events", "order-events", "fills", "trust", "journal",
           "participant-events", "engine-sequence")
ENGINE_ENV = {"TRUST_DEFAULT_LIMIT": 1000000, "P2P_ENGINE_BATCH": 40,
              "P2P_ENGINE_BATCH_MS": 20, "P2P_ENGINE_SNAPSHOT_EVERY": 300}
PAYER = "bap.energy-consumer.com"
SELLERS, BUYERS, OFFERS, BUYS, RESERVES = 20, 40, 400, 700, 120


def cmd(t, **fields):
    v = {"command_id": str(uuid.uuid4()), "issued_at_ms": t, "market": H.MARKET}
    v.update(fields)
    return v


class Feed:
    def __init__(self, h):
        self.h, self.prod, self.sent = h, H.CommandProducer(), 0

    def send(self, topic, kind, value):
        self.prod.produce(self.h.topic(topic), value, ce_type="energy.p2p." + kind,
                          command_id=value["command_id"])
        self.sent += 1

    def applied(self):
        """Inputs the engine has committed (from its sequence log)."""
        return sum(len(r.value["inputs"])
                   for r in H.read_all(self.h.topic("engine-sequence")))

    def wait(self, timeout=240):
        self.prod.flush()
        n = self.sent
        H.wait_until(lambda: self.applied() >= n, timeout=timeout, interval=1.0,
                     what="the engine to apply %d inputs" % n)


def events(h, topic, ce_type):
    return [r.value for r in H.read_all(h.topic(topic))
            if r.headers.get("ce_type") == "energy.p2p." + ce_type]


def audit(h, *args, expect_rc):
    env = h.env(**{k: v for k, v in ENGINE_ENV.items()})
    p = subprocess.run([AUDIT] + list(args), env=env, capture_output=True,
                       timeout=600, cwd=H.BUILD_ROOT)
    out, err = p.stdout.decode(), p.stderr.decode()
    H.log("audit %s -> %d\n%s" % (" ".join(args), p.returncode, out[-3000:]))
    check(p.returncode == expect_rc,
          "audit %s exited %d, expected %d\nstdout:\n%s\nstderr:\n%s"
          % (args, p.returncode, expect_rc, out[-4000:], err[-4000:]))
    for m in H.SANITIZER_MARKERS:
        check(m not in err, "the audit's stderr reports %r:\n%s" % (m, err[-4000:]))
    check("events verified" in err and "events/s" in err,
          "no progress on stderr:\n%s" % err[-2000:])
    last = out.strip().splitlines()[-1]
    result = json.loads(last)
    check(isinstance(result, dict) and result.get("identical") == (expect_rc == 0),
          "final JSON line %r" % last)
    return out, result


def copy_inputs(h, prefix, alter=None):
    """Copies every input record to prefix+<topic>, same partition and offset,
    key, headers and timestamp; alter(topic, record) may return other bytes."""
    for name in INPUTS:
        src = h.topic(name)
        parts = H.topic_partitions(src)
        H.create_topics([prefix + name], partitions=len(parts))
        recs = H.read_all(src, isolation="read_uncommitted")
        p = ck.Producer({"bootstrap.servers": H.KAFKA_BROKERS, "acks": "all",
                         "enable.idempotence": True})
        got = []
        for r in recs:
            raw = alter(name, r) if alter else None
            p.produce(prefix + name, partition=r.partition, key=r.key,
                      value=raw if raw is not None else r.raw,
                      headers=[(k, v.encode()) for k, v in r.headers.items()],
                      timestamp=r.timestamp,
                      on_delivery=lambda e, m, r=r: got.append((e, r, m.offset() if m else -1)))
            p.poll(0)
        check(p.flush(60) == 0, "copy of %s not delivered" % name)
        for e, r, off in got:
            check(e is None and off == r.offset,
                  "copy of %s/%d/%d landed at %d (%s): offsets must match"
                  % (name, r.partition, r.offset, off, e))


def main():
    with H.Harness("test_audit") as h:
        t0 = H.now_ms()
        w = H.future_window(6, 1, t0)
        h.start_engine(**ENGINE_ENV)
        f = Feed(h)

        # -- participants and offers
        for s in range(SELLERS):
            f.send("participants", "participant.profile.v1",
                   cmd(t0, participant_id="s%d" % s, capacity_wh_per_month=100000000))
            f.send("participants", "wallet.deposit.v1",
                   cmd(t0, participant_id="s%d" % s, amount=100000))
        for b in range(BUYERS):
            f.send("participants", "wallet.deposit.v1",
                   cmd(t0, participant_id="b%d" % b, amount=2000000 if b % 8 else 3000))
        for i in range(OFFERS):
            start = w["start_ms"] + (i % 2) * H.SLOT_MS
            f.send("offers", "offer.submit.v1", H.submit_command(
                offer_id="L%d" % i, seller_id="s%d" % (i % SELLERS), issued_at_ms=t0 + 1,
                quantity_wh=5000, price_per_kwh=500 + (i * 37) % 400,
                delivery_start_ms=start, delivery_end_ms=start + H.SLOT_MS))
        f.wait()

        # -- buys (a fifth paid by another platform), reservations, ticks
        t = t0 + 1000
        for i in range(BUYS):
            t += 50
            body = cmd(t, order_id="o%d" % i, buyer_id="b%d" % (i % BUYERS),
                       quantity_wh=1000 + (i % 5) * 500,
                       window_start_ms=w["start_ms"], window_end_ms=w["end_ms"] + H.SLOT_MS,
                       allow_partial=(i % 7 == 0))
            if i % 5 == 0:
                body.update(buyer_id="x%d" % i, payer_id=PAYER)
            f.send("orders", "order.buy.v1", body)
            if i % 4 == 0:
                f.send("ticks", "clock.tick.v1", cmd(t))
        for i in range(RESERVES):
            t += 50
            body = cmd(t, order_id="r%d" % i, buyer_id="b%d" % (i % BUYERS),
                       quantity_wh=1000, window_start_ms=w["start_ms"],
                       window_end_ms=w["end_ms"] + H.SLOT_MS)
            if i % 3 == 0:
                body.update(buyer_id="y%d" % i, payer_id=PAYER)
            f.send("orders", "order.reserve.v1", body)
        f.wait()

        # -- confirmations, then a SIGKILL of the engine while more arrive
        for i in range(RESERVES):
            t += 50
            f.send("orders", "order.confirm.v1",
                   cmd(t, order_id="r%d" % i,
                       buyer_id=("y%d" % i) if i % 3 == 0 else "b%d" % (i % BUYERS)))
        f.prod.flush()
        H.wait_until(lambda: f.applied() >= f.sent - RESERVES // 2, timeout=120,
                     interval=0.5, what="half of the confirmations")
        h.kill(h.engine)
        h.start_engine(log_name="engine-2", **ENGINE_ENV)
        f.wait()

        # -- buyer cancellations and platform payments
        confirmed = {e["order_id"]: e for e in events(h, "order-events", "order.confirmed.v1")}
        check(len(confirmed) > BUYS // 2, "only %d orders confirmed" % len(confirmed))
        payer_orders = sorted(o for o, e in confirmed.items() if e["payer_id"] == PAYER)
        wallet_orders = sorted(o for o, e in confirmed.items() if e["payer_id"] is None)
        check(len(payer_orders) > 50, "only %d payer orders confirmed" % len(payer_orders))
        for k, o in enumerate(wallet_orders[:60]):
            t += 50
            f.send("orders", "order.cancel.v1",
                   cmd(t, order_id=o, buyer_id=confirmed[o]["buyer_id"]))
        for k, o in enumerate(payer_orders):
            t += 50
            total = confirmed[o]["total"]
            amount = total if k % 4 else total // 2
            if k % 10 == 3:
                amount = total + 1  # refused: more than is owed
            f.send("orders", "order.payment.v1",
                   cmd(t, order_id=o, payer_id=PAYER, amount=amount, reference="utr-%d" % k))
            if k % 10 == 6:  # resent (a lost answer): refused, duplicate_payment
                t += 50
                f.send("orders", "order.payment.v1",
                       cmd(t, order_id=o, payer_id=PAYER, amount=amount, reference="utr-%d" % k))
        f.wait()

        # -- the delivery window passes; the DISCOM reports
        after = w["end_ms"] + 3 * H.SLOT_MS
        f.send("ticks", "clock.tick.v1", cmd(after))
        f.wait()
        fills = events(h, "fills", "fill.v1")
        for k, fl in enumerate(fills):
            f.send("deliveries", "delivery.report.v1",
                   cmd(after + 1 + k, fill_id=fl["fill_id"],
                       delivered_wh=fl["quantity_wh"] if k % 6 else fl["quantity_wh"] // 2))
        f.wait()
        paid = events(h, "order-events", "order.paid.v1")
        check(len(paid) > 30, "only %d payments accepted" % len(paid))
        dups = [e for e in events(h, "order-events", "command.rejected.v1")
                if e["reason"]["code"] == "duplicate_payment"]
        check(len(dups) >= 3, "only %d resent payments refused" % len(dups))
        h.stop(h.engine)

        # 1. the whole log, identical
        total = sum(len(H.read_all(h.topic(n))) for n in OUTPUTS)
        H.log("inputs %d, output records %d" % (f.sent, total))
        check(total > 4000, "only %d output records" % total)
        out, res = audit(h, expect_rc=0)
        check("%d events verified, identical" % total in out,
              "audit did not verify all %d output records:\n%s" % (total, out))
        check(res["events"] == total and res["inputs"] == f.sent,
              "audit result %r (expected %d events, %d inputs)" % (res, total, f.sent))

        # 2. a prefix of the log
        _, res = audit(h, "--max-batches", "3", expect_rc=0)
        check(res["batches"] == 3, "--max-batches 3 audited %r" % res)

        # 3. an exact copy of the inputs audits identical
        same = h.prefix + "same."
        copy_inputs(h, same)
        _, res = audit(h, "--input-prefix", same, expect_rc=0)
        check(res["events"] == total, "copy audit %r" % res)

        # 4. one altered input: the first divergence is its first output
        victim = confirmed[[o for o in wallet_orders if o.startswith("o")][-1]]  # a buy
        where = victim["input"]
        H.log("altering %s/%d/%d (order %s)" % (where["topic"], where["partition"],
                                                where["offset"], victim["order_id"]))

        def alter(name, r):
            if (h.topic(name) == where["topic"] and r.partition == where["partition"]
                    and r.offset == where["offset"]):
                v = dict(r.value)
                v["quantity_wh"] = v["quantity_wh"] - 500
                return json.dumps(v).encode()
            return None
        bad = h.prefix + "bad."
        copy_inputs(h, bad, alter)
        out, res = audit(h, "--input-prefix", bad, expect_rc=1)
        d = res.get("divergence")
        check(d is not None, "no divergence in %r" % res)
        stored = [r for r in H.read_all(d["topic"])
                  if r.partition == d["partition"] and r.offset == d["offset"]]
        check(len(stored) == 1, "the audit names %r, which is not a stored record" % d)
        check(stored[0].value["input"] == where,
              "the first divergence %r is an output of input %r, not of the altered %r"
              % (d, stored[0].value.get("input"), where))
        check(stored[0].value["event_id"].endswith("/0"),
              "the first divergence is not the altered input's first output: %s"
              % stored[0].value["event_id"])
        check("first divergence: topic %s partition %d offset %d"
              % (d["topic"], d["partition"], d["offset"]) in out,
              "the verdict does not name the offset:\n%s" % out)
        check(res["inputs"] < f.sent, "the audit went on after the divergence: %r" % res)


if __name__ == "__main__":
    main()
