#!/usr/bin/python3
"""Every read model, exactly once, under SIGKILL.

The engine is fed the seeded benchmark workload (bench/workload.c through
p2p-bench-commands: listings, quotes, reservations, confirmations, buys,
cancellations by buyers and sellers, withdrawals, deposits, profiles, meter
data, deliveries, ticks), so orders, fills, trust changes and journal entries
flow on all six output topics, while the projector is SIGKILLed at random
moments and restarted. Then:
  * counts and balances straight from the log: one row per order, fill,
    offer, rejection, journal entry, trust change, delivery and status event;
    every account's balance equals the sum of its postings; every order's
    status is its last status event;
  * a second projector that was never killed, run from the same topics into
    another database (so reading the topics in another interleaving), must
    produce identical tables, row for row.
"""
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402
import readmodel_check as R  # noqa: E402

EVENTS = int(os.environ.get("P2P_PROJECTIONS_EVENTS", "12000"))
MIN_KILLS = 3


def main():
    seed = int(os.environ.get("P2P_CRASH_SEED", str(int(time.time()))))
    rnd = random.Random(seed)
    H.log("seed %d, %d events" % (seed, EVENTS))
    with H.Harness() as h:
        h.create_db()
        h.start_engine()
        proj = h.start_projector()

        box = {}

        def feed():
            try:
                box["gen"] = R.run_workload(h, EVENTS, seed=seed % 1000 + 1)
            except Exception as e:  # pylint: disable=broad-except
                box["error"] = e
        th = threading.Thread(target=feed, daemon=True)
        th.start()

        kills, kill_log = 0, []
        while th.is_alive() or kills < MIN_KILLS:
            time.sleep(rnd.uniform(0.3, 2.0))
            check(proj.alive(), "projector died on its own:\n%s"
                  % H.tail(proj.log_path))
            h.kill(proj)
            kills += 1
            v = h.query("select events_applied from projector_stats")
            kill_log.append(v[0]["events_applied"] if v else 0)
            proj = h.start_projector(wait_tables=False)
        th.join()
        check("error" not in box, "workload failed: %r" % box.get("error"))
        H.log("workload %r; %d kills, applied at each: %r"
              % (box["gen"], kills, kill_log))
        check(len(set(kill_log)) > 1 and 0 < max(kill_log[:-1] or [0]),
              "no kill landed while events were being applied: %r" % kill_log)

        recs = R.committed_events(h)
        total = sum(len(v) for v in recs.values())
        R.wait_applied(h.query, h.projector_id, total)
        count = R.check_against_log(h.query, recs, h.soft)
        check(count.get("fill.v1", 0) > 100 and count.get("journal.entry.v1", 0) > 100
              and count.get("trust.changed.v1", 0) > 10,
              "the workload produced too few fills/journal/trust events: %r"
              % count)

        # An uninterrupted projection of the same log into another database.
        other = R.Db(h.dbname + "_b")
        try:
            p2 = h.start("projector", log_name="projector-b",
                         PG_CONNINFO=other.conninfo,
                         P2P_PROJECTOR_ID=h.projector_id + "-b")
            H.wait_until(lambda: other.query(
                "select to_regclass('public.projector_stats') is not null "
                "as ok")[0]["ok"], timeout=60, what="second projector tables")
            R.wait_applied(other.query, h.projector_id + "-b", total,
                           what="second projector")
            diffs = R.diff_tables(h.query, other.query)
            check(not diffs, "the killed projector's tables differ from an "
                  "uninterrupted projection: %r" % diffs)
            h.stop(p2)
        finally:
            other.close()
        check(h.engine.alive() and proj.alive(), "engine or projector died")
        H.log("%d events on %d topics, every table equal, counts %r"
              % (total, len(recs), count))


if __name__ == "__main__":
    main()
