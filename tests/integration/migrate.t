#!/usr/bin/env bash
# migrate.t - the conformance corpus (tests/fixtures/conformance.sh) built
# by each old engine, migrated to 0.8.1 and to 1.5.6, checked by `verify`
# and by independent queries in the target engine.
. "$(dirname "$0")/../lib.sh"
cd "$TMP"

q() { "$DUCKMIG_HELPER" sql --no-header "$@" 2>&1; }

for src in 0.6.1 0.7.1 0.8.1; do
    mkdir -p "s$src"
    "$ROOT/tests/fixtures/conformance.sh" "$src" | "$DUCKMIG_HELPER" sql --engine "$src" "s$src/conf.duckdb" - >/dev/null
    ok $? "$src builds the conformance database"
    before=$(sha256sum "s$src/conf.duckdb" | cut -d' ' -f1)
    for to in 0.8.1 1.5.6; do
        odir=o-$src-$to
        mkdir -p "$odir"
        run "$DUCKMIG" migrate --force --json --to "$to" "s$src/conf.duckdb" "$odir/conf.duckdb"
        is "$rc" 0 "$src -> $to: exit 0"
        is "$(jq -r '[.status, .report.mismatches, .report.not_carried, .report.indexes.all_present] | @tsv' <<<"$out")" \
            "$(printf 'migrated\t0\t0\ttrue')" "$src -> $to: migrated, verified, every index present"
        [ -f "$odir/conf.duckdb" ] && [ -z "$(ls -A "$odir" | grep -v '^conf.duckdb$')" ]
        ok $? "$src -> $to: DST in place, no temporary left"

        dst=$odir/conf.duckdb
        run "$DUCKMIG" verify --json "s$src/conf.duckdb" "$dst"
        is "$rc/$(jq -r .status <<<"$out")" "0/match" "$src -> $to: verify agrees"

        # independent checks in the target engine
        run "$DUCKMIG" inspect --json "$dst"
        is "$(jq -r .engine <<<"$out")" "$to" "$src -> $to: the new file is opened by $to"
        cp "s$src/conf.duckdb" copy.duckdb
        is "$(q "$dst" "SELECT nextval('\"Odd Schema\".ids')")" "$(q copy.duckdb "SELECT nextval('\"Odd Schema\".ids')")" \
            "$src -> $to: nextval gives what the source would"
        rm -f copy.duckdb copy.duckdb.wal
        for sql in "SELECT count(*), sum(k1), sum(g2) FROM a_view" \
                   "SELECT n FROM \"Odd Schema\".\"odd view\"" \
                   "SELECT n FROM old_catalog" \
                   "SELECT times(3), add_one(1)" \
                   "SELECT count(*), sum(k) FROM small_big(7)" \
                   "SELECT count(*), count(DISTINCT \"naïve col\"), sum(\"Group\") FROM \"Odd Schema\".\"Select\"" \
                   "SELECT string_agg(doubled::VARCHAR, ',' ORDER BY id) FROM child" \
                   "SELECT count(*) FROM scalars WHERE isnan(d) OR d = '-inf'::DOUBLE OR s = ''" \
                   "SELECT length(s), octet_length(bl) FROM scalars WHERE id IN (1, 2) ORDER BY id" \
                   "SELECT iv::VARCHAR, u::VARCHAR, m::VARCHAR FROM scalars ORDER BY id" \
                   "SELECT t::VARCHAR, ts::VARCHAR FROM zones"; do
            is "$(q "$dst" "$sql")" "$(q --read-only "s$src/conf.duckdb" "$sql")" "$src -> $to: $sql"
        done
        is "$(q "$dst" "SELECT count(*) FROM duckdb_indexes() WHERE index_name IN ('big_k', 'Unique Code', 'expr_idx', 'multi_idx')")" 4 \
            "$src -> $to: the four indexes exist"
        like "$(q "$dst" "INSERT INTO child (pa, pb, qty, code) VALUES (1, 'x', 1, 'c1')")" "*onstraint*" \
            "$src -> $to: the unique index still rejects a duplicate"
        like "$(q "$dst" "INSERT INTO child (pa, pb, qty, code) VALUES (1, 'x', 0, 'c9')")" "*CHECK*" \
            "$src -> $to: the CHECK still rejects"
        like "$(q "$dst" "INSERT INTO child (pa, pb, qty, code) VALUES (9, 'q', 1, 'c8')")" "*foreign key*" \
            "$src -> $to: the foreign key still rejects"
        like "$(q "$dst" "INSERT INTO child (pa, pb, code) VALUES (1, 'x', 'c7')")" "*NOT NULL*" \
            "$src -> $to: NOT NULL still rejects"
        is "$(q "$dst" "INSERT INTO child (pa, pb, qty, code) VALUES (2, 'y', 2, 'c6') RETURNING note")" "none" \
            "$src -> $to: defaults still apply"
    done
    is "$(sha256sum "s$src/conf.duckdb" | cut -d' ' -f1)" "$before" "$src: the source was not modified"
