#!/usr/bin/env bash
# Sets up a Debian 12 machine and runs every warren test, stage by stage, failing fast.
#
#   scripts/test.sh                 everything (what README and .ci/run use)
#   scripts/test.sh --quick         release build + ctest + pytest only, without the tests
#                                   marked slow (the developer loop)
#   scripts/test.sh --only asan,fuzz
#   scripts/test.sh --skip fuzz
#
# Stages, in order:
#   setup    scripts/setup.sh: install missing Debian packages (idempotent)
#   release  configure + build $BUILD (RelWithDebInfo), ctest
#   e2e      pytest tests/e2e against $BUILD/nodes/cli/warren (coturn interop, netns NAT, CLI,
#            the 1,000-node scenarios marked slow unless --quick)
#   asan     configure + build $BUILD-asan (ASan + UBSan, -O0, asserts on), ctest -LE slow,
#            pytest -m "not slow"
#   fuzz     configure + build $BUILD-fuzz (clang, libFuzzer, -O1, asserts on), run every *_fuzz target
#
# Environment:
#   WARREN_BUILD_DIR  release build dir relative to the repo root (default: build);
#                     the sanitizer and fuzz builds go to <dir>-asan and <dir>-fuzz
#   JOBS              parallel compile jobs (default: nproc)
#   FUZZ_SECONDS      seconds per fuzz target (default: 15)
#   FUZZ_JOBS         fuzz targets run at once (default: JOBS)
#   E2E_TIMEOUT       hard limit in seconds for one pytest run (default: 900)
# Exit status: 0 when every selected stage passed, non-zero at the first failure.
set -euo pipefail

SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
cd "$(dirname "$SCRIPT")/.."
ROOT=$(pwd)
PYTHON=/usr/bin/python3  # Debian's interpreter, which has python3-pytest; PATH may hold another.

BUILD=${WARREN_BUILD_DIR:-build}
BUILD_ASAN=${BUILD}-asan
BUILD_FUZZ=${BUILD}-fuzz
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
FUZZ_JOBS=${FUZZ_JOBS:-$JOBS}
E2E_TIMEOUT=${E2E_TIMEOUT:-900}

ALL_STAGES=(setup release e2e asan fuzz)

usage() {
  sed -n '2,/^set -euo/p' "$SCRIPT" | sed '$d' | sed 's/^# \{0,1\}//'
}

# ---- stage selection -------------------------------------------------------------------------
declare -A selected=()
quick=0
for s in "${ALL_STAGES[@]}"; do selected[$s]=1; done
select_only() {
  for s in "${ALL_STAGES[@]}"; do selected[$s]=0; done
  local IFS=,
  for s in $1; do
    [ -n "${selected[$s]+x}" ] || { echo "test.sh: unknown stage '$s' (stages: ${ALL_STAGES[*]})" >&2; exit 2; }
    selected[$s]=1
  done
}
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) select_only setup,release,e2e; quick=1 ;;
    --only) [ $# -ge 2 ] || { echo "test.sh: --only needs a list of stages" >&2; exit 2; }
            select_only "$2"; shift ;;
    --only=*) select_only "${1#--only=}" ;;
    --skip) [ $# -ge 2 ] || { echo "test.sh: --skip needs a list of stages" >&2; exit 2; }
            IFS=, read -ra skip <<<"$2"; for s in "${skip[@]}"; do selected[$s]=0; done; shift ;;
    --skip=*) IFS=, read -ra skip <<<"${1#--skip=}"; for s in "${skip[@]}"; do selected[$s]=0; done ;;
    --no-setup) selected[setup]=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "test.sh: unknown argument '$1'; see scripts/test.sh --help" >&2; exit 2 ;;
  esac
  shift
done

# ---- bookkeeping: banners, timings, a summary on every exit path ------------------------------
results=()
current=""
stage_start=0
run_start=$SECONDS

fmt_duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

banner() {
  echo
  echo "================================================================================"
  echo "== test.sh stage: $1 — $2"
  echo "================================================================================"
}

begin_stage() {
  current=$1
  stage_start=$SECONDS
  banner "$1" "$2"
}

