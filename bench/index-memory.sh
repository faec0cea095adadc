#!/usr/bin/env bash
# index-memory.sh - how a target release's index build grows with rows and
# key width: for each key type and row count, a table of that many rows
# (and one INTEGER beside the key) is written by the release, then one
# process builds the index (CREATE INDEX, one thread) and reports DuckDB's
# own memory_usage after it; the process's peak RSS is measured around it.
# Prints both, and the marginal bytes per row between the two largest
# counts (what sizing needs: the fixed part is the process, not the rows).
#
# 0.8.1 builds its ART in memory, counted against memory_limit and never
# spilled: a writer whose DUCKMIG_MEMORY_LIMIT is below rows x the
# memory_usage figure fails the index phase (exit 20, resource; see
# docs/migration.md, "Memory").
#
# usage: bench/index-memory.sh [RELEASE [ROWS...]]   (default 0.8.1 1000000 4000000 8000000)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
duckmig=${DUCKMIG:-$root/duckmig}
rel=${1:-0.8.1}
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1000000 4000000 8000000)
work=$(mktemp -d "${TMPDIR:-/tmp}/duckmig-index-memory.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

key_expr() { # key_expr TYPE: the column type and a value of it from range
    case $1 in
    BIGINT) echo "BIGINT|hash(range) // 2" ;;
    VARCHAR16) echo "VARCHAR|substr(md5(CAST(range AS VARCHAR)), 1, 16)" ;;
    VARCHAR36) echo "VARCHAR|md5(CAST(range AS VARCHAR)) || substr(md5(CAST(range AS VARCHAR)), 1, 4)" ;;
    esac
}
to_mb() { # DuckDB's "235.9MB" / "1.2GB" / "0 bytes" -> MB
    awk '{ v = $1 + 0; u = $1; sub(/^[0-9.]+/, "", u); if (u == "") u = $2;
           if (u ~ /^G/) v *= 1024; else if (u ~ /^K/) v /= 1024; else if (u ~ /^b/) v /= 1048576;
           printf "%.1f", v }' <<<"$1"
}

printf 'DuckDB %s: CREATE INDEX on a table of ROWS rows, one thread\n' "$rel"
printf '%-10s %10s %12s %14s\n' key rows peak_rss_mb duck_memory_mb
for type in BIGINT VARCHAR16 VARCHAR36; do
    IFS='|' read -r coltype expr <<<"$(key_expr "$type")"
    prev_rows= prev_rss= prev_mem=
    for n in "${counts[@]}"; do
        rm -f t.duckdb t.duckdb.wal
        "$duckmig" sql --engine "$rel" t.duckdb "CREATE TABLE t (k $coltype, v INTEGER)" \
            "INSERT INTO t SELECT $expr, range FROM range($n)" >/dev/null || exit 1
        out=$({ /usr/bin/time -f "%M" "$duckmig" sql --no-header --engine "$rel" t.duckdb \
            "SET threads = 1" "CREATE INDEX tk ON t (k)" \
            "SELECT memory_usage FROM pragma_database_size()"; } 2>&1) || { echo "$out" >&2; exit 1; }
        rss_kb=$(tail -1 <<<"$out")
        mem=$(to_mb "$(head -1 <<<"$out")")
        printf '%-10s %10s %12d %14s\n' "$type" "$n" $((rss_kb / 1024)) "$mem"
        if [ -n "$prev_rows" ]; then
            d_rss=$(echo "($rss_kb - $prev_rss) * 1024 / ($n - $prev_rows)" | bc -l)
            d_mem=$(echo "($mem - $prev_mem) * 1048576 / ($n - $prev_rows)" | bc -l)
        fi
        prev_rows=$n prev_rss=$rss_kb prev_mem=$mem
    done
    printf '%-10s %10s %12.0f %14.0f   (bytes per row, marginal)\n' "$type" "per row" "$d_rss" "$d_mem"
done