done

# 0.6 and 0.7 cannot stream a result: large tables are read in rowid
# ranges; with tiny ranges every table crosses many of them
mkdir -p batched
run env DUCKMIG_BATCH_ROWS=1000 "$DUCKMIG" migrate --json --to 1.5.6 s0.6.1/conf.duckdb batched/conf.duckdb
is "$rc/$(jq -r '.report.mismatches' <<<"$out")" "0/0" "read in ranges of 1000 rows: migrated and verified"
for sql in "SELECT string_agg(k::VARCHAR, ',') FROM (SELECT k FROM big LIMIT 3 OFFSET 40000)" \
           "SELECT string_agg(\"Group\"::VARCHAR, ',') FROM (SELECT \"Group\" FROM \"Odd Schema\".\"Select\" LIMIT 3 OFFSET 2500)"; do
    is "$(q batched/conf.duckdb "$sql")" "$(q --read-only s0.6.1/conf.duckdb "$sql")" "rows keep their order: $sql"
done
run env DUCKMIG_BATCH_ROWS=1000 "$DUCKMIG" verify s0.6.1/conf.duckdb batched/conf.duckdb
is "$rc" 0 "verify reads in ranges too"
# a range is LIMIT/OFFSET of the rows still there, and a short one is the
# last: rows that fill their ranges exactly, a table whose last rowids were
# deleted (its last rowid is far past its row count), an emptied table
"$DUCKMIG_HELPER" sql --engine 0.7.1 edges.duckdb \
    "CREATE TABLE exact AS SELECT range AS i FROM range(3000)" \
    "CREATE TABLE tail AS SELECT range AS i FROM range(5000)" \
    "DELETE FROM tail WHERE i >= 2500 OR i % 3 = 0" \
    "CREATE TABLE emptied AS SELECT range AS i FROM range(100)" \
    "DELETE FROM emptied" >/dev/null
mkdir -p edges
for to in 0.8.1 1.5.6; do
    rm -f edges/edges.duckdb
    run env DUCKMIG_BATCH_ROWS=1000 "$DUCKMIG" migrate --json --to "$to" edges.duckdb edges/edges.duckdb
    is "$rc/$(jq -r '.report.mismatches' <<<"$out")" "0/0" "edge ranges -> $to: migrated and verified"
    for sql in "SELECT count(*), md5(string_agg(i::VARCHAR, ',')) FROM exact" \
               "SELECT count(*), md5(string_agg(i::VARCHAR, ',')) FROM tail" \
               "SELECT count(*) FROM emptied"; do
        is "$(q edges/edges.duckdb "$sql")" "$(q --read-only edges.duckdb "$sql")" "edge ranges -> $to, in order: $sql"
    done
