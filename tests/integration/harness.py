"""Shared helpers of the integration tests.

Every test runs against the real PostgreSQL and Kafka named by the environment
(never mocks), in its own PostgreSQL database, with its own topic prefix,
engine/projector ids and HTTP port, so tests can run in parallel.

    with Harness("test_x") as h:
        h.create_db()
        h.start_engine(); h.start_projector(); h.start_gateway(dev_auth=True)
        status, body = h.http("GET", "/api/offers")

On an exception the tail of every process log is printed; processes are
stopped, the database dropped and the topics deleted at the end.

Only the standard library plus python3-psycopg2, python3-jsonschema and
python3-confluent-kafka (Debian packages) are used; run with /usr/bin/python3.
"""

import datetime as _dt
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import traceback
import uuid

import confluent_kafka as ck
import jsonschema
import psycopg2
import psycopg2.extensions
from confluent_kafka.admin import AdminClient

HERE = os.path.dirname(os.path.abspath(__file__))

KAFKA_BROKERS = os.environ.get("KAFKA_BROKERS") or "127.0.0.1:19092"
PG_CONNINFO = (os.environ.get("PG_CONNINFO")
               or "host=127.0.0.1 port=54329 user=postgres dbname=p2p")
SOURCE_ROOT = os.environ.get("P2P_SOURCE_ROOT") or os.path.normpath(
    os.path.join(HERE, "..", ".."))
BUILD_ROOT = os.environ.get("P2P_BUILD_ROOT") or os.path.join(SOURCE_ROOT, "build")
SCHEMA_DIR = os.path.join(SOURCE_ROOT, "schemas")
MIGRATIONS_DIR = os.path.join(SOURCE_ROOT, "projections", "migrations")

BINARIES = {
    "engine": os.path.join(BUILD_ROOT, "engine", "p2p-engine"),
    "projector": os.path.join(BUILD_ROOT, "projections", "p2p-projector"),
    "gateway": os.path.join(BUILD_ROOT, "gateway", "p2p-gateway"),
    "beckn-worker": os.path.join(BUILD_ROOT, "gateway", "beckn", "p2p-beckn-worker"),
}

MARKET = "default"
CE_TYPE_PREFIX = "energy.p2p."
CE_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time",
              "content-type", "ce_correlationid")
SUBMIT_TYPE = "energy.p2p.offer.submit.v1"
LISTED_TYPE = "energy.p2p.offer.listed.v1"
REJECTED_TYPE = "energy.p2p.offer.rejected.v1"

# docs/api.md, "Errors"
API_ERROR_CODES = {
    "malformed_json": 400, "missing_field": 400, "wrong_type": 400,
    "invalid_field": 400, "unknown_field": 400, "window_not_aligned": 400,
    "window_inverted": 400,
    "gate_closed": 400, "beyond_horizon": 400, "unauthenticated": 401,
    "not_found": 404, "method_not_allowed": 405, "body_too_large": 413,
    "unavailable": 503,
    "wrong_state": 409, "peer_refused": 502, "peer_unreachable": 504}

SLOT_MS = 60 * 60 * 1000
GATE_CLOSURE_MS = 240 * 60 * 1000
HORIZON_MS = 7 * 24 * 60 * 60 * 1000
MAX_BODY = 65536

RFC3339_MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:", "WARNING: ThreadSanitizer")


class TestFailure(AssertionError):
    pass


def check(cond, msg):
    """assert that survives python -O and says what failed."""
    if not cond:
        raise TestFailure(msg)


def log(*args):
    print("[%s]" % time.strftime("%H:%M:%S"), *args, flush=True)


def run_id():
    return "%s%s" % (time.strftime("%H%M%S"), uuid.uuid4().hex[:8])


def now_ms():
    return int(time.time() * 1000)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(predicate, timeout=30.0, interval=0.1, what="condition"):
    """Polls predicate() until it returns a truthy value, which is returned."""
    deadline = time.time() + timeout
    last_exc = None
    while True:
        try:
            v = predicate()
            if v:
                return v
            last_exc = None
        except TestFailure:
            raise
        except Exception as e:  # pylint: disable=broad-except
            last_exc = e
        if time.time() >= deadline:
            extra = " (last error: %r)" % (last_exc,) if last_exc else ""
            raise TestFailure("timed out after %.0fs waiting for %s%s"
                              % (timeout, what, extra))
        time.sleep(interval)


