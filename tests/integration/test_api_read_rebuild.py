#!/usr/bin/python3
"""GET /api/operator/rebuild against the real stack and the real rebuild.

Only the operator token opens it (401 without or with a wrong token, a user
identity is not enough; 403 when the deployment has no token). Before any
rebuild the answer is empty; after `p2p-rebuild` (the program behind
./p2p rebuild) ran over a log of listed offers, the run is shown as swapped
with its event count, 100 % progress and speed, and the newest run comes
first; a bad `limit` is a 400 naming it."""
import os
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402

TOKEN = "rebuild-status-" + uuid.uuid4().hex
PATH = "/api/operator/rebuild"
REBUILD = os.path.join(H.BUILD_ROOT, "projections", "p2p-rebuild")


def status(h, token=None, query="", port=None, user=None):
    headers = {}
    if token:
        headers["Authorization"] = "Bearer " + token
    if user:
        headers["X-Dev-User"] = user
    return h.http("GET", PATH + query, headers=headers, port=port)


def expect(got, st, code, field=None):
    check(got[0] == st and (got[1] or {}).get("error", {}).get("code") == code
          and got[1]["error"].get("field") == field,
          "expected %d %s (field %r), got %r" % (st, code, field, got))


def rebuild(h):
    out = subprocess.run([REBUILD], env=h.env(), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=240, cwd=H.BUILD_ROOT, check=False)
    with open(os.path.join(h.log_dir, "rebuild.log"), "ab") as f:
        f.write(out.stderr)
    check(out.returncode == 0, "p2p-rebuild exited %d: %s"
          % (out.returncode, out.stderr.decode("utf-8", "replace")[-2000:]))


def main():
    with H.Harness() as h:
        h.create_db()
        h.start_engine()
        h.start_projector()
        h.start_gateway(dev_auth=True, P2P_OPERATOR_TOKEN=TOKEN)
        plain = h.start_gateway(dev_auth=True, primary=False,
                                log_name="gateway-no-token")

        expect(status(h), 401, "unauthenticated", "Authorization")
        expect(status(h, token="not-" + TOKEN), 401, "unauthenticated",
               "Authorization")
        expect(status(h, user="alice"), 401, "unauthenticated", "Authorization")
        expect(status(h, token=TOKEN, port=plain.port), 403, "forbidden")
        expect(status(h, token=TOKEN, query="?limit=0"), 400, "invalid_field",
               "limit")
        st, doc = status(h, token=TOKEN)
        check(st == 200 and doc == {"latest": None, "runs": []},
              "before any rebuild: %d %r" % (st, doc))

        w = H.future_window(6, 1)
        ids = []
        for k in range(5):
            st, doc = h.http("POST", "/seller/offers", {
                "source_type": "SOLAR", "quantity_wh": 1000 + k,
                "price_per_kwh": 600, "delivery_start": w["start"],
                "delivery_end": w["end"], "meter_id": "MTR-%d" % k},
                headers={"X-Dev-User": "seller%d" % k})
            check(st in (201, 202), "offer -> %d %r" % (st, doc))
            ids.append(doc["offer_id"])
        for oid in ids:
            check(h.wait_offer_decided(oid)["status"] == "LISTED",
                  "offer %s not listed" % oid)

        rebuild(h)
        st, doc = status(h, token=TOKEN)
        check(st == 200 and len(doc["runs"]) == 1, "after one rebuild: %r" % doc)
        run = doc["latest"]
        check(run == doc["runs"][0] and run["status"] == "swapped"
              and run["events"] >= len(ids)
              and run["total_events"] >= run["events"]
              and run["progress_percent"] == 100
              and isinstance(run["events_per_sec"], int)
              and H.rfc3339_to_ms(run["finished_at"])
              >= H.rfc3339_to_ms(run["started_at"]),
              "the rebuild run: %r" % run)
        rebuild(h)
        st, doc = status(h, token=TOKEN)
        check(st == 200 and [r["run_id"] for r in doc["runs"]]
              == [run["run_id"] + 1, run["run_id"]]
              and doc["latest"]["status"] == "swapped",
              "two runs, newest first: %r" % doc)
        st, doc = status(h, token=TOKEN, query="?limit=1")
        check(st == 200 and len(doc["runs"]) == 1
              and doc["runs"][0]["run_id"] == run["run_id"] + 1,
              "limit 1: %r" % doc)
        # the offers survived the swap
        st, doc = h.http("GET", "/api/offers")
        check(st == 200 and sorted(o["offer_id"] for o in doc["offers"])
              == sorted(ids), "offers after the rebuilds: %r" % doc)


if __name__ == "__main__":
    main()