done
# ranges sized by bytes: a budget of a few rows' worth
rm -rf batched && mkdir -p batched
run env DUCKMIG_BATCH_BYTES=20000 "$DUCKMIG" migrate --json --to 0.8.1 s0.6.1/conf.duckdb batched/conf.duckdb
is "$rc/$(jq -r '.report.mismatches' <<<"$out")" "0/0" "read in ranges of 20000 bytes: migrated and verified"
is "$(q batched/conf.duckdb "SELECT string_agg(k::VARCHAR, ',') FROM (SELECT k FROM big LIMIT 3 OFFSET 40000)")" \
   "$(q --read-only s0.6.1/conf.duckdb "SELECT string_agg(k::VARCHAR, ',') FROM (SELECT k FROM big LIMIT 3 OFFSET 40000)")" \
   "... in order"

# a column named rowid shadows the pseudo-column 0.6/0.7 tables are read
# in ranges by (gen seed 3108: max(rowid) was the column's decimal, exit 10)
mkdir -p rowidcol
"$DUCKMIG_HELPER" sql --engine 0.6.1 rowidcol/src.duckdb \
    "CREATE TABLE t (k BIGINT, \"rowid\" DECIMAL(38, 31))" \
    "INSERT INTO t SELECT range, range / 7 FROM range(5000)" >/dev/null
run env DUCKMIG_BATCH_ROWS=1000 "$DUCKMIG" migrate --json --to 0.8.1 rowidcol/src.duckdb rowidcol/dst.duckdb
is "$rc/$(jq -r '.report.mismatches' <<<"$out")" "0/0" "a column named rowid: migrated and verified"
is "$(q rowidcol/dst.duckdb "SELECT count(*), sum(k) FROM t")" "$(printf '5000\t12497500')" "... every row"

# lists of equal values: 0.8 stores such a list's child as one constant
# and streams it out wrong ([7, 7] read as [7, garbage]), so 0.8 reads a
# table with a LIST materialized, in ranges (gen seed 3108: 0.6.1 -> 0.8.1
# was refused, exit 13; 0.8.1 -> either target wrote garbage, exit 0)
lists_q="SELECT count(*), sum(list_sum(l)), sum(list_sum(n[1])),
    count(*) FILTER (WHERE len(nl) = 2 AND nl[1] IS NULL AND nl[2] IS NULL),
    count(*) FILTER (WHERE map_keys(m) = [-751] AND map_values(m)[1].s = 3 AND map_values(m)[1].v = ['y', 'y'])
    FROM t"
for src in 0.6.1 0.8.1; do
    mkdir -p "lists-$src"
    "$DUCKMIG_HELPER" sql --engine "$src" "lists-$src/src.duckdb" \
        "CREATE TYPE e AS ENUM ('x', 'y')" \
        "CREATE TABLE t (k BIGINT, l INTEGER[], n DOUBLE[][], nl INTEGER[], m MAP(BIGINT, STRUCT(s INTEGER, v e[])))" \
        "INSERT INTO t SELECT range, [7, 7], [[1.5, 1.5]], [NULL, NULL], map([-751], [struct_pack(s := 3, v := ['y', 'y']::e[])]) FROM range(5000)" >/dev/null
    for to in 0.8.1 1.5.6; do
        dst=lists-$src/$to.duckdb
        run env DUCKMIG_BATCH_ROWS=1000 "$DUCKMIG" migrate --force --json --to "$to" "lists-$src/src.duckdb" "$dst"
        is "$rc/$(jq -r '.report.mismatches' <<<"$out")" "0/0" "lists of equal values, $src -> $to: migrated and verified"
        is "$(q "$dst" "$lists_q")" "$(printf '5000\t70000\t15000.0\t5000\t5000')" "... every value"
        run "$DUCKMIG" verify "lists-$src/src.duckdb" "$dst"
        is "$rc" 0 "... verify agrees"
    done
done