# ---------------------------------------------------------------- time helpers

def ms_to_rfc3339(ms, millis=False):
    d = _dt.datetime.fromtimestamp(ms / 1000.0, tz=_dt.timezone.utc)
    if millis:
        return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_to_ms(s):
    check(isinstance(s, str) and RFC3339_Z.match(s),
          "not an RFC 3339 UTC time ending in Z: %r" % (s,))
    base, frac = s[:-1], ""
    if "." in base:
        base, frac = base.split(".", 1)
    d = _dt.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=_dt.timezone.utc)
    ms = int(d.timestamp()) * 1000
    if frac:
        ms += int((frac + "000")[:3])
    return ms


def next_slot_ms(t_ms=None, slot_ms=SLOT_MS):
    """t rounded up to the next slot boundary (strictly after t if aligned)."""
    t = now_ms() if t_ms is None else t_ms
    return (t // slot_ms + 1) * slot_ms


def future_window(hours_ahead=6, length_hours=1, t_ms=None):
    """A slot-aligned window starting `hours_ahead` slots after the next slot
    boundary. Returns dict with *_ms and RFC 3339 strings."""
    start = next_slot_ms(t_ms) + hours_ahead * SLOT_MS
    end = start + length_hours * SLOT_MS
    return {"start_ms": start, "end_ms": end,
            "start": ms_to_rfc3339(start), "end": ms_to_rfc3339(end)}


# ---------------------------------------------------------------- schemas

_SCHEMAS = {}


def schema_for(ce_type):
    check(isinstance(ce_type, str) and ce_type.startswith(CE_TYPE_PREFIX),
          "ce_type %r does not start with %r" % (ce_type, CE_TYPE_PREFIX))
    name = ce_type[len(CE_TYPE_PREFIX):]
    if name not in _SCHEMAS:
        found = None
        for folder in ("commands", "events"):
            p = os.path.join(SCHEMA_DIR, folder, name + ".json")
            if os.path.exists(p):
                found = p
        check(found, "no schema for ce_type %r in %s/{commands,events}"
              % (ce_type, SCHEMA_DIR))
        with open(found) as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        _SCHEMAS[name] = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return _SCHEMAS[name]


def schema_errors(ce_type, value):
    v = schema_for(ce_type)
    return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(root)",
                        e.message)
            for e in sorted(v.iter_errors(value), key=lambda e: list(e.path))]


def validate(ce_type, value, where=""):
    errs = schema_errors(ce_type, value)
    check(not errs, "%s value does not match schema %s: %s\nvalue: %s"
          % (where, ce_type, "; ".join(errs), json.dumps(value)[:2000]))


def check_envelope(rec, where=""):
    """All CloudEvents headers present and well-formed; value is JSON valid
    against the schema named by ce_type. Returns the record."""
    h = rec.headers
    for name in CE_HEADERS:
        check(name in h and h[name] not in (None, ""),
              "%s record at offset %d lacks header %s (headers: %r)"
              % (where, rec.offset, name, h))
    check(h["ce_specversion"] == "1.0",
          "%s ce_specversion %r != '1.0'" % (where, h["ce_specversion"]))
    check(h["content-type"] == "application/json",
          "%s content-type %r" % (where, h["content-type"]))
    check(RFC3339_MS_Z.match(h["ce_time"]),
          "%s ce_time %r is not RFC 3339 UTC with milliseconds"
          % (where, h["ce_time"]))
    check(rec.key == MARKET.encode(),
          "%s record at offset %d key %r != market %r"
          % (where, rec.offset, rec.key, MARKET))
    check(rec.value is not None,
          "%s record at offset %d value is not JSON: %r"
          % (where, rec.offset, rec.raw[:200]))
    validate(h["ce_type"], rec.value,
             "%s record at offset %d (%s)" % (where, rec.offset, h["ce_type"]))
    return rec


