#!/usr/bin/env bash
# small.sh - where a fleet spends its time: N small tracker files (0.6.1,
# ROWS rows, a primary key and an index), to 0.8.1, two at a time, in one
# run:
#   seed's way      EXPORT DATABASE with 0.6.1, IMPORT DATABASE with
#                   0.8.1 (one engine process each, as the seed's design
#                   does it), two files at a time; nothing is verified
#   seed's floor    the seed's statements alone (opens, EXPORT, IMPORT),
#                   timed inside the engines, halved for two at a time:
#                   its way with engines already running
#   batch           `duckmig batch --jobs 2`, verified
#   batch, spawned  the same with DUCKMIG_KEEP_ENGINES=0: every engine is
#                   a fresh exec + dlopen (how duckmig ran before zygotes)
#   consume x2      two `duckmig consume` on a real RabbitMQ, ledger in
#                   PostgreSQL, EFS to EFS, verified
# Prints seconds, files per second, and each way's speed over the seed's.
# Starts its own RabbitMQ and PostgreSQL on loopback (--no-broker skips
# the consume row).
#
# usage: bench/small.sh [--no-broker] [FILES [ROWS]]   (default 48 5000)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
broker=1
[ "${1:-}" = --no-broker ] && { broker=0; shift; }
n=${1:-48}
rows=${2:-5000}
export DUCKMIG=${DUCKMIG:-$root/duckmig} DUCKMIG_HELPER=${DUCKMIG_HELPER:-$root/duckmig}
. "$root/tests/lib.sh"
cd "$TMP"
export LOG_LEVEL=warn

echo "making $n tracker files of $rows rows with DuckDB 0.6.1 ..." >&2
make_tracker one.duckdb "$rows" || exit 1
for i in $(seq "$n"); do
    t=$((9000000000000000 + i))
    mkdir -p "src/$t"
    cp one.duckdb "src/$t/VolumeCases-$t.duckdb"
done

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

# one file the seed's way: a process per release, as the seed runs them
cat >seed-one.sh <<'SH'
#!/usr/bin/env bash
set -e
f=$1 d=$(mktemp -d "$OUT/x.XXXXXX")
"$DUCKMIG_HELPER" sql --engine 0.6.1 "$f" "EXPORT DATABASE '$d/export'" >/dev/null
"$DUCKMIG_HELPER" sql --engine 0.8.1 "$d/new.duckdb" "IMPORT DATABASE '$d/export'" >/dev/null
rm -rf "$d/export"
SH
chmod +x seed-one.sh
seed_run() {
    local start
    rm -rf seed && mkdir seed
    start=$(now)
    find src -name '*.duckdb' | OUT=$TMP/seed xargs -P2 -n1 ./seed-one.sh ||
        { echo "the seed's way failed" >&2; exit 1; }
    since "$start"
}
# the floor: the seed's statements alone (each file's opens, EXPORT and
# IMPORT, as DUCKMIG_TRACE_ENGINE times them inside the engines), halved
# for two at a time: the seed's way with engines already running
floor_run() {
    rm -rf seed && mkdir seed
    find src -name '*.duckdb' | DUCKMIG_TRACE_ENGINE=1 OUT=$TMP/seed xargs -P2 -n1 ./seed-one.sh 2>trace.log ||
        { echo "the seed's way failed" >&2; exit 1; }
    awk '/ trace: / && !/\((spawned|forked)\)/ { ms += $4 } END { printf "%.3f\n", ms / 1000 / 2 }' trace.log
}
batch_run() { # batch_run [ENV...] -> seconds
    local start
    rm -rf out
    start=$(now)
    env "$@" "$DUCKMIG" batch --to 0.8.1 --jobs 2 --json src out >batch.json 2>batch.err ||
        { echo "batch failed" >&2; cat batch.err >&2; exit 1; }
    [ "$(jq -r .counts.migrated batch.json)" = "$n" ] || { echo "batch did not migrate all" >&2; exit 1; }
    since "$start"
}

echo "measuring ..." >&2
seed=$(seed_run)
floor=$(floor_run)
batch=$(batch_run)
spawned=$(batch_run DUCKMIG_KEEP_ENGINES=0)
seed2=$(seed_run)
batch2=$(batch_run)

cons=
if [ "$broker" = 1 ]; then
    echo "starting RabbitMQ and PostgreSQL ..." >&2
    start_fleet "$TMP" || exit 1
    psql() { fleet_psql "$@"; }
    psql -f "$root/deploy/sql/goal-sample.sql" >/dev/null
    for t in $(ls src); do echo "INSERT INTO goal VALUES ($t, 51, 'bench');"; done | psql >/dev/null
    "$DUCKMIG" ledger init >/dev/null 2>&1
    mkdir -p dst
    "$DUCKMIG" publish --from efs --to efs >/dev/null 2>&1 || { echo "publish failed" >&2; exit 1; }
    start=$(now)
    "$DUCKMIG" consume >consumer-1.log 2>&1 & c1=$!
    "$DUCKMIG" consume >consumer-2.log 2>&1 & c2=$!
    ledger_wait "$n" "$c1" "$c2" ||
        { echo "a consumer died" >&2; cat consumer-1.log consumer-2.log >&2; exit 1; }
    cons=$(since "$start")
    kill "$c1" "$c2"
    wait "$c1" "$c2" 2>/dev/null
fi

seed_best=$(printf '%s\n%s\n' "$seed" "$seed2" | sort -n | head -1)
batch_best=$(printf '%s\n%s\n' "$batch" "$batch2" | sort -n | head -1)
printf '\n%s files of %s rows (0.6.1, primary key + index) to 0.8.1, two at a time, %s cores\n' "$n" "$rows" "$(nproc)"
printf '%-26s %9s %9s %12s\n' what seconds files/s x_seed_way
row() { printf '%-26s %9.2f %9.2f %12.2f\n' "$1" "$2" "$(echo "$n / $2" | bc -l)" "$(echo "$seed_best / $2" | bc -l)"; }
row "seed's way (best of 2)" "$seed_best"
row "seed's floor" "$floor"
row "batch --jobs 2 (best of 2)" "$batch_best"
row "batch, engines spawned" "$spawned"
[ -n "$cons" ] && row "consume x2 (broker)" "$cons"
echo "(x_seed_way: the seed's time over this row's. Every duckmig row is"
echo " verified both ways; the seed's rows are not. The floor is the"
echo " seed's statements alone, timed inside the engines: its way with"
echo " engines already running.)"