# migrations at once (batch --jobs): each exports its macros (DuckDB
# write-locks every file an EXPORT writes, /dev/null too), in turn
for j in 1 2 3 4; do
    mkdir -p "together-$j"
    "$DUCKMIG" migrate --to 0.8.1 s0.6.1/conf.duckdb "together-$j/conf.duckdb" >/dev/null 2>"together-$j.err" &
done
fails=0
for j in 1 2 3 4; do wait -n || fails=$((fails + 1)); done
is "$fails" 0 "four migrations of a file with macros at once all succeed"

# the writer appends in lanes, a segment of two row groups each, committed
# in order (1.x: on DUCKMIG_THREADS lanes; 0.8.1: on one): 700,000 rows
# are 3 segments (under ASan, where every row costs ten times more,
# 300,000 rows are 2 segments, the least that shows the order, and one
# thread count)
lane_rows=700000 lane_threads="3 1"
[ "${DUCKMIG_VARIANT:-release}" = asan ] && lane_rows=300000 lane_threads=3
lane_groups=$(((lane_rows + 122879) / 122880))
"$DUCKMIG_HELPER" sql --engine 0.6.1 lanes.duckdb \
    "CREATE TABLE t AS SELECT range AS i, 'row ' || range AS s FROM range($lane_rows)" >/dev/null
for to in 0.8.1 1.5.6; do
    for threads in $lane_threads; do
        mkdir -p "lanes-$to-$threads"
        run env DUCKMIG_THREADS=$threads "$DUCKMIG" migrate --to "$to" lanes.duckdb "lanes-$to-$threads/lanes.duckdb"
        is "$rc" 0 "-> $to, DUCKMIG_THREADS=$threads: migrated and verified"
        is "$(q "lanes-$to-$threads/lanes.duckdb" "SELECT count(*), count(*) FILTER (WHERE rowid <> i) FROM t")" \
           "$(printf '%s\t0' $lane_rows)" "-> $to, DUCKMIG_THREADS=$threads: every row where the source had it"
        is "$(q "lanes-$to-$threads/lanes.duckdb" "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('t')")" \
           $lane_groups "-> $to, DUCKMIG_THREADS=$threads: full row groups ($lane_rows rows in $lane_groups)"
    done
    # read in ranges of about 1 MB, which start smaller and grow: each
    # is whole vectors, so the row groups are still full
    mkdir -p "ranges-$to"
    run env DUCKMIG_BATCH_BYTES=1000000 "$DUCKMIG" migrate --to "$to" lanes.duckdb "ranges-$to/lanes.duckdb"
    is "$rc" 0 "-> $to, ranges of 1 MB: migrated and verified"
    is "$(q "ranges-$to/lanes.duckdb" "SELECT count(*), count(*) FILTER (WHERE rowid <> i), count(DISTINCT i) FROM t")" \
       "$(printf '%s\t0\t%s' $lane_rows $lane_rows)" "-> $to, ranges of 1 MB: every row once, where the source had it"
    is "$(q "ranges-$to/lanes.duckdb" "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('t')")" \
       $lane_groups "-> $to, ranges of 1 MB: full row groups ($lane_rows rows in $lane_groups)"
done

# the writer takes DUCKMIG_MEMORY_LIMIT as DuckDB's memory_limit: a
# value DuckDB refuses is an error before anything is written
mkdir -p limited
run env DUCKMIG_MEMORY_LIMIT=lots "$DUCKMIG" migrate --to 1.5.6 s0.6.1/conf.duckdb limited/conf.duckdb
like "$rc $err" "[1-9]* *memory*" "a memory limit DuckDB refuses is a clear error"
[ ! -e limited/conf.duckdb ]; ok $? "... and nothing is written"
run env DUCKMIG_READER_MEMORY_LIMIT=plenty "$DUCKMIG" migrate --to 1.5.6 s0.6.1/conf.duckdb limited/conf.duckdb
like "$rc $err" "[1-9]* *memory*" "a reader memory limit DuckDB refuses is a clear error"
[ ! -e limited/conf.duckdb ]; ok $? "... and nothing is written"
run env DUCKMIG_MEMORY_LIMIT=256MB "$DUCKMIG" migrate --to 0.8.1 s0.6.1/conf.duckdb limited/conf.duckdb
is "$rc" 0 "with a 256MB writer the file migrates and verifies"