# ---------------------------------------------------------------- kafka

class Record:
    __slots__ = ("topic", "partition", "offset", "key", "raw", "value",
                 "headers", "timestamp")

    def __repr__(self):
        return "Record(%s/%d/%d %r %s)" % (self.topic, self.partition,
                                           self.offset, self.headers,
                                           self.raw[:300] if self.raw else None)


def _headers_dict(msg):
    out = {}
    for k, v in msg.headers() or []:
        out[k] = v.decode("utf-8", "replace") if isinstance(v, bytes) else v
    return out


def admin():
    return AdminClient({"bootstrap.servers": KAFKA_BROKERS})


def topic_partitions(topic, timeout=10):
    md = admin().list_topics(topic=topic, timeout=timeout)
    t = md.topics.get(topic)
    if t is None or t.error is not None:
        return None
    return sorted(t.partitions.keys())


def topic_exists(topic):
    md = admin().list_topics(timeout=10)
    return topic in md.topics


def watermarks(topic):
    """{partition: (low, high)}; None when the topic does not exist."""
    parts = topic_partitions(topic)
    if parts is None:
        return None
    c = ck.Consumer({"bootstrap.servers": KAFKA_BROKERS,
                     "group.id": "wm-" + uuid.uuid4().hex,
                     "enable.auto.commit": False})
    try:
        return {p: c.get_watermark_offsets(ck.TopicPartition(topic, p),
                                           timeout=10)
                for p in parts}
    finally:
        c.close()


def count_records(topic):
    """Records in a non-transactional topic, by watermarks (None if absent)."""
    wm = watermarks(topic)
    if wm is None:
        return None
    return sum(hi - lo for lo, hi in wm.values())


def read_all(topic, isolation="read_committed", timeout=30):
    """Every record of `topic` from the beginning up to the high watermark
    seen at the start (read_committed by default: aborted records skipped,
    waits for open transactions below that watermark to finish).
    Uses assign(), no consumer group. Returns [Record] ordered by
    (partition, offset)."""
    parts = topic_partitions(topic)
    check(parts is not None, "topic %s does not exist" % topic)
    c = ck.Consumer({"bootstrap.servers": KAFKA_BROKERS,
                     "group.id": "read-" + uuid.uuid4().hex,
                     "enable.auto.commit": False,
                     "enable.partition.eof": True,
                     "isolation.level": isolation,
                     "auto.offset.reset": "earliest"})
    out = []
    try:
        his = {}
        for p in parts:
            lo, hi = c.get_watermark_offsets(ck.TopicPartition(topic, p),
                                             timeout=10)
            if hi > lo:
                his[p] = hi
        if not his:
            return out
        c.assign([ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING)
                  for p in his])
        pending = set(his)
        deadline = time.time() + timeout
        while pending:
            check(time.time() < deadline,
                  "reading %s timed out (partitions %s not at their high "
                  "watermark %r)" % (topic, sorted(pending), his))
            msg = c.poll(0.5)
            if msg is None:
                for tp in c.position([ck.TopicPartition(topic, p)
                                      for p in pending]):
                    if tp.offset >= 0 and tp.offset >= his[tp.partition]:
                        pending.discard(tp.partition)
                continue
            if msg.error():
                if msg.error().code() == ck.KafkaError._PARTITION_EOF:
                    if msg.offset() >= his.get(msg.partition(), 0):
                        pending.discard(msg.partition())
                    continue
                raise TestFailure("kafka error reading %s: %s"
                                  % (topic, msg.error()))
            if msg.offset() >= his[msg.partition()]:
                pending.discard(msg.partition())
                continue
            r = Record()
            r.topic, r.partition, r.offset = topic, msg.partition(), msg.offset()
            r.key, r.raw = msg.key(), msg.value()
            r.headers = _headers_dict(msg)
            r.timestamp = msg.timestamp()[1]
            try:
                r.value = json.loads(r.raw.decode("utf-8")) if r.raw else None
            except (UnicodeDecodeError, ValueError):
                r.value = None
            out.append(r)
            if msg.offset() + 1 >= his[msg.partition()]:
                pending.discard(msg.partition())
    finally:
        c.close()
    out.sort(key=lambda r: (r.partition, r.offset))
    return out


