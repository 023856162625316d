#!/usr/bin/python3
"""./p2p rebuild while the platform serves.

After the engine wrote thousands of events (the seeded benchmark workload)
and the live projector applied them, p2p-rebuild projects the whole log into
fresh tables, verifies and swaps them in, while a client keeps calling
GET /api/offers. Then:
  * the run is recorded in rebuild_runs as swapped, with its event count;
  * every read-model table equals what the live projector had built
    (table-by-table diff empty);
  * the gateway answered every request during the rebuild and the swap;
  * the live projector carries on in the new tables: a deposit made after
    the swap is applied exactly once.
"""
import json
import os
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402
import readmodel_check as R  # noqa: E402

EVENTS = int(os.environ.get("P2P_REBUILD_TEST_EVENTS", "6000"))


def main():
    with H.Harness() as h:
        h.create_db()
        h.start_engine()
        h.start_projector()
        h.start_gateway(dev_auth=True)
        gen = R.run_workload(h, EVENTS)
        recs = R.committed_events(h)
        total = sum(len(v) for v in recs.values())
        check(total >= EVENTS, "only %d events for %r" % (total, gen))
        R.wait_applied(h.query, h.projector_id, total)
        before = {t: R.table_rows(h.query, t) for t in R.READ_MODEL_TABLES}
        n_offers = len(before["offers"])

        # a client reading offers all along
        stop, answers = threading.Event(), []

        def reader():
            while not stop.is_set():
                t0 = time.time()
                try:
                    st, body = h.http("GET", "/api/offers", timeout=10)
                except Exception as e:  # pylint: disable=broad-except
                    st, body = repr(e), None
                answers.append((t0, time.time(), st,
                                isinstance(body, (dict, list))))
        th = threading.Thread(target=reader, daemon=True)
        th.start()
        time.sleep(0.5)
        log_path = os.path.join(h.log_dir, "rebuild.log")
        t_start = time.time()
        with open(log_path, "wb") as log:
            out = subprocess.run([R.REBUILD_BIN], env=h.env(),
                                 stdout=subprocess.PIPE, stderr=log,
                                 timeout=300, check=False)
        t_end = time.time()
        time.sleep(0.5)
        stop.set()
        th.join(15)
        check(out.returncode == 0, "p2p-rebuild failed (%d): %s\n%s"
              % (out.returncode, out.stdout[-500:], H.tail(log_path)))
        summary = json.loads(out.stdout.decode().strip().splitlines()[-1])
        H.log("rebuild: %r" % summary)
        check(summary["status"] == "swapped" and summary["events"] == total,
              "summary %r, the log holds %d events" % (summary, total))
        with open(log_path, "rb") as f:
            err_text = f.read().decode("utf-8", "replace")
        check("events/s" in err_text and "ETA" in err_text,
              "no progress bar on stderr: %r" % err_text[-500:])

        runs = h.query("select * from rebuild_runs order by run_id")
        check(len(runs) == 1 and runs[0]["status"] == "swapped"
              and runs[0]["events"] == total
              and runs[0]["finished_at"] is not None
              and runs[0]["events_per_sec"] > 0,
              "rebuild_runs: %r" % runs)
        check(h.scalar("select count(*) from pg_namespace where nspname = "
                       "'readmodel_new'") == 0, "scratch schema left behind")

        after = {t: R.table_rows(h.query, t) for t in R.READ_MODEL_TABLES}
        diffs = [(t, len(before[t]), len(after[t])) for t in before
                 if before[t] != after[t]]
        check(not diffs, "rebuilt tables differ from the live model: %r"
              % diffs)
        check(n_offers > 0, "no offers were listed")

        during = [a for a in answers if a[1] >= t_start and a[0] <= t_end]
        bad = [a for a in answers if a[2] != 200 or not a[3]]
        check(len(during) >= 5, "only %d requests during the rebuild"
              % len(during))
        check(not bad, "%d of %d requests failed during the rebuild, e.g. %r"
              % (len(bad), len(answers), bad[:3]))
        slowest = max(a[1] - a[0] for a in answers)
        H.log("%d requests during the rebuild, all 200; slowest %.3f s"
              % (len(during), slowest))

        # the live projector continues in the swapped-in tables, exactly once
        who = "after-rebuild-%s" % uuid.uuid4().hex[:6]
        prod = H.CommandProducer()
        prod.produce_sync(h.topic("participants"), {
            "command_id": str(uuid.uuid4()), "issued_at_ms": H.now_ms(),
            "market": H.MARKET, "participant_id": who, "amount": 12345,
            "reference": "after-rebuild"}, ce_type="energy.p2p.wallet.deposit.v1")
        R.wait_applied(h.query, h.projector_id, total + 1)
        bal = h.query("select balance from accounts where account = %s",
                      ("wallet:" + who,))
        check(bal == [{"balance": 12345}], "deposit after the swap: %r" % bal)
        check(h.scalar("select coalesce(sum(balance), 0) from accounts") == 0,
              "balances do not sum to zero after the swap")
        check(h.projector.alive() and h.engine.alive(),
              "engine or projector died")


if __name__ == "__main__":
    main()
