#!/usr/bin/python3
"""Records that no well-behaved producer writes must not stall the engine:
invalid UTF-8 and over-long ids in the CloudEvents headers, an unknown type
with invalid bytes, no headers at all, a command for another market. Each
gets a rejection that encodes as JSON and validates against its schema (bytes
that are not printable ASCII are replaced), and a valid offer behind them is
still listed. Before the fix, one such record aborted every batch forever."""
import os
import sys

import confluent_kafka as ck

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402


def raw(producer, topic, headers, value):
    producer.produce(topic, key=b"default", value=value, headers=headers)


def main():
    with H.Harness() as h:
        h.create_db()
        h.start_engine()
        offers, participants = h.topic("offers"), h.topic("participants")
        H.wait_until(lambda: H.topic_exists(offers) and H.topic_exists(participants), 30,
                     what="the engine's topics")
        p = ck.Producer({"bootstrap.servers": H.KAFKA_BROKERS, "acks": "all"})
        deposit = b'{"command_id":"x","issued_at_ms":1,"market":"default"}'
        raw(p, participants, [("ce_type", b"energy.p2p.wallet.deposit.v1"), ("ce_id", b"ab\xc3")], deposit)
        raw(p, participants, [("ce_type", b"energy.p2p.wallet.deposit.v1"), ("ce_id", "\u00e9".encode() * 40)], deposit)
        raw(p, offers, [("ce_type", b"energy.p2p.\xff\xfe"), ("ce_id", b"id-1")], b"{}")
        raw(p, offers, [], b"\x00\x01 not even json")
        other = H.submit_command(market="elsewhere")
        raw(p, offers, [("ce_type", H.SUBMIT_TYPE.encode()), ("ce_id", other["command_id"].encode())],
            H.json.dumps(other).encode())
        check(p.flush(30) == 0, "raw records not delivered")
        good = H.submit_command()
        H.CommandProducer().produce_sync(offers, good)
        h.wait_http_ready = None  # no gateway in this test

        def listed():
            recs = H.read_all(h.topic("offer-events"), timeout=5)
            return recs if any(r.headers.get("ce_type") == H.LISTED_TYPE
                               and r.value["offer"]["offer_id"] == good["offer_id"] for r in recs) else None
        events = H.wait_until(listed, 60, what="the valid offer behind the poison records")
        rejected = [r for t in ("offer-events", "participant-events")
                    for r in H.read_all(h.topic(t), timeout=5)
                    if r.headers.get("ce_type") in ("energy.p2p.command.rejected.v1",
                                                     "energy.p2p.offer.rejected.v1")]
        check(len(rejected) == 5, "expected 5 rejections, got %d: %r"
              % (len(rejected), [r.value for r in rejected]))
        for r in rejected + events:
            H.check_envelope(r, "poison")
        codes = sorted(r.value["reason"]["code"] for r in rejected)
        check(codes.count("wrong_market") == 1 and codes.count("unknown_type") == 2,
              "rejection codes: %r" % codes)
        check(h.engine.alive(), "the engine died")
    print("ok")


if __name__ == "__main__":
    main()