# 0.6 MAPs (a STRUCT of two LISTs there) arrive as the MAPs they were
for to in 0.8.1 1.5.6; do
    is "$(q "o-0.6.1-$to/conf.duckdb" "SELECT id, mp::VARCHAR, nested::VARCHAR FROM maps06 ORDER BY id LIMIT 5")" \
       "$(q --read-only s0.6.1/conf.duckdb "SELECT id, mp::VARCHAR, nested::VARCHAR FROM maps06 ORDER BY id LIMIT 5")" \
       "0.6.1 -> $to: MAP values"
    is "$(q "o-0.6.1-$to/conf.duckdb" "SELECT sum(cardinality(mp))::BIGINT, sum(element_at(mp, 'k' || (id - 10))[1])::BIGINT FROM maps06")" \
       "$(printf '3002\t4498500')" "0.6.1 -> $to: MAP lookups in the target"
done

# MAP, UNION, BIT, JSON exist from 0.7
is "$(q o-0.7.1-1.5.6/conf.duckdb "SELECT mp::VARCHAR, un::VARCHAR, bt::VARCHAR, js::VARCHAR FROM newer ORDER BY id")" \
   "$(q --read-only s0.7.1/conf.duckdb "SELECT mp::VARCHAR, un::VARCHAR, bt::VARCHAR, js::VARCHAR FROM newer ORDER BY id")" \
   "0.7.1 -> 1.5.6: MAP, UNION, BIT and JSON values"

# rows that live only in the WAL are migrated; SRC and WAL stay as they were
mkdir -p wal out-wal
"$DUCKMIG_HELPER" sql --engine 0.6.1 wal/w.duckdb "CREATE TABLE t(i INTEGER)" "INSERT INTO t VALUES (1)" >/dev/null
"$DUCKMIG_HELPER" sql --engine 0.6.1 wal/w.duckdb "PRAGMA disable_checkpoint_on_shutdown" "INSERT INTO t SELECT range FROM range(2, 101)" "DELETE FROM t WHERE i = 50" >/dev/null
[ -s wal/w.duckdb.wal ]; ok $? "the WAL holds the later rows"
sums=$(sha256sum wal/w.duckdb wal/w.duckdb.wal)
run "$DUCKMIG" migrate --to 1.5.6 wal/w.duckdb out-wal/w.duckdb
is "$rc" 0 "a file with a WAL migrates"
is "$(q out-wal/w.duckdb "SELECT count(*), sum(i) FROM t")" "$(printf '99\t5000')" "rows from the WAL are there, the deleted one is not"
is "$(sha256sum wal/w.duckdb wal/w.duckdb.wal)" "$sums" "SRC and its WAL are unchanged"
[ ! -e out-wal/w.duckdb.wal ]; ok $? "the new file has no WAL"

