#!/usr/bin/python3
"""Review fixes of the client read API (real gateway, PostgreSQL, Kafka).

GET /api/market with only a `from` more than 62 days before the end of the
trade horizon: the default `to` is capped at 62 days after `from` (200), not
a 400 naming `to`, a parameter the client never sent. A `to` the client does
send is still refused beyond 62 days (400 naming `to`).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402

DAY_MS = 86400000


def main():
    with H.Harness() as h:
        h.create_db()
        h.start_engine()
        h.start_projector()
        h.start_gateway()
        today = H.now_ms() // DAY_MS * DAY_MS
        old = today - 100 * DAY_MS
        st, doc = h.http("GET", "/api/market?from=" + H.ms_to_rfc3339(old))
        check(st == 200, "an old `from` alone: %d %r" % (st, doc))
        check(H.rfc3339_to_ms(doc["from"]) == old
              and H.rfc3339_to_ms(doc["to"]) == old + 62 * DAY_MS,
              "the default `to` is 62 days after `from`: %r" % doc)
        st, doc = h.http("GET", "/api/market?from=%s&to=%s"
                         % (H.ms_to_rfc3339(old), H.ms_to_rfc3339(today)))
        check(st == 400 and doc["error"]["field"] == "to"
              and doc["error"]["code"] == "invalid_field",
              "a sent `to` 100 days after `from`: %d %r" % (st, doc))
        H.log("the market range defaults stay within 62 days")


if __name__ == "__main__":
    main()
