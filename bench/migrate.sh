#!/usr/bin/env bash
# migrate.sh - how fast, how much memory and how much extra disk a tracker
# file's migration takes, in one run so that the ratios compare like with
# like on a shared, noisy machine.
#
# It builds a tracker-like file with DuckDB 0.6.1 (ROWS rows of BIGINT,
# TIMESTAMP, VARCHAR, DOUBLE, DECIMAL, BOOLEAN columns and an index on one
# BIGINT), then for each target (0.8.1 and 1.5.6) measures:
#   baseline   the seed's way: EXPORT DATABASE (CSV) with 0.6.1, IMPORT
#              DATABASE with the target
#   parquet    the same with FORMAT PARQUET
#   floor      what the target needs to write the same rows and build the
#              same index from memory (rows generated in memory first,
#              not timed)
#   duckmig    duckmig migrate, verification included (indexes after the
#              data), and again with indexes before the data
# The floor and duckmig run REPEAT times (default 3), alternating, and
# their rows are the median runs (each run's seconds go to stderr).
# and prints wall time, peak RSS (the sum over the process tree, sampled
# every 250 ms), peak extra disk (sampled likewise) and CPU seconds (user +
# system of every process), with ratios to the baseline and to the floor.
# The CPU seconds say how far a run is from the machine's limit: on N
# cores, no run can take less than cpu_s / N of wall time.
#
# usage: [REPEAT=N] bench/migrate.sh [ROWS]   (default 10000000; 445 MB)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
duckmig=${DUCKMIG:-$root/duckmig}
rows=${1:-10000000}
repeat=${REPEAT:-3} # runs of the floor and of duckmig, alternating
work=$(mktemp -d "${TMPDIR:-/tmp}/duckmig-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

gen_sql() { # the tracker table: $1 = table name
    cat <<SQL
CREATE TABLE $1 AS SELECT
    range AS id,
    (range * 7919) % 1000003 AS tracker_id,
    TIMESTAMP '2023-01-01' + INTERVAL (range % 31536000) SECOND AS observed_at,
    'case-' || (range % 9973) AS label,
    range * 0.5 AS volume,
    CAST(range % 100000 AS DECIMAL(18, 4)) / 7 AS amount,
    range % 3 = 0 AS active,
    range % 1000 AS bucket,
    'site-' || (range % 97) AS site,
    range % 86400 AS seconds
FROM range($rows);
SQL
}

echo "building a $rows-row tracker file with DuckDB 0.6.1 ..." >&2
mkdir -p "$work/src"
src=$work/src/tracker.duckdb
# the index first: 0.6.1 silently drops an index created on a table of
# millions of rows when the file is closed (docs/migration.md)
{ gen_sql t | sed 's/FROM range([0-9]*);/FROM range(0);/'
  echo "CREATE INDEX t_tracker ON t (tracker_id);"
  gen_sql t | sed 's/CREATE TABLE t AS SELECT/INSERT INTO t SELECT/'; } |
    "$duckmig" sql --engine 0.6.1 "$src" - >/dev/null
[ "$("$duckmig" sql --no-header "$src" "SELECT count(*) FROM duckdb_indexes()")" = 1 ] ||
    { echo "the source lost its index" >&2; exit 1; }
src_size=$(stat -c %s "$src")

# measure LABEL WATCHDIR CMD...: wall seconds, peak RSS (MiB) of the tree,
# peak size of WATCHDIR (MiB), CPU seconds (user + system, the tree's)
measure() {
    local label=$1 watch=$2
    shift 2
    local start end pid peak_rss=0 peak_disk=0 rss disk
    start=$(date +%s.%N)
    # `times` in the subshell: the CPU of every process it waited for,
    # and duckmig waits for its engine workers
    ( "$@" >/dev/null 2>"$work/err" && times >"$work/cpu" ) &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        rss=$(tree_rss "$pid"); rss=${rss:-0}
        [ "$rss" -gt "$peak_rss" ] && peak_rss=$rss
        disk=$(du -sb "$watch" 2>/dev/null | cut -f1); disk=${disk:-0}
        [ "${disk:-0}" -gt "$peak_disk" ] && peak_disk=$disk
        sleep 0.25
    done
    if ! wait "$pid"; then
        echo "$label failed:" >&2
        cat "$work/err" >&2
        return 1
    fi
    end=$(date +%s.%N)
    printf '%s %.2f %d %d %.1f\n' "$label" "$(echo "$end - $start" | bc)" \
        $((peak_rss / 1024)) $((peak_disk / 1048576)) "$(cpu_seconds)"
}

# the children's user + system seconds from `times` (its second line)
cpu_seconds() {
    sed -n 2p "$work/cpu" | awk '{
        s = 0
        for (i = 1; i <= 2; i++) { split($i, p, "m"); s += p[1] * 60 + p[2] }
        print s }'
}

# the RSS (KiB) of a process and all its descendants, from one pass over
# /proc (cheap enough to leave the measured work alone)
tree_rss() {
    awk -v root="$1" '
        FNR == 1 { split(FILENAME, f, "/"); pid = f[3] }
        /^PPid:/ { parent[pid] = $2 }
        /^VmRSS:/ { rss[pid] = $2 }
        END {
            want[root] = 1
            for (changed = 1; changed; ) {
                changed = 0
                for (p in parent)
                    if (want[parent[p]] && !want[p]) { want[p] = 1; changed = 1 }
            }
            for (p in want) total += rss[p]
            print total + 0
        }' /proc/[0-9]*/status 2>/dev/null
}

