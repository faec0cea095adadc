#!/usr/bin/env bash
# verify.t - `verify` cannot be fooled: a faithful migration verifies, and
# each way of changing it afterwards (with the target release, as anyone
# could) is found and named, exit 13; SQL whose meaning DuckDB changed
# between releases (integer division, NULL order, division by zero) keeps
# the meaning it had, checked by queries run in each release; empty
# tables of 1 to 20 columns verify with one verifier thread and several.
. "$(dirname "$0")/../lib.sh"
cd "$TMP"

q() { "$DUCKMIG_HELPER" sql --no-header "$@" 2>&1; }

# ---- the tamper suite ------------------------------------------------------
"$DUCKMIG_HELPER" sql --engine 0.7.1 src.duckdb \
    "CREATE SCHEMA s" \
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')" \
    "CREATE SEQUENCE seq START 10" \
    "SELECT nextval('seq')" \
    "CREATE TABLE p (k INTEGER PRIMARY KEY, name VARCHAR UNIQUE)" \
    "CREATE TABLE t (id INTEGER PRIMARY KEY, pk INTEGER REFERENCES p (k), qty INTEGER CHECK (qty > 0), note VARCHAR DEFAULT 'none', m mood, dbl AS (qty * 2))" \
    "INSERT INTO p VALUES (1, 'a'), (2, 'b')" \
    "INSERT INTO t (id, pk, qty, note, m) VALUES (1, 1, 3, 'x', 'sad'), (2, 2, 4, 'y', 'ok'), (3, 1, 5, NULL, NULL)" \
    "CREATE INDEX t_qty ON t (qty)" \
    "CREATE MACRO inc(x) AS x + 1" \
    "CREATE MACRO tm(n) AS TABLE SELECT id FROM t WHERE qty > n" \
    "CREATE VIEW v AS SELECT id, inc(qty) AS q FROM t" \
    "CREATE TABLE s.e (a INTEGER, b VARCHAR)" >/dev/null
ok $? "a 0.7.1 source with every kind of object"
mkdir -p good
run "$DUCKMIG" migrate --json --to 1.5.6 src.duckdb good/src.duckdb
is "$rc/$(jq -r .status <<<"$out")" "0/migrated" "the faithful migration to 1.5.6"
run "$DUCKMIG" verify src.duckdb good/src.duckdb
is "$rc" 0 "a faithful destination verifies"

# tamper NAME OBJECT SQL...: change a copy of the good destination with
# 1.5.6, then verify must fail (13) and name OBJECT in a failing item
tamper() {
    local what=$1 object=$2
    shift 2
    rm -rf tampered && mkdir tampered && cp good/src.duckdb tampered/src.duckdb
    "$DUCKMIG_HELPER" sql --engine 1.5.6 tampered/src.duckdb "$@" >/dev/null 2>&1
    if [ $? -ne 0 ]; then
        ok 1 "$what: the tamper itself ran"
        return
    fi
    run "$DUCKMIG" verify --json src.duckdb tampered/src.duckdb
    local named
    named=$(jq -r --arg o "$object" '[.report.items[] | select(.status != "ok") | select(.name | contains($o))] | length' <<<"$out")
    is "$rc/$([ "${named:-0}" -gt 0 ] && echo named)" "13/named" "$what: verify exits 13 and names $object"
}

