#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer, nightly toolchain) of what outsiders feed
# the platform: label URLs and offline payloads, CSV uploads, request and stored payload JSON,
# trail event bodies. Each target runs FUZZ_SECONDS (default 20) from its corpus in
# tests/fuzz/corpus; new inputs go to a scratch directory (FUZZ_KEEP=1 adds them to the corpus
# instead). A crash stops the script and leaves the input in tests/fuzz/artifacts.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz@0.13.1
seconds=${FUZZ_SECONDS:-20}
targets=${FUZZ_TARGETS:-label_url csv payload event_body}
# Safe Rust only (unsafe_code is denied): libFuzzer's coverage and panics find the bugs, so no
# AddressSanitizer build. 16 codegen units instead of cargo-fuzz's one: the instrumented
# release build of every dependency then takes minutes, not a quarter of an hour, on 2 cores.
build=(--fuzz-dir tests/fuzz -s none --codegen-units 16)
# FUZZ_DEV=1 (CI's smoke run): an unoptimized build with overflow checks and debug assertions,
# 3 minutes instead of 11 to build, about twenty times fewer inputs a second.
if [ "${FUZZ_DEV:-}" = "1" ]; then
  build=(--fuzz-dir tests/fuzz -s none --dev)
fi
cargo +nightly fuzz build "${build[@]}"
for target in $targets; do
  corpus=tests/fuzz/corpus/$target
  if [ "${FUZZ_KEEP:-}" = "1" ]; then
    dirs=("$corpus")
  else
    scratch=$(mktemp -d)
    dirs=("$scratch" "$corpus")
  fi
  echo "== fuzz $target for ${seconds}s"
  log=$(mktemp)
  if ! cargo +nightly fuzz run "${build[@]}" "$target" "${dirs[@]}" -- \
    -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 >"$log" 2>&1; then
    tail -60 "$log"
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::new_units_added|Done [0-9]+ runs" "$log" || true
done
