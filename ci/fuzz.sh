#!/usr/bin/env bash
# Coverage-guided fuzzing of the wire scan with AFL++ (afl.rs), on the stable toolchain.
#
# Installs cargo-afl when it is missing (it builds AFL++'s runtime on install: needs a C
# compiler and make), builds the target in fuzz/ (its own workspace: the agent's builds never
# build it), writes a seed corpus, checks the seeds outside AFL, fuzzes for FUZZ_SECONDS
# (default 120), prints the number of executions and crashes, and fails on a crash.
#
# The target (fuzz/src/bin/scan.rs) reads each input as a trace, metrics and logs request and
# panics when the scan and prost's decode plus the receiver's validation disagree.
#
# Environment: FUZZ_SECONDS, FUZZ_OUT (default fuzz/out), AFL_OPT_LEVEL (default 1: the
# target's dependency tree builds much faster than at cargo-afl's default of 3),
# CARGO_TARGET_DIR (default fuzz/target).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-120}"
out="${FUZZ_OUT:-fuzz/out}"
afl_version=0.18.2

if ! cargo afl --version >/dev/null 2>&1; then
    cargo install cargo-afl --version "$afl_version" --locked
fi

(cd fuzz && AFL_OPT_LEVEL="${AFL_OPT_LEVEL:-1}" cargo afl build --bins)
target_dir="${CARGO_TARGET_DIR:-fuzz/target}"
scan="$target_dir/debug/scan"

seeds="$(mktemp -d)"
trap 'rm -rf "$seeds"' EXIT
"$target_dir/debug/seeds" "$seeds"
# What real instrumentation sent, as captured for the differential tests.
cp tests/corpus/instrumentation/*.binpb "$seeds"/
for seed in "$seeds"/*; do
    "$scan" < "$seed"
done

rm -rf "$out"
# No UI; no CPU binding (the machine may be busy); the container may not let us set the core
# pattern or the CPU governor, which only AFL's speed depends on.
export AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
cargo afl fuzz -i "$seeds" -o "$out" -V "$seconds" "$scan" > "$out.log" 2>&1 || {
    tail -n 30 "$out.log"
    echo "fuzz: afl-fuzz failed" >&2
    exit 1
}

stats="$out/default/fuzzer_stats"
stat() { awk -F: -v key="$1" '$1 ~ "^"key" *$" { gsub(/ /, "", $2); print $2 }' "$stats"; }
execs="$(stat execs_done)"
crashes="$(stat saved_crashes)"
echo "fuzz: ${execs:-?} executions in ${seconds} s, ${crashes:-?} crashes, $(stat corpus_count) inputs in the corpus"
if [ "${crashes:-1}" != 0 ]; then
    echo "fuzz: crashing inputs (reproduce with: $scan < FILE):" >&2
    ls "$out"/default/crashes/id:* >&2 2>/dev/null || true
    exit 1
fi
