#!/usr/bin/env bash
# Sets up a Debian 12 machine, builds warren and runs the demo scenario: a client behind a
# simulated NAT discovers its public endpoint with STUN. Prints the report it writes.
#
#   scripts/demo.sh [extra `warren sim run` options, e.g. --seed 7 --pcap]
#
# Environment: WARREN_BUILD_DIR (default: build), JOBS (default: nproc),
#              DEMO_OUT (default: out/demo), DEMO_SCENARIO (default: scenarios/stun-behind-nat.json)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${WARREN_BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
OUT=${DEMO_OUT:-out/demo}
SCENARIO=${DEMO_SCENARIO:-scenarios/stun-behind-nat.json}

echo "== demo: setup"
bash scripts/setup.sh

echo "== demo: build $BUILD/nodes/cli/warren"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWARREN_SANITIZE=OFF -DWARREN_FUZZ=OFF
cmake --build "$BUILD" -j "$JOBS" --target warren

[ -f "$SCENARIO" ] || { echo "demo: scenario $SCENARIO not found" >&2; exit 1; }
echo "== demo: warren sim run $SCENARIO --out $OUT $*"
"$BUILD/nodes/cli/warren" sim run "$SCENARIO" --out "$OUT" "$@"

[ -f "$OUT/report.md" ] || { echo "demo: $OUT/report.md was not written" >&2; exit 1; }
echo
echo "== demo: $OUT/report.md"
cat "$OUT/report.md"
echo
echo "== demo: full results in $OUT/ (report.json, report.md, run.json)"