class CommandProducer:
    """Produces raw commands with the CloudEvents headers, keyed by market."""

    def __init__(self, extra=None):
        conf = {"bootstrap.servers": KAFKA_BROKERS, "acks": "all",
                "enable.idempotence": True, "linger.ms": 5}
        conf.update(extra or {})
        self.p = ck.Producer(conf)
        self.errors = []

    def produce(self, topic, value, ce_type=SUBMIT_TYPE, command_id=None,
                key=MARKET, headers=None, time_ms=None, on_delivery=None):
        """value: dict/list (JSON-encoded) or bytes (sent as is).
        headers: overrides; a header set to None is left out."""
        if command_id is None:
            command_id = (value.get("command_id") if isinstance(value, dict)
                          else None) or str(uuid.uuid4())
        hlist = command_headers(ce_type, command_id, time_ms, headers)
        raw = value if isinstance(value, bytes) else json.dumps(value).encode()

        def cb(err, msg):
            if err is not None:
                self.errors.append(err)
            if on_delivery:
                on_delivery(err, msg)
        self.p.produce(topic, key=key.encode() if key else None, value=raw,
                       headers=hlist, on_delivery=cb)
        self.p.poll(0)
        return command_id

    def produce_sync(self, topic, value, **kw):
        """Produces and waits; returns (partition, offset, command_id)."""
        box = {}

        def done(err, msg):
            box["err"], box["msg"] = err, msg
        cid = self.produce(topic, value, on_delivery=done, **kw)
        self.flush()
        check(box.get("err") is None and "msg" in box,
              "producing to %s failed: %r" % (topic, box.get("err")))
        return box["msg"].partition(), box["msg"].offset(), cid

    def flush(self, timeout=60):
        left = self.p.flush(timeout)
        check(left == 0, "%d records not delivered" % left)
        check(not self.errors, "delivery errors: %r" % self.errors[:5])


def submit_command(offer_id=None, seller_id="alice", window=None,
                   issued_at_ms=None, **over):
    """A well-formed energy.p2p.offer.submit.v1 value (override with kw)."""
    issued = now_ms() if issued_at_ms is None else issued_at_ms
    w = window or future_window(6, 1, issued)
    v = {"command_id": str(uuid.uuid4()), "issued_at_ms": issued,
         "market": MARKET, "offer_id": offer_id or str(uuid.uuid4()),
         "seller_id": seller_id, "source_type": "SOLAR", "quantity_wh": 5000,
         "price_per_kwh": 650, "currency": "INR", "min_order_wh": 1000,
         "delivery_start_ms": w["start_ms"], "delivery_end_ms": w["end_ms"],
         "meter_id": "MTR-001", "valid_until_ms": None}
    v.update(over)
    return v


# ---------------------------------------------------------------- processes

class Proc:
    def __init__(self, name, popen, log_path, log_start):
        self.name, self.popen, self.log_path = name, popen, log_path
        self.log_start = log_start

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def kill(self):
        """SIGKILL and reap."""
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
        return self.popen.wait(30)

    def stop(self, timeout=20):
        """SIGTERM, wait, SIGKILL if it hangs. Returns the exit status, or
        'hung' when it had to be killed."""
        if not self.alive():
            return self.popen.returncode
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(30)
            return "hung"

    def log_text(self, whole=False):
        try:
            with open(self.log_path, "rb") as f:
                if not whole:
                    f.seek(self.log_start)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


def non_json_log_lines(text):
    """Lines of a process's stderr that are not one JSON object each
    (logs are JSON lines; the harness's own '=== ... ===' markers aside)."""
    bad = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("=== "):
            continue
        try:
            ok = isinstance(json.loads(line), dict)
        except ValueError:
            ok = False
        if not ok:
            bad.append(line)
    return bad


def tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            data = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "(no log at %s)" % path
    # sanitizer reports of deep recursions: keep the first frames only
    frame = re.compile(r"^\s+#(\d+) ")
    data = [l for l in data
            if not (frame.match(l) and int(frame.match(l).group(1)) > 12)]
    return "\n".join(data[-lines:])