# a large insert that only the WAL holds: 0.6-0.8 opened read-only do not
# replay it (0 rows, or 0.6.1 cannot open the file), so the file and its
# WAL are replayed in a copy. big-<release>: 130,000 rows (more than a row
# group) in one transaction; refuse: 0.6.1's shape that fails to open
for rel in 0.6.1 0.7.1 0.8.1 refuse; do
    f=wal/big-$rel.duckdb engine=$rel rows=130000 sql="INSERT INTO t SELECT range, 'row ' || range FROM range(130000)"
    [ "$rel" = refuse ] && { engine=0.6.1 rows=300000 sql="INSERT INTO t SELECT range, NULL FROM range(300000)"; }
    "$DUCKMIG_HELPER" sql --engine "$engine" "$f" "CREATE TABLE t (i BIGINT, s VARCHAR)" >/dev/null
    "$DUCKMIG_HELPER" sql --engine "$engine" "$f" "PRAGMA disable_checkpoint_on_shutdown" "$sql" >/dev/null
    [ -s "$f.wal" ]; ok $? "$rel: the WAL holds $rows rows"
    got=$(q --engine "$engine" --read-only "$f" "SELECT count(*) FROM t")
    like "$got" "*Exception in WAL playback*" "$rel: DuckDB $engine opened read-only fails to replay the WAL ..."
    like "$(tail -1 <<<"$got")" "[0d]*" "... and answers 0 rows, or does not open the file"
    sums=$(sha256sum "$f" "$f.wal")
    for to in 0.8.1 1.5.6; do
        [ "$engine/$to" = 0.8.1/0.8.1 ] && continue # already at target
        rm -rf "out-wal/$rel-$to" && mkdir -p "out-wal/$rel-$to"
        run "$DUCKMIG" migrate --to "$to" "$f" "out-wal/$rel-$to/t.duckdb"
        is "$rc" 0 "$rel -> $to: migrated"
        is "$(q "out-wal/$rel-$to/t.duckdb" "SELECT count(*), sum(i) FROM t")" \
           "$(printf '%s\t%s' "$rows" $((rows * (rows - 1) / 2)))" "$rel -> $to: every row of the WAL is there"
        is "$(ls -A "out-wal/$rel-$to")" t.duckdb "$rel -> $to: no copy or staging folder is left"
    done
    rm -rf vtmp && mkdir vtmp
    run env TMPDIR="$TMP/vtmp" "$DUCKMIG" verify "$f" "out-wal/$rel-1.5.6/t.duckdb"
    is "$rc" 0 "$rel: verify reads the WAL's rows too"
    is "$(ls -A vtmp)" "" "$rel: verify leaves no copy in \$TMPDIR"
    is "$(sha256sum "$f" "$f.wal")" "$sums" "$rel: SRC and its WAL are unchanged"
done
# 1.x replays its WAL read-only: such a source is read where it is
f=wal/big-1.5.6.duckdb
"$DUCKMIG_HELPER" sql --engine 1.5.6 "$f" "CREATE TABLE t (i BIGINT, s VARCHAR)" >/dev/null
"$DUCKMIG_HELPER" sql --engine 1.5.6 "$f" "PRAGMA disable_checkpoint_on_shutdown" \
    "INSERT INTO t SELECT range, 'row ' || range FROM range(130000)" "DELETE FROM t WHERE i = 7" >/dev/null
[ -s "$f.wal" ]; ok $? "1.5.6: the WAL holds the rows"
sums=$(sha256sum "$f" "$f.wal")
mkdir -p out-wal/1.5.6
run "$DUCKMIG" migrate --to 1.5.6 --storage-version v1.2.0 "$f" out-wal/1.5.6/t.duckdb
is "$rc" 0 "1.5.6 -> 1.5.6 (storage v1.2.0): migrated"
is "$(q out-wal/1.5.6/t.duckdb "SELECT count(*), sum(i) FROM t")" "$(printf '129999\t%s' $((130000 * 129999 / 2 - 7)))" \
   "1.5.6: the WAL's rows are there, the deleted one is not"
is "$(sha256sum "$f" "$f.wal")" "$sums" "1.5.6: SRC and its WAL are unchanged"

