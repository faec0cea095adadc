#!/usr/bin/env bash
# batch.t - `duckmig batch`: a sample fleet tree (0.6.1 *.duckdb, 0.7.1
# *.new.duckdb) migrated with parallel jobs, mirrored and verified; a
# second run resumes (skips what is done); failures are reported per file
# and in the exit status; S3 as the source.
. "$(dirname "$0")/../lib.sh"
release_engines
cd "$TMP"

DUCKMIG=$DUCKMIG_HELPER "$ROOT/scripts/make-sample-fleet" --sites 2 --trackers 1 fleet >/dev/null 2>&1
ok $? "a sample fleet built with DuckDB 0.6.1 and 0.7.1"
n=$(find fleet -name '*.duckdb' | wc -l)
echo "this is not a database, but its name says it is" >fleet/perform-dev-atomicduck/51/broken.duckdb
echo "notes" >fleet/perform-dev-atomicduck/51/notes.txt

run "$DUCKMIG" batch --jobs 2 --json fleet out
is "$rc" 1 "one broken file: exit 1"
is "$(jq -r '.counts.migrated, .counts.failed, .files' <<<"$out" | tr '\n' ' ')" "$n 1 $((n + 1)) " \
   "$n files migrated, the broken one failed, notes.txt ignored"
like "$(jq -r '.results[] | select(.status == "failed") | .error' <<<"$out")" "*not a DuckDB file*" \
   "the failure says why"