class Harness:
    def __init__(self, test_name=None):
        self.test = test_name or os.path.splitext(
            os.path.basename(sys.argv[0]))[0]
        self.run = run_id()
        self.prefix = "t%s." % self.run
        self.dbname = "p2p_%s" % self.run
        self.db_created = False
        self.conninfo = psycopg2.extensions.make_dsn(PG_CONNINFO,
                                                     dbname=self.dbname)
        self.engine_id = "engine-%s" % self.run
        self.projector_id = "projector-%s" % self.run
        self.log_dir = os.path.join(BUILD_ROOT, "test-logs", self.test)
        os.makedirs(self.log_dir, exist_ok=True)
        for f in os.listdir(self.log_dir):
            if f.endswith(".log"):
                os.unlink(os.path.join(self.log_dir, f))
        self.procs = []          # every Proc ever started
        self.expected_deaths = set()
        self.port = None
        self.gateway = None
        self._conn = None
        self.keep = os.environ.get("P2P_TEST_KEEP") == "1"
        self.soft_failures = []
        log("test %s run %s prefix %s db %s logs %s"
            % (self.test, self.run, self.prefix, self.dbname, self.log_dir))

    def soft(self, cond, msg):
        """Like check() but lets the test go on; the test still fails at
        the end. For findings that should not hide the checks after them."""
        if not cond and msg not in self.soft_failures:
            print("FAILED (continuing): " + msg, file=sys.stderr, flush=True)
            self.soft_failures.append(msg)
        return cond

    # -- topics
    def topic(self, name):
        return self.prefix + name

    # -- lifecycle
    def __enter__(self):
        return self

    def __exit__(self, etype, exc, tb):
        failed = etype is not None
        if failed:
            print("\nFAILED: %s" % self.test, file=sys.stderr)
            traceback.print_exception(etype, exc, tb)
        problems = ([] if failed else
                    ["check failed: " + m for m in self.soft_failures])
        problems += self.teardown()
        if problems:
            for p in problems:
                print("FAILED: " + p, file=sys.stderr)
            failed = True
        if failed:
            self.print_logs()
            sys.stderr.flush()
            sys.stdout.flush()
            os._exit(1)
        log("PASSED: %s" % self.test)
        return False

    def teardown(self):
        """Stops processes and cleans up; returns a list of problems found
        (process died unexpectedly, non-zero exit on SIGTERM, sanitizer
        reports in the logs)."""
        problems = []
        for p in self.procs:
            if p in self.expected_deaths:
                continue
            if not p.alive():
                problems.append("%s (pid %d) died on its own with status %s"
                                % (p.name, p.pid, p.popen.returncode))
                continue
            rc = p.stop()
            if rc != 0:
                problems.append("%s (pid %d) exited with %s after SIGTERM"
                                % (p.name, p.pid, rc))
        for p in self.procs:
            if p.alive():
                p.kill()
        scanned = set()
        for p in self.procs:
            if p.log_path in scanned:
                continue
            scanned.add(p.log_path)
            text = p.log_text(whole=True)
            sanitizer = False
            for m in SANITIZER_MARKERS:
                if m in text:
                    problems.append("%s log %s contains %r"
                                    % (p.name, p.log_path, m))
                    sanitizer = True
                    break
            if not sanitizer:
                bad = non_json_log_lines(text)
                if bad:
                    problems.append("%s wrote %d stderr line(s) that are not "
                                    "JSON log objects, e.g. %r"
                                    % (p.name, len(bad), bad[0][:200]))
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # pylint: disable=broad-except
                pass
            self._conn = None
        if not self.keep:
            self.drop_db()
            self.delete_topics()
        return problems

    def print_logs(self, lines=60):
        seen = set()
        for p in self.procs:
            if p.log_path in seen:
                continue
            seen.add(p.log_path)
            print("\n----- tail of %s -----\n%s\n-----"
                  % (p.log_path, tail(p.log_path, lines)), file=sys.stderr)

    # -- postgres
    def create_db(self):
        c = psycopg2.connect(psycopg2.extensions.make_dsn(PG_CONNINFO,
                                                          dbname="postgres"))
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute('CREATE DATABASE "%s"' % self.dbname)
        c.close()
        self.db_created = True

    def drop_db(self):
        if not self.db_created:
            return
        try:
            c = psycopg2.connect(psycopg2.extensions.make_dsn(
                PG_CONNINFO, dbname="postgres"))
            c.autocommit = True
            with c.cursor() as cur:
                cur.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
                            % self.dbname)
            c.close()
            self.db_created = False
        except Exception as e:  # pylint: disable=broad-except
            print("warning: could not drop %s: %s" % (self.dbname, e),
                  file=sys.stderr)

    def db(self):
        if self._conn is None or self._conn.closed:
            self._conn = psycopg2.connect(self.conninfo)
            self._conn.autocommit = True
        return self._conn

    def query(self, sql, args=None):
        """Rows as dicts."""
        with self.db().cursor() as cur:
            cur.execute(sql, args)
            if cur.description is None:
                return []
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, row)) for row in cur.fetchall()]

    def scalar(self, sql, args=None):
        with self.db().cursor() as cur:
            cur.execute(sql, args)
            row = cur.fetchone()
            return row[0] if row else None

    def table_exists(self, name):
        return bool(self.scalar("SELECT to_regclass(%s) IS NOT NULL",
                                ("public." + name,)))

    def delete_topics(self):
        try:
            a = admin()
            names = [t for t in a.list_topics(timeout=10).topics
                     if t.startswith(self.prefix)]
            if names:
                for f in a.delete_topics(names, operation_timeout=10).values():
                    try:
                        f.result()
                    except Exception:  # pylint: disable=broad-except
                        pass
        except Exception as e:  # pylint: disable=broad-except
            print("warning: could not delete topics %s*: %s"
                  % (self.prefix, e), file=sys.stderr)

    # -- processes
    def env(self, **over):
        e = dict(os.environ)
        for k in list(e):
            if k.startswith("P2P_") or k in ("SLOT_MINUTES",
                                             "GATE_CLOSURE_MINUTES",
                                             "TRADE_HORIZON_DAYS"):
                del e[k]
        e.update({
            "KAFKA_BROKERS": KAFKA_BROKERS,
            "PG_CONNINFO": self.conninfo,
            "P2P_TOPIC_PREFIX": self.prefix,
            "P2P_MARKET": MARKET,
            "P2P_ENGINE_ID": self.engine_id,
            "P2P_PROJECTOR_ID": self.projector_id,
            "P2P_MIGRATIONS_DIR": MIGRATIONS_DIR,
            "SLOT_MINUTES": "60",
            "GATE_CLOSURE_MINUTES": "240",
            "TRADE_HORIZON_DAYS": "7",
            "P2P_MAX_BODY_BYTES": str(MAX_BODY),
            "P2P_HTTP_HOST": "127.0.0.1",
            "P2P_WEB_ROOT": os.path.join(SOURCE_ROOT, "web"),
            "P2P_ENGINE_SNAPSHOT_DIR": os.path.join(self.log_dir, "snapshots-" + self.run),
        })
        for k, v in over.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = str(v)
        return e

    def start(self, name, log_name=None, **env_over):
        binary = BINARIES[name]
        check(os.access(binary, os.X_OK), "binary %s is missing (build first)"
              % binary)
        path = os.path.join(self.log_dir, (log_name or name) + ".log")
        f = open(path, "ab")
        f.write(("=== %s start %s ===\n" % (name, time.strftime("%H:%M:%S")))
                .encode())
        f.flush()
        start = f.tell()
        popen = subprocess.Popen([binary], env=self.env(**env_over),
                                 stdin=subprocess.DEVNULL, stdout=f, stderr=f,
                                 cwd=BUILD_ROOT)
        f.close()
        p = Proc(log_name or name, popen, path, start)
        self.procs.append(p)
        return p

    def kill(self, proc):
        """SIGKILL a process on purpose."""
        self.expected_deaths.add(proc)
        return proc.kill()

    def stop(self, proc):
        """SIGTERM a process on purpose; it must exit 0."""
        self.expected_deaths.add(proc)
        rc = proc.stop()
        check(rc == 0, "%s exited with %s after SIGTERM; log tail:\n%s"
              % (proc.name, rc, tail(proc.log_path)))
        return rc

    def start_engine(self, **env_over):
        # These suites are about listing, not the monthly trade limit (its own
        # unit tests cover it): give sellers room unless a test says otherwise.
        env_over.setdefault("TRUST_DEFAULT_LIMIT", 1000000)
        p = self.start("engine", **env_over)
        self.engine = p
        return p

    def start_projector(self, wait_tables=True, **env_over):
        p = self.start("projector", **env_over)
        self.projector = p
        if wait_tables:
            wait_until(lambda: self._alive_or_fail(p)
                       and self.table_exists("projector_stats")
                       and self.table_exists("offers")
                       and self.table_exists("offer_rejections")
                       and self.table_exists("projector_offsets"),
                       timeout=60, what="projector migrations")
        return p

    def start_gateway(self, dev_auth=True, port=None, log_name=None,
                      wait=True, primary=True, **env_over):
        """primary: self.http() talks to this gateway by default."""
        port = port or free_port()
        p = self.start("gateway", log_name=log_name,
                       P2P_HTTP_PORT=port,
                       P2P_DEV_AUTH="1" if dev_auth else None, **env_over)
        p.port = port
        if primary:
            self.gateway, self.port = p, port
        if wait:
            self.wait_http_ready(p)
        return p

    def _alive_or_fail(self, p):
        check(p.alive(), "%s exited with status %s during start; log tail:\n%s"
              % (p.name, p.popen.returncode, tail(p.log_path)))
        return True

    def wait_http_ready(self, p=None, timeout=60):
        p = p or self.gateway

        def ready():
            self._alive_or_fail(p)
            st, _ = self.http("GET", "/healthz", port=p.port, timeout=2)
            return st == 200
        wait_until(ready, timeout=timeout, interval=0.2,
                   what="gateway /healthz on port %d" % p.port)

    # -- http
    def http(self, method, path, body=None, headers=None, port=None,
             timeout=30, chunked=False):
        """body: dict/list -> JSON; bytes/str -> sent as is; None -> no body.
        Returns (status, parsed JSON or None). The raw answer is kept in
        self.last_http = (status, headers, bytes)."""
        port = port or self.port
        hdrs = {"Accept": "application/json"}
        data = None
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
            elif isinstance(body, str):
                data = body.encode()
            else:
                data = body
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            try:
                if chunked:
                    conn.request(method, path, body=iter([data]), headers=hdrs,
                                 encode_chunked=True)
                else:
                    conn.request(method, path, body=data, headers=hdrs)
            except (BrokenPipeError, ConnectionResetError):
                pass  # server answered early (e.g. 413) and closed
            resp = conn.getresponse()
            raw = resp.read()
            status, rh = resp.status, dict(resp.getheaders())
        finally:
            conn.close()
        self.last_http = (status, rh, raw)
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError):
            parsed = None
        return status, parsed

    # -- convenience
    def wait_offer_decided(self, offer_id, timeout=30):
        """Polls GET /api/offers/{id} until it is not 404; returns body."""
        box = {}

        def decided():
            st, body = self.http("GET", "/api/offers/%s" % offer_id)
            if st == 404:
                return False
            check(st == 200, "GET /api/offers/%s -> %d %r"
                  % (offer_id, st, self.last_http[2][:500]))
            box["body"] = body
            return True
        wait_until(decided, timeout=timeout, interval=0.1,
                   what="engine decision on offer %s" % offer_id)
        return box["body"]