# 1.x's fixed-size ARRAYs (alone, nested in a STRUCT in a LIST, of
# VARCHAR, in a LIST) and TIME_NS: read whole, migrated, fingerprinted on
# both sides, and the values checked with the engine itself; 3000 rows are
# more than one vector
mkdir -p arr out-arr
"$DUCKMIG_HELPER" sql --engine 1.5.6 arr/a.duckdb \
    "CREATE TABLE t(id INTEGER, a INTEGER[3], b TIME_NS, c STRUCT(x INTEGER[2])[], d VARCHAR[2], e INTEGER[3][])" \
    "INSERT INTO t VALUES (0, [1,NULL,3], TIME_NS '12:34:56.123456789', [{'x':[1,2]}, NULL], ['a', NULL], [[1,2,3], NULL]), (1, NULL, NULL, NULL, NULL, NULL)" \
    "INSERT INTO t SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE [i, NULL, -i] END, ('00:00:07.' || lpad(i::VARCHAR, 9, '0'))::TIME_NS, [{'x': [i, NULL]}], ['a string longer than twelve ' || i, NULL], [[i, i, i]] FROM range(2, 3000) r(i)" \
    "CREATE VIEW av AS SELECT id, a, b FROM t WHERE id < 100" >/dev/null
arrsql="SELECT count(*), count(a), count(b), md5(string_agg(concat_ws('|', id, a, b, c, d, e), ';' ORDER BY id)) FROM t"
want=$(q --engine 1.5.6 --read-only arr/a.duckdb "$arrsql")
run "$DUCKMIG" migrate --json --to 1.5.6 arr/a.duckdb out-arr/a.duckdb
is "$rc/$(jq -r .status <<<"$out")" "0/already_at_target" "ARRAY, TIME_NS: a 1.5.6 file holding them is read whole (already at target)"
run "$DUCKMIG" migrate --json --to 1.5.6 --storage-version v1.5.0 arr/a.duckdb out-arr/a.duckdb
is "$rc" 0 "ARRAY, TIME_NS: 1.5.6 -> 1.5.6 (storage v1.5.0): exit 0"
is "$(jq -r '[.status, .report.mismatches, .report.not_carried] | @tsv' <<<"$out")" "$(printf 'migrated\t0\t0')" \
   "ARRAY, TIME_NS: migrated and verified"
is "$(q --engine 1.5.6 out-arr/a.duckdb "$arrsql")" "$want" "ARRAY, TIME_NS: every value is there"
is "$(q --engine 1.5.6 out-arr/a.duckdb "SELECT a::VARCHAR, b::VARCHAR, c::VARCHAR, d::VARCHAR, e::VARCHAR FROM t WHERE id = 0")" \
   "$(printf '[1, NULL, 3]\t12:34:56.123456789\t[{'"'"'x'"'"': [1, 2]}, NULL]\t[a, NULL]\t[[1, 2, 3], NULL]')" \
   "ARRAY, TIME_NS: the first row as it was written"
is "$(q --engine 1.5.6 out-arr/a.duckdb "SELECT count(*) FROM t WHERE a IS NULL AND b IS NULL AND c IS NULL AND d IS NULL AND e IS NULL")" 1 \
   "ARRAY, TIME_NS: the NULL row is NULL"
is "$(q --engine 1.5.6 out-arr/a.duckdb "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index) FROM duckdb_columns() WHERE table_name = 't'")" \
   "id INTEGER, a INTEGER[3], b TIME_NS, c STRUCT(x INTEGER[2])[], d VARCHAR[2], e INTEGER[3][]" \
   "ARRAY, TIME_NS: the column types are the source's"
is "$(q --engine 1.5.6 out-arr/a.duckdb "SELECT count(*), sum(a[3]) FROM av")" "$(q --engine 1.5.6 --read-only arr/a.duckdb "SELECT count(*), sum(a[3]) FROM av")" \
   "ARRAY, TIME_NS: the view reads them"