tamper "a value changed" "main.t" "UPDATE t SET note = 'z' WHERE id = 1"
tamper "a value made NULL" "main.t" "UPDATE t SET note = NULL WHERE id = 2"
tamper "a row deleted" "main.t" "DELETE FROM t WHERE id = 3"
tamper "a row added" "main.p" "INSERT INTO p VALUES (3, 'c')"
tamper "an extra schema" "extra" "CREATE SCHEMA extra"
tamper "an extra table" "main.x" "CREATE TABLE x (i INTEGER)"
tamper "an extra view" "main.xv" "CREATE VIEW xv AS SELECT 1 AS one"
tamper "an extra macro" "main.xm" "CREATE MACRO xm(a) AS a"
tamper "an extra index" "main.xi" "CREATE INDEX xi ON p (name)"
tamper "an extra sequence" "main.xs" "CREATE SEQUENCE xs"
tamper "an extra type" "main.xt" "CREATE TYPE xt AS ENUM ('a')"
tamper "a view's body" "main.v" "CREATE OR REPLACE VIEW v AS SELECT id, inc(qty) * 2 AS q FROM t"
tamper "a macro's body" "main.inc" "CREATE OR REPLACE MACRO inc(x) AS x * 100"
tamper "a table macro's body" "main.tm" "CREATE OR REPLACE MACRO tm(n) AS TABLE SELECT id FROM t WHERE qty >= n"
rebuild() { # the columns of t, with CHECK, DEFAULT and generated parts given
    echo "CREATE TABLE t2 (id INTEGER PRIMARY KEY, pk INTEGER REFERENCES p (k), qty INTEGER $1, note VARCHAR DEFAULT $2, m mood, dbl AS ($3))"
}
swap="INSERT INTO t2 (id, pk, qty, note, m) SELECT id, pk, qty, note, m FROM t; DROP TABLE t; ALTER TABLE t2 RENAME TO t; CREATE INDEX t_qty ON t (qty)"
tamper "a CHECK dropped" "main.t" "$(rebuild "" "'none'" "qty * 2")" "$swap"
tamper "a DEFAULT changed" "main.t" "$(rebuild "CHECK (qty > 0)" "'other'" "qty * 2")" "$swap"
tamper "a generated expression changed" "main.t" "$(rebuild "CHECK (qty > 0)" "'none'" "qty * 3")" "$swap"
tamper "a CHECK changed" "main.t" "$(rebuild "CHECK (qty > 1)" "'none'" "qty * 2")" "$swap"
tamper "an index dropped" "main.t_qty" "DROP INDEX t_qty"
tamper "an index on other columns" "main.t_qty" "DROP INDEX t_qty" "CREATE INDEX t_qty ON t (pk)"
tamper "a sequence moved" "main.seq" "SELECT nextval('seq')"
tamper "an ENUM label renamed" "main.mood" "DROP TYPE mood" "CREATE TYPE mood AS ENUM ('sad', 'ok', 'glad')"
tamper "a table emptied" "s.e" "INSERT INTO s.e VALUES (1, 'x')"

# ---- meaning kept across releases -------------------------------------------
# views and macros whose SQL DuckDB 0.8 and 1.1 changed the meaning of:
# the migrated ones return what the source's return, checked by queries
# run in each release, not by verify
drift_sql=(
    "CREATE TABLE t (amount INTEGER, x INTEGER, f DOUBLE, z INTEGER)"
    "INSERT INTO t VALUES (150, 3, 1.5, 0), (250, NULL, -2.5, 0), (99, 1, 0.0, 1), (NULL, 2, 7.0, 2)"
    "CREATE VIEW v_div AS SELECT amount / 100 AS d, amount % 7 AS m, f / z AS fz, f % z AS fm FROM t"
    "CREATE VIEW v_ord AS SELECT x FROM t ORDER BY x LIMIT 2"
    "CREATE VIEW v_desc AS SELECT x FROM t ORDER BY x DESC LIMIT 2"
    "CREATE VIEW v_win AS SELECT x, row_number() OVER (ORDER BY x) AS rn FROM t"
    "CREATE VIEW v_agg AS SELECT CAST(list(x ORDER BY x) AS VARCHAR) AS l, CAST(list_sort(list(x)) AS VARCHAR) AS s FROM t"
    "CREATE MACRO half(a) AS a / 2"
    "CREATE VIEW v_macro AS SELECT half(amount) AS h FROM t"
)
drift_queries=(
    "SELECT d, m, fz, fm, typeof(d) FROM v_div ORDER BY d NULLS FIRST, m NULLS FIRST"
    "SELECT * FROM v_ord"
    "SELECT * FROM v_desc"
    "SELECT x, rn FROM v_win ORDER BY rn"
    "SELECT * FROM v_agg"
    "SELECT half(7), half(7.5), typeof(half(7))"
    "SELECT h FROM v_macro ORDER BY h NULLS FIRST"
)
for src in 0.6.1 0.7.1 0.8.1; do
    "$DUCKMIG_HELPER" sql --engine "$src" "drift-$src.duckdb" "${drift_sql[@]}" >/dev/null
    for to in 0.8.1 1.5.6; do
        [ "$src" = 0.8.1 ] && [ "$to" = 0.8.1 ] && continue
        mkdir -p "drift-$src-$to"
        run "$DUCKMIG" migrate --json --to "$to" "drift-$src.duckdb" "drift-$src-$to/d.duckdb"
        is "$rc/$(jq -r .report.changed <<<"$out")" "0/0" "$src -> $to: migrated, nothing computes differently"
        for sql in "${drift_queries[@]}"; do
            is "$(q "drift-$src-$to/d.duckdb" "$sql")" "$(q --read-only "drift-$src.duckdb" "$sql")" \
                "$src -> $to keeps the meaning: $sql"
        done
    done