def random_delay(lo, hi):
    time.sleep(random.uniform(lo, hi))


# ---------------------------------------------------------------- more helpers
# (generic; added for test_engine_crash)

def create_topics(names, partitions=1):
    """Creates the topics with `partitions` partitions each (one replica);
    a topic that exists already is left as it is."""
    from confluent_kafka.admin import NewTopic
    a = admin()   # must outlive the futures
    futures = a.create_topics([NewTopic(n, partitions, 1) for n in names],
                              operation_timeout=10)
    for name, f in futures.items():
        try:
            f.result(30)
        except ck.KafkaException as e:
            if e.args[0].code() != ck.KafkaError.TOPIC_ALREADY_EXISTS:
                raise TestFailure("creating topic %s: %s" % (name, e))


def command_headers(ce_type, command_id, time_ms=None, headers=None):
    """The CloudEvents headers CommandProducer.produce sends, as the
    [(name, bytes)] list confluent_kafka takes (to produce with the
    confluent_kafka producer directly, e.g. to a chosen partition).
    headers: overrides; a header set to None is left out."""
    h = {"ce_specversion": "1.0", "ce_id": command_id,
         "ce_source": "urn:p2p:test", "ce_type": ce_type,
         "ce_time": ms_to_rfc3339(time_ms if time_ms else now_ms(),
                                  millis=True),
         "content-type": "application/json",
         "ce_correlationid": command_id}
    h.update(headers or {})
    return [(k, v.encode()) for k, v in h.items() if v is not None]


