#!/usr/bin/env bash
# Builds the libFuzzer targets in tests/fuzz with clang (directly, not through
# meson, so the main build stays gcc-only) with ASan+UBSan, and runs each for
# N seconds (default 10) over its seed corpus tests/fuzz/corpus/<target>/.
# New inputs go to build-fuzz/corpus/<target>/ (the seed folder is never
# written); crashes to build-fuzz/artifacts/. Exits non-zero if any target
# found a crash, leak or broken invariant.
#   usage: tests/fuzz/run.sh [seconds] [target...]
# Needs clang-14 and libclang-rt-14-dev (scripts/setup.sh installs them).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${1:-10}
shift || true
OUT="$ROOT/build-fuzz"
CC=${FUZZ_CC:-$(command -v clang-14 || command -v clang || true)}
[ -n "$CC" ] || { echo "run.sh: clang not found (run scripts/setup.sh)" >&2; exit 2; }

CFLAGS=(-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 -Wall -Wextra -Werror
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I"$ROOT")
read -r -a DEPS <<<"$(pkg-config --cflags --libs libsodium jansson) -lm"

# target -> extra sources and dictionary
declare -A SRCS=(
  [fuzz_signature_header]="gateway/beckn/signature.c"
  [fuzz_beckn_json]="common/p2p_json.c gateway/beckn/message.c common/p2p_time.c"
  [fuzz_beckn_order]="common/p2p_json.c gateway/beckn/message.c common/p2p_time.c gateway/beckn/beckn_order.c gateway/beckn/packs.c"
  [fuzz_jsonpath]="gateway/beckn/jsonpath.c gateway/beckn/jsonpath_eval.c"
)
declare -A DICTS=(
  [fuzz_signature_header]="signature_header.dict"
  [fuzz_beckn_json]="beckn_json.dict"
  [fuzz_beckn_order]="beckn_json.dict"
  [fuzz_jsonpath]="jsonpath.dict"
)
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(fuzz_signature_header fuzz_beckn_json fuzz_beckn_order fuzz_jsonpath)

mkdir -p "$OUT/artifacts"
failed=()
for t in "${TARGETS[@]}"; do
  [ -n "${SRCS[$t]+x}" ] || { echo "run.sh: unknown target $t" >&2; exit 2; }
  srcs=("$ROOT/tests/fuzz/$t.c")
  for s in ${SRCS[$t]}; do srcs+=("$ROOT/$s"); done
  echo "== building $t with $CC"
  "$CC" "${CFLAGS[@]}" "${srcs[@]}" "${DEPS[@]}" -o "$OUT/$t"
  mkdir -p "$OUT/corpus/$t"
  echo "== running $t for ${SECS}s"
  if ! "$OUT/$t" -max_total_time="$SECS" -max_len=16384 -timeout=10 -print_final_stats=1 \
       -dict="$ROOT/tests/fuzz/${DICTS[$t]}" -artifact_prefix="$OUT/artifacts/$t-" \
       "$OUT/corpus/$t" "$ROOT/tests/fuzz/corpus/$t" 2>"$OUT/$t.log"; then
    failed+=("$t")
    tail -n 60 "$OUT/$t.log" >&2
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+ +DONE' "$OUT/$t.log" || true
done
if ((${#failed[@]})); then
  echo "run.sh: FAILED: ${failed[*]} (inputs in $OUT/artifacts/)" >&2
  exit 1
fi
echo "run.sh: no findings in ${TARGETS[*]} (${SECS}s each)"