end_stage() {
  local took=$((SECONDS - stage_start))
  results+=("$(printf '%-8s passed  %s' "$current" "$(fmt_duration $took)")")
  echo "== test.sh stage: $current passed in $(fmt_duration $took)"
  current=""
}

summary() {
  local rc=$?
  set +e
  if [ -n "$current" ]; then
    results+=("$(printf '%-8s FAILED  %s' "$current" "$(fmt_duration $((SECONDS - stage_start)))")")
  fi
  echo
  echo "================================================================================"
  echo "== test.sh summary"
  for r in "${results[@]}"; do echo "   $r"; done
  local total
  total=$(fmt_duration $((SECONDS - run_start)))
  if [ $rc -eq 0 ]; then
    echo "== test.sh: ALL PASSED (${#results[@]} stages) in $total"
  else
    echo "== test.sh: FAILED in stage '${current:-?}' (exit $rc) after $total"
  fi
  echo "================================================================================"
  exit $rc
}
trap summary EXIT

fail() {
  echo "test.sh: $*" >&2
  exit 1
}

# Sanitizer and fuzz builds keep assert() live (no NDEBUG). The ASan build uses -O0: on a
# 2-core runner its compile time dominates the stage (nlohmann/json and ns-3 templates), -O0
# compiles about a fifth faster than -O1, and the unit tests run in well under a minute either
# way. The fuzz build keeps -O1, where executions per second matter more than its compile time.
ASAN_BUILD_TYPE=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-O0 -g" "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g")
FUZZ_BUILD_TYPE=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-O1 -g" "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g")

# ---- helpers ---------------------------------------------------------------------------------
configure_and_build() {
  local dir=$1
  shift
  echo "+ cmake -S . -B $dir $*"
  cmake -S . -B "$dir" "$@"
  echo "+ cmake --build $dir -j $JOBS"
  cmake --build "$dir" -j "$JOBS"
}

run_ctest() {
  local dir=$1
  shift
  echo "+ ctest --test-dir $dir --output-on-failure -j2 --no-tests=error $*"
  ctest --test-dir "$dir" --output-on-failure -j2 --no-tests=error "$@"
}

# pytest's exit code 5 means nothing was collected: a broken test tree, never a pass.
# run_pytest BIN [PYTEST ARGS...]
run_pytest() {
  local bin=$1
  shift
  [ -x "$bin" ] || fail "the warren binary $bin was not built"
  echo "+ WARREN_BIN=$bin $PYTHON -m pytest tests/e2e $*"
  local rc=0
  WARREN_BIN="$bin" timeout -s INT -k 30 "$E2E_TIMEOUT" \
    "$PYTHON" -m pytest tests/e2e -ra -p no:cacheprovider "$@" || rc=$?
  remove_stale_namespaces
  case $rc in
    0) ;;
    5) fail "pytest collected no tests (exit 5): tests/e2e is missing or broken" ;;
    124) fail "pytest ran past E2E_TIMEOUT=${E2E_TIMEOUT}s and was interrupted" ;;
    *) fail "pytest failed (exit $rc)" ;;
  esac
}

# A pytest interrupted by the time limit may not have run its namespace finalizers.
remove_stale_namespaces() {
  [ "$(id -u)" -eq 0 ] || return 0
  "$PYTHON" -c 'import sys; sys.path.insert(0, "tests/e2e"); import netns; netns.remove_stale()' || true
}

sanitizer_env() {
  export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
}

# Seed corpora live in tests/fuzz/corpus/<target>/ or next to the target's source as
# <target>_corpus/ or corpus/<target>/. libFuzzer writes new inputs only into the first
# directory it is given, so that one is a scratch directory in the build tree.
seed_dirs() {
  local t=$1
  [ -d "tests/fuzz/corpus/$t" ] && echo "tests/fuzz/corpus/$t"
  find tests -type d \( -name "${t}_corpus" -o -path "*/corpus/$t" \) \
    -not -path "tests/fuzz/corpus/$t" 2>/dev/null | sort
}

