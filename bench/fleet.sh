#!/usr/bin/env bash
# fleet.sh - fleet throughput: N small trackers (one 0.6.1 file each, EFS
# to EFS) through the real broker with 1 and 2 consumers, and through
# `duckmig batch --jobs 1` and `--jobs 2`, measured in the same run.
# Prints files per second and each way's scaling ratio (2 workers over 1).
# Starts its own RabbitMQ node and PostgreSQL cluster on loopback (the
# test suite's helpers).
#
# usage: bench/fleet.sh [TRACKERS]   (default 200)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-200}
export DUCKMIG=${DUCKMIG:-$root/duckmig} DUCKMIG_HELPER=${DUCKMIG_HELPER:-$root/duckmig}
. "$root/tests/lib.sh"
cd "$TMP"

echo "starting RabbitMQ and PostgreSQL ..." >&2
start_fleet "$TMP" || exit 1
psql() { fleet_psql "$@"; }
export LOG_LEVEL=warn

echo "making $n tracker files with DuckDB 0.6.1 ..." >&2
make_tracker one.duckdb 2000 || exit 1
psql -f "$root/deploy/sql/goal-sample.sql" >/dev/null
for i in $(seq "$n"); do
    t=$((9000000000000000 + i))
    mkdir -p "src/$t"
    cp one.duckdb "src/$t/VolumeCases-$t.duckdb"
    echo "INSERT INTO goal VALUES ($t, $((50 + i % 3)), 'bench');"
done | psql >/dev/null

now() { date +%s.%N; }
broker_run() { # broker_run CONSUMERS -> seconds
    local c pids=() start end
    psql -c "DROP TABLE IF EXISTS duckmig_ledger" >/dev/null 2>&1
    "$DUCKMIG" ledger init >/dev/null 2>&1
    rm -rf dst && mkdir dst
    "$DUCKMIG" publish --from efs --to efs >/dev/null 2>&1 || { echo "publish failed" >&2; exit 1; }
    start=$(now)
    for c in $(seq "$1"); do
        "$DUCKMIG" consume >"consumer-$1-$c.log" 2>&1 &
        pids+=($!)
    done
    ledger_wait "$n" "${pids[@]}" || { echo "a consumer died" >&2; exit 1; }
    end=$(now)
    kill "${pids[@]}"
    wait "${pids[@]}" 2>/dev/null
    echo "$end - $start" | bc
}
batch_run() { # batch_run JOBS -> seconds
    local start end
    rm -rf out
    start=$(now)
    "$DUCKMIG" batch --jobs "$1" --json src out >batch.json 2>/dev/null ||
        { echo "batch failed" >&2; exit 1; }
    end=$(now)
    [ "$(jq -r .counts.migrated batch.json)" = "$n" ] || { echo "batch did not migrate all" >&2; exit 1; }
    echo "$end - $start" | bc
}

echo "measuring ..." >&2
b1=$(broker_run 1)
b2=$(broker_run 2)
j1=$(batch_run 1)
j2=$(batch_run 2)

printf '\n%s trackers, one 0.6.1 file each (2000 rows, one index), EFS to EFS, to 0.8.1\n' "$n"
printf '%-22s %9s %10s %14s\n' what seconds files/s x_1_worker
row() { printf '%-22s %9.1f %10.2f %14.2f\n' "$1" "$2" "$(echo "$n / $2" | bc -l)" "$(echo "$3 / $2" | bc -l)"; }
row "broker, 1 consumer" "$b1" "$b1"
row "broker, 2 consumers" "$b2" "$b1"
row "batch --jobs 1" "$j1" "$j1"
row "batch --jobs 2" "$j2" "$j1"
printf '%-22s %9s %10s %14.2f\n' "broker / batch (1)" "" "" "$(echo "$j1 / $b1" | bc -l)"
echo "(x_1_worker: the 1-worker time over this row's; 2.00 would be perfect"
echo " scaling. The machine has $(nproc) cores; every job runs two DuckDB"
echo " processes, a reader and a writer.)"
