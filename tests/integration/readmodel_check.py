"""Helpers of the read-model tests (test_projections.py, test_rebuild.py):
drive the engine with the seeded benchmark workload, wait for a projector to
catch up, and compare read-model tables between two databases or schemas.
"""
import os
import subprocess
import time

import psycopg2

import harness as H
from harness import check

# Every table a projector writes except its own bookkeeping (whose rows name
# the projector), i.e. what two projections of one log must agree on.
READ_MODEL_TABLES = [
    "offers", "offer_rejections", "offer_energy", "orders", "order_lines",
    "order_status_history", "fills", "participants", "trust_history",
    "accounts", "journal_entries", "journal_postings", "delivery_reports",
    "market_slots", "command_results"]

OUTPUT_TOPICS = ["offer-events", "order-events", "fills", "trust", "journal",
                 "participant-events"]

COMMANDS_BIN = os.path.join(H.BUILD_ROOT, "bench", "p2p-bench-commands")
REBUILD_BIN = os.path.join(H.BUILD_ROOT, "projections", "p2p-rebuild")


def run_workload(h, events, seed=7, in_flight=2000):
    """Feeds the running engine with the workload of bench/workload.c until
    it has written `events` events; returns the generator's JSON summary."""
    check(os.access(COMMANDS_BIN, os.X_OK), "%s is not built" % COMMANDS_BIN)
    log_path = os.path.join(h.log_dir, "commands.log")
    with open(log_path, "ab") as log:
        out = subprocess.run(
            [COMMANDS_BIN, "--events", str(events), "--seed", str(seed),
             "--in-flight", str(in_flight)],
            env=h.env(), stdout=subprocess.PIPE, stderr=log, timeout=600,
            check=False)
    check(out.returncode == 0, "p2p-bench-commands failed (%d): %s\n%s"
          % (out.returncode, out.stdout[-500:], H.tail(log_path)))
    import json
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def committed_events(h):
    """Records of the engine output topics a projector consumes
    (read_committed), by topic."""
    recs = H.read_many([h.topic(t) for t in OUTPUT_TOPICS], timeout=120)
    return recs


def wait_applied(conn_query, projector_id, n, timeout=180, what="projector"):
    """Waits until projector_stats.events_applied == n (never more)."""
    def done():
        v = conn_query("select events_applied from projector_stats where "
                       "projector = %s", (projector_id,))
        v = v[0]["events_applied"] if v else 0
        check(v <= n, "%s applied %d events, the topics hold %d"
              % (what, v, n))
        return v == n
    H.wait_until(done, timeout=timeout, interval=0.5,
                 what="%s to apply %d events" % (what, n))


def table_rows(query, table):
    rows = query("select * from %s" % table)
    return sorted(repr(sorted(r.items())) for r in rows)


def diff_tables(query_a, query_b, tables=READ_MODEL_TABLES):
    """[(table, rows only in a, rows only in b, example)] for every table
    that differs."""
    out = []
    for t in tables:
        a, b = table_rows(query_a, t), table_rows(query_b, t)
        if a != b:
            sa, sb = set(a), set(b)
            only_a, only_b = sorted(sa - sb), sorted(sb - sa)
            out.append((t, len(a), len(b), (only_a[:1], only_b[:1])))
    return out


class Db:
    """A second database of the test's PostgreSQL (dropped by close())."""

    def __init__(self, name):
        self.name = name
        self.conninfo = psycopg2.extensions.make_dsn(H.PG_CONNINFO, dbname=name)
        c = psycopg2.connect(psycopg2.extensions.make_dsn(H.PG_CONNINFO,
                                                          dbname="postgres"))
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute('CREATE DATABASE "%s"' % name)
        c.close()
        self.conn = None

    def query(self, sql, args=None):
        if self.conn is None:
            self.conn = psycopg2.connect(self.conninfo)
            self.conn.autocommit = True
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            if cur.description is None:
                return []
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, row)) for row in cur.fetchall()]

    def close(self):
        if self.conn is not None:
            self.conn.close()
        try:
            c = psycopg2.connect(psycopg2.extensions.make_dsn(
                H.PG_CONNINFO, dbname="postgres"))
            c.autocommit = True
            with c.cursor() as cur:
                cur.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
                            % self.name)
            c.close()
        except Exception as e:  # pylint: disable=broad-except
            print("warning: could not drop %s: %s" % (self.name, e))


def expected_from_log(recs):
    """Figures computed straight from the events, independently of the
    projector: row counts per table and every account's balance."""
    count = {}
    balances = {}
    order_status = {}
    for topic_recs in recs.values():
        for r in topic_recs:
            t = r.headers.get("ce_type", "")[len(H.CE_TYPE_PREFIX):]
            count[t] = count.get(t, 0) + 1
            v = r.value
            if t == "journal.entry.v1":
                for p in v["postings"]:
                    balances[p["account"]] = (balances.get(p["account"], 0)
                                              + p["amount"])
            status = {"order.reserved.v1": "RESERVED",
                      "order.confirmed.v1": "CONFIRMED",
                      "order.cancelled.v1": "CANCELLED",
                      "order.expired.v1": "EXPIRED",
                      "order.settled.v1": "SETTLED"}.get(t)
            if status:
                order_status[v["order_id"]] = status
    return count, balances, order_status


def check_against_log(query, recs, soft):
    """Exactly once: the read model holds each event's effect once."""
    count, balances, order_status = expected_from_log(recs)
    n = lambda t: count.get(t, 0)  # noqa: E731
    want = {"orders": n("order.reserved.v1"), "fills": n("fill.v1"),
            "offers": n("offer.listed.v1"),
            "offer_rejections": n("offer.rejected.v1"),
            "journal_entries": n("journal.entry.v1"),
            "trust_history": n("trust.changed.v1"),
            "delivery_reports": n("delivery.settled.v1"),
            "order_status_history": sum(n(t) for t in (
                "order.reserved.v1", "order.confirmed.v1",
                "order.cancelled.v1", "order.expired.v1",
                "order.settled.v1"))}
    for table, w in want.items():
        got = query("select count(*) as n from %s" % table)[0]["n"]
        soft(got == w, "%s has %d rows, the log has %d events for it"
             % (table, got, w))
    got = {r["account"]: r["balance"] for r in
           query("select account, balance from accounts")}
    soft(got == balances, "account balances differ from the journal: %r"
         % sorted(set(got.items()) ^ set(balances.items()))[:6])
    soft(sum(got.values()) == 0, "balances sum to %d" % sum(got.values()))
    st = {r["order_id"]: r["status"] for r in
          query("select order_id, status from orders")}
    soft(st == order_status, "order statuses differ from the last status "
         "event: %r" % sorted(set(st.items()) ^ set(order_status.items()))[:6])
    return count


def now():
    return time.time()