def log_events(text, event=None):
    """The JSON log lines of a process's stderr text as dicts (other lines
    skipped), only those whose "event" is `event` when given."""
    out = []
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if isinstance(d, dict) and (event is None or d.get("event") == event):
            out.append(d)
    return out


def read_many(topics, isolation="read_committed", timeout=60):
    """read_all for several topics with one consumer (much faster than one
    read_all each): {topic: [Record] ordered by (partition, offset)}, every
    record up to the high watermark (read_committed: the last stable offset)
    seen at the start."""
    md = admin().list_topics(timeout=10)
    c = ck.Consumer({"bootstrap.servers": KAFKA_BROKERS,
                     "group.id": "read-" + uuid.uuid4().hex,
                     "enable.auto.commit": False,
                     "enable.partition.eof": True,
                     "isolation.level": isolation,
                     "auto.offset.reset": "earliest"})
    out = {t: [] for t in topics}
    try:
        his = {}
        for t in topics:
            tm = md.topics.get(t)
            check(tm is not None and tm.error is None,
                  "topic %s does not exist" % t)
            for p in sorted(tm.partitions):
                lo, hi = c.get_watermark_offsets(ck.TopicPartition(t, p),
                                                 timeout=10)
                if hi > lo:
                    his[(t, p)] = hi
        if not his:
            return out
        c.assign([ck.TopicPartition(t, p, ck.OFFSET_BEGINNING)
                  for t, p in his])
        pending = set(his)
        deadline = time.time() + timeout
        while pending:
            check(time.time() < deadline,
                  "reading %s timed out (%s not at their high watermarks)"
                  % (topics, sorted(pending)))
            msg = c.poll(0.2)
            if msg is None:
                for tp in c.position([ck.TopicPartition(t, p)
                                      for t, p in pending]):
                    if tp.offset >= 0 and tp.offset >= his[(tp.topic,
                                                            tp.partition)]:
                        pending.discard((tp.topic, tp.partition))
                continue
            key = (msg.topic(), msg.partition())
            if msg.error():
                if msg.error().code() == ck.KafkaError._PARTITION_EOF:
                    if msg.offset() >= his.get(key, 0):
                        pending.discard(key)
                    continue
                raise TestFailure("kafka error reading %s: %s"
                                  % (key, msg.error()))
            if key not in his or msg.offset() >= his[key]:
                pending.discard(key)
                continue
            r = Record()
            r.topic, r.partition, r.offset = key[0], key[1], msg.offset()
            r.key, r.raw = msg.key(), msg.value()
            r.headers = _headers_dict(msg)
            r.timestamp = msg.timestamp()[1]
            try:
                r.value = json.loads(r.raw.decode("utf-8")) if r.raw else None
            except (UnicodeDecodeError, ValueError):
                r.value = None
            out[key[0]].append(r)
            if msg.offset() + 1 >= his[key]:
                pending.discard(key)
    finally:
        c.close()
    for recs in out.values():
        recs.sort(key=lambda r: (r.partition, r.offset))
    return out
