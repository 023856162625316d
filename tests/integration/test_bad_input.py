#!/usr/bin/python3
"""Hostile and wrong input against POST /seller/offers: every request gets a
4xx with {"error": {"code", "message", "field"}} naming the right field, the
gateway stays up, and nothing reaches Kafka (the offers topic stays empty,
counted by watermarks). A final valid request shows the count does move.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check  # noqa: E402

AUTH = {"X-Dev-User": "alice"}
ANY_FIELD = "*"
REQUIRED = ("source_type", "quantity_wh", "price_per_kwh", "delivery_start",
            "delivery_end", "meter_id")


def main():
    with H.Harness() as h:
        h.create_db()
        h.start_projector()
        h.start_gateway(dev_auth=True)
        offers_topic = h.topic("offers")
        H.wait_until(lambda: H.topic_exists(offers_topic), 30,
                     what="gateway to create %s" % offers_topic)

        w = H.future_window(6, 1)
        good = {"source_type": "SOLAR", "quantity_wh": 5000,
                "price_per_kwh": 650, "delivery_start": w["start"],
                "delivery_end": w["end"], "meter_id": "MTR-001"}
        slot = H.next_slot_ms()
        rfc = H.ms_to_rfc3339

        def with_(**over):
            b = dict(good)
            for k, v in over.items():
                if v is _DROP:
                    b.pop(k, None)
                else:
                    b[k] = v
            return b

        cases = []  # (name, body, status, codes, fields, extra kw)

        def add(name, body, status, codes, fields, **kw):
            cases.append((name, body, status,
                          {codes} if isinstance(codes, str) else set(codes),
                          {fields} if isinstance(fields, str) else set(fields),
                          kw))

        # -- not a JSON object
        add("malformed JSON", b'{"source_type": "SOLAR", ', 400,
            "malformed_json", "body")
        add("trailing garbage", json.dumps(good).encode() + b' x', 400,
            "malformed_json", "body")
        add("empty body", b'', 400, "malformed_json", "body")
        add("JSON array", b'[' + json.dumps(good).encode() + b']', 400,
            "malformed_json", "body")
        add("JSON string", b'"hello"', 400, "malformed_json", "body")
        add("JSON null", b'null', 400, "malformed_json", "body")
        add("JSON number", b'42', 400, "malformed_json", "body")
        add("invalid UTF-8", json.dumps(good).encode().replace(
            b"MTR-001", b"MTR-\xff\xfe"), 400, "malformed_json", "body")
        add("overlong UTF-8", json.dumps(good).encode().replace(
            b"MTR-001", b"MTR-\xc0\xaf"), 400, "malformed_json", "body")
        add("lone surrogate escape", json.dumps(good).encode().replace(
            b"MTR-001", b"MTR-\\udcff"), 400, ("malformed_json",
                                                "invalid_field"),
            ("body", "meter_id"))
        add("NUL escape", json.dumps(good).encode().replace(
            b"MTR-001", b"MTR-\\u0000X"), 400, ("malformed_json",
                                                 "invalid_field"),
            ("body", "meter_id"))
        add("invalid UTF-8 in a key", b'{"source_\xc3\x28type": "SOLAR"}',
            400, "malformed_json", "body")
        # -- missing fields
        for f in REQUIRED:
            add("missing " + f, with_(**{f: _DROP}), 400, "missing_field", f)
        # -- wrong JSON types
        add("string quantity", with_(quantity_wh="5000"), 400, "wrong_type",
            "quantity_wh")
        add("float quantity", with_(quantity_wh=1.5), 400,
            ("wrong_type", "invalid_field"), "quantity_wh")
        add("bool price", with_(price_per_kwh=True), 400, "wrong_type",
            "price_per_kwh")
        add("null quantity", with_(quantity_wh=None), 400,
            ("wrong_type", "missing_field"), "quantity_wh")
        add("object price", with_(price_per_kwh={"v": 1}), 400, "wrong_type",
            "price_per_kwh")
        add("numeric source_type", with_(source_type=1), 400, "wrong_type",
            "source_type")
        add("numeric meter_id", with_(meter_id=123), 400, "wrong_type",
            "meter_id")
        add("numeric delivery_start", with_(delivery_start=w["start_ms"]),
            400, "wrong_type", "delivery_start")
        add("string min_order_wh", with_(min_order_wh="1000"), 400,
            "wrong_type", "min_order_wh")
        add("numeric valid_until", with_(valid_until=1), 400, "wrong_type",
            "valid_until")
        add("numeric currency", with_(currency=356), 400, "wrong_type",
            "currency")
        # -- values out of range
        for q in (0, -1, -5000, 10000001, 2 ** 63 - 1, -2 ** 63):
            add("quantity %d" % q, with_(quantity_wh=q), 400, "invalid_field",
                "quantity_wh")
        add("quantity 1e300", json.dumps(with_(quantity_wh=0)).replace(
            '"quantity_wh": 0', '"quantity_wh": 1e300').encode(),
            400, ("wrong_type", "invalid_field"), "quantity_wh")
        add("quantity 2^64", json.dumps(with_(quantity_wh=0)).replace(
            '"quantity_wh": 0', '"quantity_wh": 18446744073709551616')
            .encode(), 400, ("invalid_field", "malformed_json", "wrong_type"),
            ("quantity_wh", "body"))
        for p in (0, -1, 100001, 2 ** 62):
            add("price %d" % p, with_(price_per_kwh=p), 400, "invalid_field",
                "price_per_kwh")
        add("min_order 0", with_(min_order_wh=0), 400, "invalid_field",
            "min_order_wh")
        add("min_order above quantity", with_(min_order_wh=5001), 400,
            "invalid_field", "min_order_wh")
        add("unknown source_type", with_(source_type="NUCLEAR"), 400,
            "invalid_field", "source_type")
        add("lower-case source_type", with_(source_type="solar"), 400,
            "invalid_field", "source_type")
        add("empty meter_id", with_(meter_id=""), 400, "invalid_field",
            "meter_id")
        add("65-char meter_id", with_(meter_id="M" * 65), 400,
            "invalid_field", "meter_id")
        add("other currency", with_(currency="USD"), 400, "invalid_field",
            "currency")
        add("unknown field", with_(colour="green"), 400, "unknown_field",
            "colour")
        # -- time and window rules
        add("unparsable start", with_(delivery_start="tomorrow"), 400,
            "invalid_field", "delivery_start")
        add("start with offset, not Z",
            with_(delivery_start=w["start"][:-1] + "+05:30"), 400,
            "invalid_field", "delivery_start")
        add("start with impossible date",
            with_(delivery_start="2026-02-30T10:00:00Z"), 400,
            ("invalid_field", "gate_closed"), "delivery_start")
        add("window in the past",
            with_(delivery_start=rfc(slot - 4 * H.SLOT_MS),
                  delivery_end=rfc(slot - 3 * H.SLOT_MS)),
            400, "gate_closed", "delivery_start")
        add("window inside gate closure",
            with_(delivery_start=rfc(slot + H.SLOT_MS),
                  delivery_end=rfc(slot + 2 * H.SLOT_MS)),
            400, "gate_closed", "delivery_start")
        far = slot + 8 * 24 * H.SLOT_MS
        add("window after the horizon",
            with_(delivery_start=rfc(far), delivery_end=rfc(far + H.SLOT_MS)),
            400, "beyond_horizon", "delivery_start")
        add("misaligned start",
            with_(delivery_start=rfc(w["start_ms"] + 30 * 60000)), 400,
            "window_not_aligned", "delivery_start")
        add("misaligned end",
            with_(delivery_end=rfc(w["end_ms"] + 60000)), 400,
            "window_not_aligned", "delivery_end")
        add("end before start",
            with_(delivery_start=w["end"], delivery_end=w["start"]), 400,
            "window_inverted", "delivery_end")
        add("end equals start", with_(delivery_end=w["start"]), 400,
            "window_inverted", "delivery_end")
        add("window longer than 24 h",
            with_(delivery_end=rfc(w["start_ms"] + 25 * H.SLOT_MS)), 400,
            ("invalid_field", "window_inverted", "beyond_horizon"),
            "delivery_end")
        add("valid_until in the past",
            with_(valid_until=rfc(slot - 2 * H.SLOT_MS)), 400,
            "invalid_field", "valid_until")
        add("valid_until after delivery start",
            with_(valid_until=rfc(w["start_ms"] + H.SLOT_MS)), 400,
            "invalid_field", "valid_until")
        # -- size, method, identity
        big = with_(meter_id="MTR-001")
        big["padding"] = "x" * (H.MAX_BODY + 10)
        add("oversized body", json.dumps(big).encode(), 413,
            "body_too_large", "body")
        add("oversized whitespace", json.dumps(good).encode()
            + b' ' * (H.MAX_BODY + 1), 413, "body_too_large", "body")
        add("oversized chunked body", json.dumps(big).encode(), (411, 413),
            ("body_too_large", "length_required"), "body", chunked=True)
        add("no X-Dev-User", good, 401, "unauthenticated", ANY_FIELD,
            headers={})
        add("empty X-Dev-User", good, 401, "unauthenticated", ANY_FIELD,
            headers={"X-Dev-User": ""})
        # last: the ones most likely to take the process down
        add("deeply nested arrays", b'[' * 10000 + b']' * 10000, 400,
            "malformed_json", "body")
        nested = b'{"a":' * 10000 + b'1' + b'}' * 10000
        add("deeply nested objects", nested, 400, "malformed_json", "body")
        add("deep nesting in a field",
            json.dumps(with_(meter_id=None)).replace(
                'null', '[' * 10000 + ']' * 10000).encode(),
            400, ("malformed_json", "wrong_type"), ("body", "meter_id"))

        failures = []
        for name, body, status, codes, fields, kw in cases:
            headers = kw.get("headers", AUTH)
            try:
                st, resp = h.http("POST", "/seller/offers", body,
                                  headers=headers,
                                  chunked=kw.get("chunked", False))
            except Exception as e:  # pylint: disable=broad-except
                failures.append("%s: request failed: %r" % (name, e))
                if not h.gateway.alive():
                    break
                continue
            statuses = status if isinstance(status, tuple) else (status,)
            raw = h.last_http[2][:300]
            err = resp.get("error") if isinstance(resp, dict) else None
            problems = []
            if st not in statuses:
                problems.append("status %d, expected %s" % (st, statuses))
            if not isinstance(err, dict) or not all(
                    isinstance(err.get(k), str) for k in
                    ("code", "message")) or "field" not in err or not (
                    isinstance(err["field"], str)
                    or (ANY_FIELD in fields and err["field"] is None)):
                problems.append("not {error:{code,message,field}}")
            else:
                if H.API_ERROR_CODES.get(err["code"]) != st:
                    problems.append("code %r with status %d is not in the "
                                    "docs/api.md table" % (err["code"], st))
                if err["code"] not in codes:
                    problems.append("code %r, expected %s"
                                    % (err["code"], sorted(codes)))
                if ANY_FIELD not in fields and err["field"] not in fields:
                    problems.append("field %r, expected %s"
                                    % (err["field"], sorted(fields)))
                if not err["message"]:
                    problems.append("empty message")
            ctype = h.last_http[1].get("Content-Type", "")
            if not ctype.startswith("application/json"):
                problems.append("Content-Type %r" % ctype)
            if problems:
                failures.append("%s: %s; got %d %r"
                                % (name, "; ".join(problems), st, raw))
            if not h.gateway.alive():
                failures.append("gateway died after %r" % name)
                break

        check(h.gateway.alive(), "gateway died during the bad requests:\n  %s"
              % "\n  ".join(failures))

        # other methods and paths
        for method, path, status, code in (
                ("PUT", "/seller/offers", 405, "method_not_allowed"),
                ("DELETE", "/seller/offers", 405, "method_not_allowed"),
                ("POST", "/api/offers", 405, "method_not_allowed"),
                ("GET", "/api/no-such-thing", 404, "not_found")):
            st, resp = h.http(method, path, good, headers=AUTH)
            err = resp.get("error") if isinstance(resp, dict) else None
            if st != status or not isinstance(err, dict) \
                    or err.get("code") != code:
                failures.append("%s %s: expected %d %s, got %d %r"
                                % (method, path, status, code, st,
                                   h.last_http[2][:300]))

        check(h.gateway.alive(), "gateway died")
        st, _ = h.http("GET", "/healthz")
        check(st == 200, "gateway unhealthy after bad input: %d" % st)
        n = H.count_records(offers_topic)
        check(n == 0, "bad requests put %s records on %s" % (n, offers_topic))
        check(not failures, "%d of %d bad requests were mishandled:\n  %s"
              % (len(failures), len(cases) + 4, "\n  ".join(failures)))

        # the counter can move: one good request lands on the topic
        st, resp = h.http("POST", "/seller/offers", good, headers=AUTH)
        check(st in (201, 202), "valid POST after the bad ones -> %d %r" % (st, resp))
        check(H.count_records(offers_topic) == 1,
              "valid POST did not put exactly one record on %s" % offers_topic)
        H.log("%d bad requests answered correctly" % len(cases))


class _Drop:
    pass


_DROP = _Drop()

if __name__ == "__main__":
    main()
