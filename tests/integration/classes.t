#!/usr/bin/env bash
# classes.t - named cases of the classes an outside corpus found (issue
# 19): tables ALTERed and left empty, type aliases, macros that need
# tables or other macros, a scalar and a table macro of one name, very
# wide tables, 0.6.1 UNIONs, an ENUM named by a keyword, and objects a
# target refuses. Each file is built by an old release, migrated to 0.8.1
# and to 1.5.6, and compared by the independent tests/gen/check.py (which
# shares no code with `duckmig verify`); the exit status is checked too.
# tests/gen/gendb.py generates the same shapes at random (gen.t).
. "$(dirname "$0")/../lib.sh"
cd "$TMP"

# case_ NAME RELEASE WANT-0.8.1 WANT-1.5.6 SQL...: one TAP line per target
# (WANT "-": that target is not tried)
case_() {
    local name=$1 rel=$2 want08=$3 want15=$4
    shift 4
    mkdir -p "$name"
    if ! "$DUCKMIG_HELPER" sql --engine "$rel" "$name/src.duckdb" "$@" >/dev/null 2>"$name/build.err"; then
        ok 1 "$name: built by DuckDB $rel"
        diag "$(tail -2 "$name/build.err")"
        return
    fi
    local target want
    for target in 0.8.1 1.5.6; do
        want=$want08
        [ "$target" = 1.5.6 ] && want=$want15
        [ "$want" = - ] && continue
        mkdir -p "$name/to-$target"
        "$DUCKMIG" migrate --to "$target" --json "$name/src.duckdb" "$name/to-$target/d.duckdb" \
            >"$name/to-$target/report.json" 2>"$name/to-$target/stderr"
        local rc=$?
        if [ "$rc" -ne "$want" ]; then
            is "$rc" "$want" "$name: $rel -> $target exit status"
            diag "$(tail -3 "$name/to-$target/stderr")"
            continue
        fi
        python3 "$ROOT/tests/gen/check.py" "$name/src.duckdb" "$name/to-$target/d.duckdb" \
            "$name/to-$target/report.json" >"$name/to-$target/check" 2>&1
        ok $? "$name: $rel -> $target exit $want, and check.py finds DST equal"
        grep -q . "$name/to-$target/check" && sed 's/^/#   /' "$name/to-$target/check" | head -8
    done
}

# 1. created, ALTERed every way, and left empty (or emptied); CHECK and
#    generated columns; an index on an expression
case_ empty-altered 0.7.1 0 0 \
    "CREATE TABLE t (a INTEGER, b VARCHAR, c INTEGER)" \
    "ALTER TABLE t ADD COLUMN d DOUBLE" "ALTER TABLE t DROP COLUMN c" \
    "ALTER TABLE t RENAME COLUMN b TO bb" "ALTER TABLE t ALTER COLUMN a SET NOT NULL" \
    "ALTER TABLE t ALTER COLUMN a DROP NOT NULL" "ALTER TABLE t ALTER COLUMN d TYPE VARCHAR" \
    "CREATE TABLE g (i INTEGER CHECK (i > 0), j INTEGER GENERATED ALWAYS AS (i * 2) VIRTUAL)" \
    "CREATE TABLE f (i INTEGER, s VARCHAR)" "INSERT INTO f VALUES (1, 'x'), (2, 'y')" \
    "DELETE FROM f" "CREATE INDEX fx ON f ((i + 1))"

# 2. type aliases of nested and plain types, used by columns
case_ aliases 0.7.1 0 0 \
    "CREATE TYPE st AS STRUCT(a INTEGER, b VARCHAR)" "CREATE TYPE mp AS MAP(VARCHAR, INTEGER)" \
    "CREATE TYPE vc AS VARCHAR" "CREATE TABLE t (x st, y mp, z vc)" \
    "INSERT INTO t VALUES ({'a': 1, 'b': 'x'}, map(['k'], [1]), 'hello'), (NULL, NULL, NULL)"
case_ aliases-0.6 0.6.1 0 0 \
    "CREATE TYPE st AS STRUCT(a INTEGER, b VARCHAR)" "CREATE TYPE vc AS VARCHAR" \
    "CREATE TABLE t (x st, z vc)" "INSERT INTO t VALUES ({'a': 1, 'b': 'x'}, 'hello'), (NULL, NULL)"

# 3. macros that need a table or another macro, a view over both; a
#    scalar and a table macro of one name
case_ macro-deps 0.7.1 0 0 \
    "CREATE TABLE t (i INTEGER)" "INSERT INTO t VALUES (1), (2)" \
    "CREATE MACRO tm() AS TABLE SELECT * FROM t" "CREATE MACRO a(x) AS x + 1" \
    "CREATE MACRO b(x) AS a(x) * 2" "CREATE VIEW v AS SELECT b(i) AS j FROM tm()"
case_ macro-same-name 0.7.1 0 0 \
    "CREATE MACRO m(x) AS x + 1" "CREATE MACRO m(x) AS TABLE SELECT x AS y"

# 4. wider than the row protocol's old 4096-column limit (one target:
#    slow to build and to check; the sanitizers' run leaves it out)
if [ "${DUCKMIG_VARIANT:-release}" != asan ]; then
    cols=$(for i in $(seq 0 4149); do printf 'c%d INTEGER, ' "$i"; done)
    vals=$(seq -s, 0 4149)
    case_ wide-4150 0.7.1 - 0 "CREATE TABLE t (${cols%, })" "INSERT INTO t VALUES ($vals), ($vals)"
fi

# 5. a 0.6.1 UNION column (0.6.1 renders the type without member names)
case_ union-0.6 0.6.1 0 0 \
    "CREATE TABLE t (u UNION(i INTEGER, s VARCHAR), k INTEGER)" \
    "INSERT INTO t VALUES (1, 1), ('two', 2), (NULL, 3)"

# 6. an ENUM type whose name is a keyword
case_ enum-keyword 0.7.1 0 0 \
    "CREATE TYPE years AS ENUM ('a', 'b')" "CREATE TABLE t (y years, n INTEGER)" \
    "INSERT INTO t VALUES ('a', 1), ('b', 2), (NULL, 3)"

# 7. what a target refuses is named (exit 14) and the rest carried: a
#    macro in information_schema (0.7.1 allowed it; 0.8.1 takes it, 1.5.6
#    does not)
case_ refused-info-schema 0.7.1 0 14 \
    "CREATE MACRO information_schema.im(x) AS x + 1" "CREATE TABLE t (i INTEGER)" \
    "INSERT INTO t VALUES (7)"

done_testing