bad=0
while read -r f; do
    rel=${f#fleet/}
    [ "$("$DUCKMIG" inspect --json "out/$rel" | jq -r .storage_version)" = 51 ] &&
        "$DUCKMIG" verify "$f" "out/$rel" >/dev/null || { bad=1; diag "$rel"; }
done < <(find fleet -name '*.duckdb' ! -name broken.duckdb | sort)
is "$bad" 0 "every file mirrored under DST at storage 51 (0.8.1), verified"
[ ! -e out/perform-dev-atomicduck/51/broken.duckdb ]; ok $? "nothing written for the broken file"
is "$(jq -r '[.results[] | select(.status == "migrated") | .report.indexes // empty] | length' <<<"$out")" \
   "$(jq -r '[.results[] | select(.status == "migrated")] | length' <<<"$out")" "each result carries its verification"

rm fleet/perform-dev-atomicduck/51/broken.duckdb
touch -d '2001-01-01' out/perform-dev-atomicduck/51/*/*.duckdb
sums=$(find out -type f | sort | xargs sha256sum)
run "$DUCKMIG" batch --jobs 2 --json fleet out
is "$rc/$(jq -r .counts.already_done <<<"$out")" "0/$n" "a second run skips every file already migrated and verified"
is "$(find out -type f | sort | xargs sha256sum)" "$sums" "... and rewrites nothing"

# a file removed from DST is redone; 1.5.6 as the target
rm out/perform-dev-atomicduck/52/*/VolumeCases-*.new.duckdb
run "$DUCKMIG" batch --jobs 2 fleet out
is "$rc" 0 "an interrupted run resumes"
like "$out" "*: 1 migrated 3 already_done*" "... redoing only the missing file"
run "$DUCKMIG" batch --to latest --jobs 1 --json fleet out-latest
is "$rc/$(jq -r .counts.migrated <<<"$out")" "0/$n" "--to latest: every file migrated to 1.5.6"
f=$(find out-latest -name '*.new.duckdb' | head -1)
is "$("$DUCKMIG" inspect --json "$f" | jq -r .storage_version)" 64 "... at storage 64"

# on a terminal, one progress line with counts, bytes and an ETA
rm -rf out-tty
run script -qec "\"$DUCKMIG\" batch --jobs 2 fleet out-tty" /dev/null
like "$out" "*batch: $n/$n files, 0 failed, *MiB, ETA*" "a progress line with counts, bytes and ETA on a terminal"

# a WAL beside a source holds rows the file does not: the job fetches it
# with the file, and a file already at the target goes up replayed, whole
mkdir -p walfleet/a walfleet/b
for d in a:0.6.1 b:0.8.1; do
    "$DUCKMIG_HELPER" sql --engine "${d#*:}" "walfleet/${d%%:*}/t.duckdb" "CREATE TABLE t (i BIGINT)" >/dev/null
    "$DUCKMIG_HELPER" sql --engine "${d#*:}" "walfleet/${d%%:*}/t.duckdb" "PRAGMA disable_checkpoint_on_shutdown" \
        "INSERT INTO t SELECT range FROM range(130000)" >/dev/null
done
[ -s walfleet/a/t.duckdb.wal ] && [ -s walfleet/b/t.duckdb.wal ]; ok $? "two sources whose rows are in their WAL"
wal_rows() { # DIR: the row counts of DIR/a and DIR/b, and any WAL left there
    echo "$("$DUCKMIG_HELPER" sql --no-header "$1/a/t.duckdb" "SELECT count(*) FROM t")" \
         "$("$DUCKMIG_HELPER" sql --no-header "$1/b/t.duckdb" "SELECT count(*) FROM t")" \
         "$(find "$1" -name '*.wal' | wc -l)"
}
run "$DUCKMIG" batch --json walfleet walout
is "$rc/$(jq -r '[.counts.migrated, .counts.already_at_target] | @tsv' <<<"$out")" "$(printf '0/1\t1')" \
   "with WALs: one migrated, one already at the target"
is "$(wal_rows walout)" "130000 130000 0" "... every row of each WAL is in DST, which has no WAL"

# S3 as the source
S3_PORT=$(free_port)
start_s3 "$TMP/s3" "$S3_PORT" fleet-bucket || exit 1
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=http://127.0.0.1:$S3_PORT
while read -r f; do
    "$DUCKMIG" cp "$f" "s3://fleet-bucket/${f#fleet/}" >/dev/null
done < <(find fleet -name '*.duckdb')
run "$DUCKMIG" batch --jobs 2 --json s3://fleet-bucket/perform-dev-atomicduck/ from-s3
is "$rc/$(jq -r .counts.migrated <<<"$out")" "0/$n" "from s3://bucket/prefix into a local tree"
[ -f "from-s3/51/$(ls fleet/perform-dev-atomicduck/51 | head -1)/$(ls "fleet/perform-dev-atomicduck/51/$(ls fleet/perform-dev-atomicduck/51 | head -1)" | head -1)" ]
ok $? "... keys below the prefix mirrored"
run "$DUCKMIG" batch --jobs 2 fleet s3://fleet-bucket/migrated/
is "$rc" 0 "from a local tree into s3://bucket/prefix"
run "$DUCKMIG" ls s3://fleet-bucket/migrated/
is "$(wc -l <<<"$out")" "$n" "... every file uploaded"

for f in a/t.duckdb a/t.duckdb.wal b/t.duckdb b/t.duckdb.wal; do
    "$DUCKMIG" cp "walfleet/$f" "s3://fleet-bucket/walfleet/$f" >/dev/null
done
run "$DUCKMIG" batch --json s3://fleet-bucket/walfleet/ walout-s3
is "$rc/$(jq -r .files <<<"$out")" "0/2" "from S3, with WALs: two files (a WAL is not a file to migrate)"
is "$(wal_rows walout-s3)" "130000 130000 0" "... every row of each WAL is in DST, which has no WAL"

# an incomplete file (a view over a CSV file that is gone) is not
# shipped as done, unless DUCKMIG_ACCEPT_INCOMPLETE accepts its class
mkdir -p incfleet/a
printf 'a,b\n1,2\n' >gone.csv
"$DUCKMIG_HELPER" sql --engine 0.7.1 incfleet/a/t.duckdb "CREATE TABLE t (i INTEGER)" \
    "INSERT INTO t VALUES (1)" "CREATE VIEW v AS SELECT * FROM read_csv_auto('$TMP/gone.csv')" >/dev/null
rm gone.csv
run "$DUCKMIG" batch --json incfleet incout
is "$rc/$(jq -r '.counts.failed, .counts.incomplete' <<<"$out" | tr '\n' ' ')" "1/1 0 " \
   "an incomplete file fails the batch by default"
like "$(jq -r '.results[0].error' <<<"$out")" "*incomplete, not shipped*view main.v not_carried*outside the database*" \
   "... naming what was not carried"
[ ! -e incout/a/t.duckdb ]; ok $? "... and nothing is written for it"
DUCKMIG_ACCEPT_INCOMPLETE=index,changed run "$DUCKMIG" batch --json incfleet incout
is "$rc/$(jq -r .counts.failed <<<"$out")" "1/1" "classes that do not cover it change nothing"
DUCKMIG_ACCEPT_INCOMPLETE=external run "$DUCKMIG" batch --json incfleet incout
is "$rc/$(jq -r .counts.incomplete <<<"$out")" "0/1" "DUCKMIG_ACCEPT_INCOMPLETE=external ships it, as incomplete"
is "$("$DUCKMIG_HELPER" sql --no-header incout/a/t.duckdb "SELECT count(*) FROM t")" 1 "... with its rows"
DUCKMIG_ACCEPT_INCOMPLETE=bogus run "$DUCKMIG" batch --json incfleet incout2
is "$rc" 2 "an unknown class stops batch at its start (exit 2)"
like "$err" "*unknown class 'bogus'*" "... naming it"
[ -z "$(find incout2 -type f 2>/dev/null)" ]; ok $? "... before any file is written"

# a SRC folder whose name is not UTF-8: each job is told it as its
# EFS root in its stdin JSON (as bytes), and finds its file
odd=$'odd\xff'
mkdir -p "$odd/t" && duckdb 0.6.1 "$odd/t/a.duckdb" "CREATE TABLE t AS SELECT 1 AS i" >/dev/null
run "$DUCKMIG" batch --to 0.8.1 "$odd" odd-out
is "$rc/$(ls odd-out/t 2>/dev/null)" "0/a.duckdb" "a SRC folder whose name is not UTF-8: its file is migrated"

run "$DUCKMIG" batch fleet
is "$rc" 2 "usage errors: exit 2"
run "$DUCKMIG" batch no-such-dir out2
is "$rc" 17 "a missing SRC: exit 17"

done_testing