done
# what the target cannot express is carried and named as changed, exit 14
"$DUCKMIG_HELPER" sql --engine 0.7.1 trunc.duckdb \
    "CREATE TABLE d (t TIMESTAMP)" "INSERT INTO d VALUES ('2020-05-17 13:14:15')" \
    "CREATE VIEW months AS SELECT date_trunc('month', t) AS m FROM d" >/dev/null
mkdir -p trunc
run "$DUCKMIG" migrate --json --to 1.5.6 trunc.duckdb trunc/trunc.duckdb
is "$rc/$(jq -r '[.report.items[] | select(.status == "changed") | .name] | join(",")' <<<"$out")" \
    "14/main.months" "date_trunc now returns TIMESTAMP (1.5): the view is carried, named as changed, exit 14"
[ -f trunc/trunc.duckdb ]; ok $? "... and written"
# a DEFAULT whose literal 1.x reads otherwise (a TIMETZ's offset, a
# TIMESTAMP_S rounded, not cut): its value is compared, named changed
"$DUCKMIG_HELPER" sql --engine 0.6.1 defaults.duckdb \
    "CREATE TABLE t (a TIMETZ DEFAULT CAST('00:23:06.5-08' AS TIMETZ), b TIMESTAMP_S DEFAULT CAST('2020-01-01 00:00:47.5' AS TIMESTAMP_S), c INTEGER DEFAULT 42)" >/dev/null
mkdir -p defaults
run "$DUCKMIG" migrate --json --to 1.5.6 defaults.duckdb defaults/defaults.duckdb
is "$rc/$(jq -r '[.report.items[] | select(.status == "changed") | .detail | capture("column .(?<c>[a-z]).") | .c] | join(",")' <<<"$out")" \
    "14/a,b" "DEFAULTs whose values 1.x computes otherwise are named changed; the one it computes alike is not"

# ---- empty tables -------------------------------------------------------------
# (under ASan one verifier thread count: each run there costs seconds)
empty_threads="1 4"
[ "${DUCKMIG_VARIANT:-release}" = asan ] && empty_threads=4
for src in 0.6.1 0.7.1 0.8.1; do
    sqls=()
    for n in $(seq 1 20); do
        cols=$(seq -f "c%g INTEGER" 1 "$n" | paste -sd, -)
        sqls+=("CREATE TABLE e$n ($cols)")
    done
    sqls+=("CREATE TABLE gone (a INTEGER, b VARCHAR, c DOUBLE)" "INSERT INTO gone VALUES (1, 'x', 1.5)" "DELETE FROM gone")
    "$DUCKMIG_HELPER" sql --engine "$src" "empty-$src.duckdb" "${sqls[@]}" >/dev/null
    for to in 0.8.1 1.5.6; do
        [ "$src" = 0.8.1 ] && [ "$to" = 0.8.1 ] && continue
        for threads in $empty_threads; do
            mkdir -p "empty-$src-$to-$threads"
            run env DUCKMIG_THREADS=$threads "$DUCKMIG" migrate --json --to "$to" "empty-$src.duckdb" "empty-$src-$to-$threads/e.duckdb"
            is "$rc/$(jq -r '[.status, .report.tables, .report.rows] | @tsv' <<<"$out")" "0/$(printf 'migrated\t21\t0')" \
                "$src -> $to, $threads verifier threads: 21 empty tables migrated and verified"
            run env DUCKMIG_THREADS=$threads "$DUCKMIG" verify "empty-$src.duckdb" "empty-$src-$to-$threads/e.duckdb"
            is "$rc" 0 "$src -> $to, $threads threads: verify agrees"
        done
    done
done
done_testing