run_fuzzer() {
  local exe=$1
  local t
  t=$(basename "$exe")
  local scratch="$BUILD_FUZZ/fuzz-corpus/$t"
  local artifacts="$BUILD_FUZZ/fuzz-artifacts"
  local log="$BUILD_FUZZ/fuzz-logs/$t.log"
  mkdir -p "$scratch" "$artifacts" "$(dirname "$log")"
  local seeds
  mapfile -t seeds < <(seed_dirs "$t")
  local rc=0
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    timeout -k 10 $((FUZZ_SECONDS + 120)) "$exe" \
    -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$t-" "$scratch" "${seeds[@]}" >"$log" 2>&1 || rc=$?
  if [ $rc -ne 0 ]; then
    tail -n 80 "$log"
    fail "fuzz target $t failed (exit $rc); full log $log, crashing input in $artifacts/"
  fi
  local done_line
  done_line=$(grep -E '^Done [0-9]+ runs' "$log" | tail -n1 || true)
  printf '   %-28s %s (seeds: %s)\n' "$t" "${done_line:-finished}" "${seeds[*]:-none}"
}

# ---- stages ----------------------------------------------------------------------------------
if [ "${selected[setup]}" = 1 ]; then
  begin_stage setup "install missing Debian packages"
  bash scripts/setup.sh
  end_stage
fi

if [ "${selected[release]}" = 1 ]; then
  begin_stage release "RelWithDebInfo build in $BUILD/, unit tests"
  configure_and_build "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DWARREN_SANITIZE=OFF -DWARREN_FUZZ=OFF -DWARREN_TESTS=ON -DWARREN_BENCH=ON
  run_ctest "$BUILD"
  end_stage
fi

if [ "${selected[e2e]}" = 1 ]; then
  begin_stage e2e "pytest: the warren binary against coturn, Linux NAT in namespaces, CLI"
  if [ "$quick" = 1 ]; then
    run_pytest "$ROOT/$BUILD/nodes/cli/warren" -m "not slow"
  else
    run_pytest "$ROOT/$BUILD/nodes/cli/warren"
  fi
  end_stage
fi

if [ "${selected[asan]}" = 1 ]; then
  begin_stage asan "AddressSanitizer + UBSan build in $BUILD_ASAN/, unit tests, pytest"
  configure_and_build "$BUILD_ASAN" "${ASAN_BUILD_TYPE[@]}" \
    -DWARREN_SANITIZE=ON -DWARREN_FUZZ=OFF -DWARREN_TESTS=ON -DWARREN_BENCH=OFF
  sanitizer_env
  run_ctest "$BUILD_ASAN" -LE slow
  run_pytest "$ROOT/$BUILD_ASAN/nodes/cli/warren" -m "not slow"
  end_stage
fi

if [ "${selected[fuzz]}" = 1 ]; then
  begin_stage fuzz "libFuzzer build in $BUILD_FUZZ/, ${FUZZ_SECONDS}s per target"
  configure_and_build "$BUILD_FUZZ" "${FUZZ_BUILD_TYPE[@]}" \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DWARREN_FUZZ=ON -DWARREN_WITH_NS3=OFF -DWARREN_TESTS=OFF -DWARREN_BENCH=OFF -DWARREN_SANITIZE=OFF
  mapfile -t fuzzers < <(find "$BUILD_FUZZ" -type f -name '*_fuzz' -perm -u+x | sort)
  [ ${#fuzzers[@]} -gt 0 ] || fail "no *_fuzz executables were built in $BUILD_FUZZ"
  echo "running ${#fuzzers[@]} fuzz targets for ${FUZZ_SECONDS}s each, $FUZZ_JOBS at a time"
  # Each target is one process on one core: run them side by side, and stop at the first
  # failure (run_fuzzer exits non-zero, xargs stops launching new ones and reports 255).
  export -f run_fuzzer seed_dirs fail
  export BUILD_FUZZ FUZZ_SECONDS
  printf '%s\0' "${fuzzers[@]}" | xargs -0 -n1 -P "$FUZZ_JOBS" bash -c '( run_fuzzer "$1" ) || exit 255' _ \
    || fail "a fuzz target failed (see its log above)"
  end_stage
fi
