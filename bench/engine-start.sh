#!/usr/bin/env bash
# engine-start.sh - what process isolation costs: the wall time of
# `duckmig sql --engine R :memory: "SELECT 1"` (spawn a worker, dlopen the
# release, open, query, quit) for each release, as a ratio to a baseline
# measured in the same run: `duckmig --version` (one process, no engine).
# A fleet of thousands of files pays this twice per file (reader + writer).
#
# usage: bench/engine-start.sh [RUNS]   (default 20)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
duckmig=${DUCKMIG:-$root/duckmig}
runs=${1:-20}

time_runs() { # time_runs CMD... -> mean milliseconds per run
    local start end
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do "$@" >/dev/null; done
    end=$(date +%s%N)
    echo $(( (end - start) / runs / 1000000 ))
}

base=$(time_runs "$duckmig" --version)
[ "$base" -gt 0 ] || base=1
printf '%-10s %10s %8s\n' what ms/run ratio
printf '%-10s %10s %8s\n' baseline "$base" 1.0
for rel in 0.6.1 0.7.1 0.8.1 1.5.6; do
    ms=$(time_runs "$duckmig" sql --engine "$rel" :memory: "SELECT 1")
    printf '%-10s %10s %8s\n' "$rel" "$ms" "$(awk -v a="$ms" -v b="$base" 'BEGIN { printf "%.1f", a / b }')"
done
