#!/usr/bin/env bash
# untrusted.t - a source file is untrusted input: names and stored SQL
# crafted to run statements of their own run nothing, in migrate and in
# batch; and the schema classes that once came out wrong (a foreign key
# in a schema whose name needs quoting, a lone table-level key column, a
# 0.6 UNION, a LIST of a user ENUM, a schema named with a ", macros in
# such schemas, a long schema + name beside a macro) migrate faithfully
# to both targets, checked by queries run in each release.
. "$(dirname "$0")/../lib.sh"
cd "$TMP"

q() { "$DUCKMIG_HELPER" sql --no-header "$@" 2>&1; }
marks() { find "$TMP" -name 'mark*' -o -name 'pwned*' | grep -v '\.duckdb' | wc -l; }

# ---- the two routes -------------------------------------------------------
# a view's name hidden behind nested block comments (DuckDB nests /* */)
"$DUCKMIG_HELPER" sql --engine 0.7.1 view.duckdb "CREATE TABLE t (i INTEGER)" \
    "CREATE VIEW /* /* */ x AS SELECT 1 AS a; COPY (SELECT 42 AS pwn) TO '$TMP/mark-view.csv'; SELECT 1 -- */ v AS SELECT 2 AS b" >/dev/null
# text that reads like a macro statement, in a table's name, beside a macro
"$DUCKMIG_HELPER" sql --engine 0.7.1 macro.duckdb \
    "CREATE TABLE \"CREATE MACRO main.m(x) AS 1; COPY (SELECT 42) TO '$TMP/mark-macro.csv';
\" (i INTEGER)" "CREATE MACRO m(x) AS x + 1" >/dev/null
# ... and in an ENUM label, which EXPORT writes unescaped
"$DUCKMIG_HELPER" sql --engine 0.6.1 label.duckdb \
    "CREATE TYPE e AS ENUM ('a', '
CREATE MACRO main.m(x) AS 1; COPY (SELECT 42) TO ''$TMP/mark-label.csv'';
')" "CREATE TABLE t (v e)" "CREATE MACRO m(x) AS x + 1" >/dev/null
for to in 0.8.1 1.5.6; do
    mkdir -p "v-$to" "m-$to" "l-$to"
    run "$DUCKMIG" migrate --json --to "$to" view.duckdb "v-$to/view.duckdb"
    is "$rc/$(q "v-$to/view.duckdb" "SELECT * FROM v")" "0/2" "-> $to: the view hidden in comments is the view DuckDB read (v returns 2)"
    run "$DUCKMIG" migrate --json --to "$to" macro.duckdb "m-$to/macro.duckdb"
    is "$rc/$(q "m-$to/macro.duckdb" "SELECT m(5)")" "0/6" "-> $to: a table named like a macro statement runs nothing; m(5) is 6"
    run "$DUCKMIG" migrate --json --to "$to" label.duckdb "l-$to/label.duckdb"
    is "$rc/$(jq -r '[.report.items[] | select(.status == "not_carried") | .name] | join(",")' <<<"$out")" \
        "14/main.m" "-> $to: a macro whose statement an ENUM label also spells is refused, named, never guessed"
    is "$(marks)" 0 "-> $to: no injected statement ran (no mark file)"
done

# ---- a view that reads files: not carried, nothing read ------------------
echo 'user=admin password=hunter2' >"$TMP/secret.json"
"$DUCKMIG_HELPER" sql --engine 0.7.1 reads/src.duckdb "CREATE TABLE t (i INTEGER)" \
    "CREATE VIEW leak AS SELECT * FROM read_csv_auto('$TMP/secret.json')" >/dev/null 2>&1 ||
    { mkdir -p reads && "$DUCKMIG_HELPER" sql --engine 0.7.1 reads/src.duckdb "CREATE TABLE t (i INTEGER)" \
        "CREATE VIEW leak AS SELECT * FROM read_csv_auto('$TMP/secret.json')" >/dev/null; }
mkdir -p reads-out
run "$DUCKMIG" batch --jobs 1 --json reads reads-out
is "$(jq -r '.results[0].report.items[] | select(.name == "main.leak") | .status' <<<"$out" 2>/dev/null || echo "?")" "not_carried" \
    "batch: a view reading another file is not carried"
ok $(grep -rqa hunter2 reads-out && echo 1 || echo 0) "batch: nothing of that file is in the destination"