run "$DUCKMIG" verify out-arr/a.duckdb arr/a.duckdb
is "$rc" 0 "ARRAY, TIME_NS: verify agrees"
cp out-arr/a.duckdb arr-changed.duckdb
q --engine 1.5.6 arr-changed.duckdb "UPDATE t SET a = [2999, 0, -2999] WHERE id = 2999" >/dev/null
run "$DUCKMIG" verify arr/a.duckdb arr-changed.duckdb
is "$rc" 13 "ARRAY: one changed element fails verify (exit 13)"
like "$out" "*main.t: column \"a\" differs*" "... and names the column"
cp out-arr/a.duckdb arr-changed.duckdb
q --engine 1.5.6 arr-changed.duckdb "UPDATE t SET b = TIME_NS '00:00:07.000002998' WHERE id = 2999" >/dev/null
run "$DUCKMIG" verify arr/a.duckdb arr-changed.duckdb
like "$rc $out" "13 *main.t: column \"b\" differs*" "TIME_NS: one nanosecond off fails verify (exit 13) and names the column"
# 0.8.1 has neither type, and duckmig does not downgrade a 1.x file
run "$DUCKMIG" migrate --to 0.8.1 arr/a.duckdb out-arr/old.duckdb
like "$rc $err" "7 *newer than what DuckDB 0.8.1 writes*does not downgrade*" "ARRAY, TIME_NS: a 1.5.6 file -> 0.8.1 is refused clearly (exit 7)"
[ ! -e out-arr/old.duckdb ]; ok $? "... and nothing is written"

# already at target, spellings, DUCKDB_MIGRATE_VERSION
mkdir -p same
run "$DUCKMIG" migrate --json s0.8.1/conf.duckdb same/conf.duckdb
is "$rc/$(jq -r .status <<<"$out")" "0/already_at_target" "0.8.1 -> 0.8.1 (default target): already at target"
[ ! -e same/conf.duckdb ]; ok $? "and nothing is written"
run env DUCKDB_MIGRATE_VERSION=duckdb0.8.1 "$DUCKMIG" migrate --json s0.6.1/conf.duckdb same/conf.duckdb
is "$(jq -r '[.target_release, .status] | @tsv' <<<"$out")" "$(printf '0.8.1\tmigrated')" "DUCKDB_MIGRATE_VERSION=duckdb0.8.1 is the target"
run "$DUCKMIG" migrate --to v0.8.1 s0.7.1/conf.duckdb same/conf.duckdb
is "$rc" 2 "an existing DST is not replaced without --force"
run "$DUCKMIG" migrate --force --json --to latest --storage-version v1.3.0 s0.6.1/conf.duckdb same/conf.duckdb
is "$(jq -r '[.target_release, .target_storage, .status] | @tsv' <<<"$out")" "$(printf '1.5.6\t66\tmigrated')" "latest with --storage-version v1.3.0 writes storage 66"
run "$DUCKMIG" inspect --json same/conf.duckdb
is "$(jq .storage_version <<<"$out")" 66 "inspect agrees: 66"
run "$DUCKMIG" migrate --force --json --to latest --storage-version v1.5.0 same/conf.duckdb same2.duckdb
is "$(jq -r '[.source_storage, .target_storage, .status, .report.mismatches] | @tsv' <<<"$out")" "$(printf '66\t68\tmigrated\t0')" "a 1.x file upgrades 66 -> 68 (COPY FROM DATABASE), verified"

# verify notices a difference
cp o-0.6.1-1.5.6/conf.duckdb changed.duckdb
q changed.duckdb "UPDATE big SET label = 'x' WHERE k = 4242" >/dev/null
run "$DUCKMIG" verify s0.6.1/conf.duckdb changed.duckdb
is "$rc" 13 "verify: one changed value fails (exit 13)"
like "$out" "*mismatch*data*main.big: column \"label\" differs*" "and names the table and column"
q changed.duckdb "DROP INDEX big_k" >/dev/null
run "$DUCKMIG" verify --json s0.6.1/conf.duckdb changed.duckdb
is "$(jq -r '[.status, .report.indexes.all_present] | @tsv' <<<"$out")" "$(printf 'different\tfalse')" "a dropped index is reported missing"
done_testing
