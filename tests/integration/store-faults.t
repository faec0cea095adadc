#!/usr/bin/env bash
# store-faults.t - DUCKMIG_STORE_FAULT (src/store/store.h): a store call
# made to fail on purpose. A failed put leaves nothing at the destination
# (and an older copy there untouched) and no temporary folder, and exits
# with the injected code; a batch fails that one file and carries the
# others; a value that does not parse is refused; LOG_LEVEL=debug traces
# every store call.
. "$(dirname "$0")/../lib.sh"
cd "$TMP"

mkdir -p src/51/7 dst tmp
export MIGRATE_SRC=$TMP/src/ MIGRATE_DST=$TMP/dst/ TMPDIR=$TMP/tmp
head -c 100000 /dev/urandom >src/51/7/Cases.duckdb

# cp efs: to efs: crosses a temporary folder: the get works, the put fails
run env DUCKMIG_STORE_FAULT=put:Cases:io "$DUCKMIG" cp efs:51/7/Cases.duckdb efs:51/7/Cases.duckdb
is "$rc" 3 "a put failed with io: cp exits 3"
like "$err" "*put '51/7/Cases.duckdb': fault injected by DUCKMIG_STORE_FAULT*" "... naming the op, the key and the fault"
is "$(find dst -type f | wc -l)" 0 "... and leaves nothing at the destination"
is "$(ls -A tmp)" "" "... nor its temporary folder"

head -c 10 /dev/urandom >old
mkdir -p dst/51/7 && cp old dst/51/7/Cases.duckdb
run env DUCKMIG_STORE_FAULT=put:Cases:19 "$DUCKMIG" cp efs:51/7/Cases.duckdb efs:51/7/Cases.duckdb
is "$rc" 19 "the code may be a number: exit 19"
cmp -s old dst/51/7/Cases.duckdb; ok $? "... and the copy already there keeps its bytes"

run env DUCKMIG_STORE_FAULT=put:Other:io "$DUCKMIG" cp efs:51/7/Cases.duckdb efs:51/7/Cases.duckdb
is "$rc" 0 "a fault on another key changes nothing"
cmp -s src/51/7/Cases.duckdb dst/51/7/Cases.duckdb; ok $? "... the file is copied"

run env DUCKMIG_STORE_FAULT=get::not_found "$DUCKMIG" cp efs:51/7/Cases.duckdb got
is "$rc" 17 "an empty substring takes any key; a get failed with not_found exits 17"
[ ! -e got ]; ok $? "... and writes nothing"
run env 'DUCKMIG_STORE_FAULT=*:51/:network' "$DUCKMIG" ls efs:51/
is "$rc" 15 "'*' takes any op: a listing failed with network exits 15"

for bad in put put:x upload:x:3 put:x:0 put:x:99 put:x:bogus; do
    run env DUCKMIG_STORE_FAULT=$bad "$DUCKMIG" ls efs:51/
    like "$rc:$err" "2:*DUCKMIG_STORE_FAULT=$bad: not OP:KEY-SUBSTRING:CODE*" "'$bad' is refused (exit 2)"
done

# one line per store call with LOG_LEVEL=debug: op, scheme, key, store,
# result and time
run env LOG_LEVEL=debug DUCKMIG_STORE_FAULT=put:Cases:io "$DUCKMIG" cp efs:51/7/Cases.duckdb efs:51/7/Cases.duckdb
like "$err" "*store: get efs '51/7/Cases.duckdb' in $TMP/src/: ok, * ms*" "a get is traced"
like "$err" "*store: put efs '51/7/Cases.duckdb' in $TMP/dst/: io, * ms*" "... and an injected failure too"
run "$DUCKMIG" cp efs:51/7/Cases.duckdb efs:51/7/Cases.duckdb
[[ "$err" != *"store: "* ]]; ok $? "no trace at the default level"

# a batch: the job whose upload fails is reported, the other is carried
mkdir -p fleet/a
"$DUCKMIG_HELPER" sql --engine 0.6.1 fleet/a/one.duckdb "CREATE TABLE t AS SELECT range AS i FROM range(100)" >/dev/null
cp fleet/a/one.duckdb fleet/a/two.duckdb
run env DUCKMIG_STORE_FAULT=put:two:io "$DUCKMIG" batch --jobs 1 --json fleet out
is "$rc" 1 "batch: a failed upload gives exit 1"
is "$(jq -r '.counts.migrated, .counts.failed' <<<"$out" | tr '\n' ' ')" "1 1 " "... one file migrated, one failed"
like "$(jq -r '.results[] | select(.status == "failed") | .error' <<<"$out")" "*put 'a/two.duckdb': fault injected*" \
   "... saying why"
[ -f out/a/one.duckdb ] && [ ! -e out/a/two.duckdb ]; ok $? "... and nothing written for the failed one"
run "$DUCKMIG" batch --jobs 1 --json fleet out
is "$rc/$(jq -r .counts.migrated <<<"$out")" "0/1" "without the fault, the next run carries it"

done_testing