# ---- classes that came out wrong ------------------------------------------
classes=(
    'CREATE SCHEMA "Sales Data"'
    'CREATE TABLE "Sales Data"."Order" ("Id" INTEGER, "Email" VARCHAR, PRIMARY KEY ("Id"), UNIQUE ("Email"))'
    'CREATE TABLE "Sales Data"."Line" (n INTEGER, "OrderId" INTEGER, FOREIGN KEY ("OrderId") REFERENCES "Sales Data"."Order" ("Id"))'
    'INSERT INTO "Sales Data"."Order" VALUES (1, '"'a@x'"'), (2, '"'b@x'"')'
    'INSERT INTO "Sales Data"."Line" VALUES (10, 1), (11, 2)'
    'CREATE TABLE pk_a (a INTEGER, b INTEGER, PRIMARY KEY (a))'
    'CREATE TABLE pk_b (a INTEGER, b INTEGER, PRIMARY KEY (b))'
    'INSERT INTO pk_a VALUES (1, 1), (2, 1)'
    'INSERT INTO pk_b VALUES (1, 1), (1, 2)'
    "CREATE TYPE mood AS ENUM ('sad', 'ok')"
    'CREATE TABLE moods (m mood[], s STRUCT(u UNION(n INTEGER, t VARCHAR), m mood))'
    "INSERT INTO moods VALUES (['sad', NULL, 'ok'], {'u': 5, 'm': 'ok'}), (NULL, {'u': 'x', 'm': NULL})"
    'CREATE SCHEMA "we""ird"'
    'CREATE TABLE "we""ird"."t t" (x INTEGER)'
    'INSERT INTO "we""ird"."t t" VALUES (7)'
    'CREATE MACRO "we""ird"."add one"("the x") AS "the x" + 1'
    'CREATE MACRO times2(x) AS x * 2'
)
checks=(
    'SELECT count(*) FROM "Sales Data"."Line" JOIN "Sales Data"."Order" ON "OrderId" = "Id"'
    'SELECT string_agg(constraint_type || CAST(constraint_column_names AS VARCHAR), '"';'"' ORDER BY constraint_type) FROM duckdb_constraints() WHERE table_name IN ('"'pk_a'"', '"'pk_b'"') AND constraint_type <> '"'NOT NULL'"''
    'SELECT CAST(m AS VARCHAR), CAST(s AS VARCHAR) FROM moods ORDER BY 1 NULLS FIRST'
    'SELECT "we""ird"."add one"(1), times2(4)'
    'SELECT x FROM "we""ird"."t t"'
)
for src in 0.6.1 0.7.1 0.8.1; do
    rm -f "classes-$src.duckdb"
    for s in "${classes[@]}"; do
        "$DUCKMIG_HELPER" sql --engine "$src" "classes-$src.duckdb" "$s" >/dev/null 2>&1
    done
    for to in 0.8.1 1.5.6; do
        [ "$src" = 0.8.1 ] && [ "$to" = 0.8.1 ] && continue
        mkdir -p "c-$src-$to"
        run "$DUCKMIG" migrate --json --to "$to" "classes-$src.duckdb" "c-$src-$to/c.duckdb"
        is "$rc/$(jq -r '[.report.mismatches, .report.not_carried] | @tsv' <<<"$out")" "0/$(printf '0\t0')" \
            "classes $src -> $to: migrated whole and verified"
        for sql in "${checks[@]}"; do
            is "$(q "c-$src-$to/c.duckdb" "$sql")" "$(q --read-only "classes-$src.duckdb" "$sql")" "classes $src -> $to: $sql"
        done
        like "$(q "c-$src-$to/c.duckdb" 'INSERT INTO "Sales Data"."Line" VALUES (12, 9)')" "*oreign key*" \
            "classes $src -> $to: the foreign key in \"Sales Data\" still holds"
    done
done
# a table whose schema + name would make too long a file name for EXPORT
# (which duckmig runs on a copy from which the tables are dropped)
long_s=$(printf 's%.0s' $(seq 1 130))
long_t=$(printf 't%.0s' $(seq 1 130))
"$DUCKMIG_HELPER" sql --engine 0.7.1 long.duckdb "CREATE SCHEMA \"$long_s\"" \
    "CREATE TABLE \"$long_s\".\"$long_t\" (i INTEGER)" "INSERT INTO \"$long_s\".\"$long_t\" VALUES (1)" \
    'CREATE MACRO times2(x, y := 2) AS x * y' >/dev/null
mkdir -p long-out
run "$DUCKMIG" migrate --json --to 1.5.6 long.duckdb long-out/long.duckdb
is "$rc/$(jq -r .status <<<"$out")" "0/migrated" "a name too long for EXPORT's file names: migrated whole"
is "$(q long-out/long.duckdb "SELECT i, times2(4) FROM \"$long_s\".\"$long_t\"")" "$(printf '1\t8')" "... its rows and its macro"
# a type alias: 0.6-0.8 EXPORT types that are ENUMs only (an INTERNAL
# error otherwise); EXPORT runs on a copy without it
"$DUCKMIG_HELPER" sql --engine 0.7.1 alias.duckdb "CREATE TYPE word AS VARCHAR" \
    "CREATE TABLE w (v word)" "INSERT INTO w VALUES ('x')" "CREATE MACRO twice(s) AS s || s" >/dev/null
mkdir -p alias-out
run "$DUCKMIG" migrate --json --to 0.8.1 alias.duckdb alias-out/alias.duckdb
is "$rc/$(jq -r .status <<<"$out")" "0/migrated" "a type alias and a macro: migrated whole"
is "$(q alias-out/alias.duckdb "SELECT twice(v) FROM w")" "xx" "... the macro works on the alias's column"
done_testing