# median LINE...: the line whose seconds (field 2) are the median
median() {
    printf '%s\n' "$@" | sort -k2,2n | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }'
}

baseline() { # baseline TARGET FORMAT DIR
    local to=$1 format=$2 dir=$3
    rm -rf "$dir" && mkdir -p "$dir/export" "$dir/out"
    "$duckmig" sql --engine 0.6.1 --read-only "$src" \
        "EXPORT DATABASE '$dir/export' (FORMAT $format)" &&
        "$duckmig" sql --engine "$to" "$dir/out/tracker.duckdb" \
            "IMPORT DATABASE '$dir/export'"
}

# milliseconds since the epoch, in SQL that 0.8.1 and 1.5.6 both accept
now_ms="SELECT 'T', CAST(EXTRACT(epoch FROM date_trunc('second', CAST(now() AS TIMESTAMP))) * 1000 + EXTRACT(millisecond FROM CAST(now() AS TIMESTAMP)) % 1000 AS BIGINT)"

floor() { # floor TARGET DIR [gen]: time only the write and the index
    local to=$1 dir=$2 write=("CREATE TABLE t AS SELECT * FROM mem"
        "CREATE INDEX t_tracker ON t (tracker_id)" "CHECKPOINT")
    # gen: only the rows in memory, whose CPU the floor's does not count
    [ "${3:-}" = gen ] && write=("SELECT 1")
    rm -rf "$dir" && mkdir -p "$dir/out"
    "$duckmig" sql --no-header --engine "$to" "$dir/out/tracker.duckdb" \
        "$(gen_sql mem | sed 's/CREATE TABLE mem/CREATE TEMP TABLE mem/')" \
        "$now_ms" "${write[@]}" "$now_ms" >"$dir/times"
}

run_duckmig() { # run_duckmig TARGET DIR [before|after [MEMORY_LIMIT]]
    local to=$1 dir=$2
    rm -rf "$dir" && mkdir -p "$dir"
    DUCKMIG_INDEXES=${3:-after} DUCKMIG_MEMORY_LIMIT=${4:-} "$duckmig" migrate --to "$to" "$src" \
        "$dir/tracker.duckdb"
}

printf '\nsource: %s rows, %d MiB (DuckDB 0.6.1)\n' "$rows" $((src_size / 1048576))
for to in 0.8.1 1.5.6; do
    results=()
    results+=("$(measure baseline "$work/b" baseline "$to" CSV "$work/b")")
    results+=("$(measure parquet "$work/p" baseline "$to" PARQUET "$work/p")")
    g=$(measure floor-gen "$work/f" floor "$to" "$work/f" gen)
    # the floor and duckmig alternate, $repeat times each, and each row
    # is the median run: this machine's speed drifts by half within
    # minutes, and one run of each, minutes apart, made ratios of 1.26
    # and 1.8 for the same code
    floors=() migrations=()
    for ((i = 0; i < repeat; i++)); do
        f=$(measure floor-total "$work/f" floor "$to" "$work/f")
        ms=$(awk '$1 == "T" { t[n++] = $2 } END { print t[1] - t[0] }' "$work/f/times")
        floors+=("$(echo "$f" | awk -v s="$(echo "scale=2; $ms / 1000" | bc)" \
            -v g="$(echo "$g" | cut -d' ' -f5)" '{ $1 = "floor"; $2 = s; $5 = $5 - g; print }')")
        migrations+=("$(measure duckmig "$work/d" run_duckmig "$to" "$work/d")")
    done
    results+=("$(median "${floors[@]}")")
    results+=("$(median "${migrations[@]}")")
    printf '%s: floor runs %s; duckmig runs %s\n' "$to" \
        "$(printf '%s\n' "${floors[@]}" | cut -d' ' -f2 | tr '\n' ' ')" \
        "$(printf '%s\n' "${migrations[@]}" | cut -d' ' -f2 | tr '\n' ' ')" >&2
    results+=("$(measure duckmig-idx-first "$work/e" run_duckmig "$to" "$work/e" before)")
    # a writer memory_limit bounds 1.x (its index build spills); 0.8.1
    # builds an ART in memory and fails under a limit below its size
    # (1 GB is not enough for 10M keys), so it is measured on 1.5.6 only
    [ "$to" = 1.5.6 ] &&
        results+=("$(measure duckmig-mem-512MB "$work/m" run_duckmig "$to" "$work/m" after 512MB)")
    base=$(echo "${results[0]}" | cut -d' ' -f2)
    flo=$(echo "${results[2]}" | cut -d' ' -f2)
    printf '\n-> DuckDB %s\n' "$to"
    printf '%-18s %8s %9s %11s %8s %9s %9s\n' what seconds peak_rss extra_disk cpu_s x_base x_floor
    for r in "${results[@]}"; do
        set -- $r
        printf '%-18s %8s %8sM %10sM %8s %9s %9s\n' "$1" "$2" "$3" "$4" "$5" \
            "$(echo "scale=2; $2 / $base" | bc)" "$(echo "scale=2; $2 / $flo" | bc)"
    done
done
echo
echo "(floor: seconds of the write + index + checkpoint alone, and their CPU"
echo " seconds: the whole run's less a run that only makes the rows; its RSS"
echo " and disk are the whole run's. cpu_s: user + system seconds of every"
echo " process; on $(nproc) cores, cpu_s / $(nproc) is the least wall time the same work"
echo " could take)"
