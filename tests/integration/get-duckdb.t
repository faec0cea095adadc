#!/usr/bin/env bash
# get-duckdb.t - scripts/get-duckdb: install from a cache with checksums,
# refuse what does not match, stay idempotent, and fetch from the npm
# registry when that is the only source.
. "$(dirname "$0")/../lib.sh"
cd "$TMP"
get=$ROOT/scripts/get-duckdb
# a copy of the project with no ../shared beside it, for what must fail
mkdir -p alone/proj/scripts
cp "$get" "$ROOT/scripts/engines.sha256" alone/proj/scripts/
lone=$TMP/alone/proj/scripts/get-duckdb
real=$DUCKMIG_ENGINES/0.6.1/libduckdb.so
real_sha=$(sha256sum "$real" | cut -d' ' -f1)

# a cache laid out like ../shared/duckdb, with its SHA256SUMS
mkdir -p cache/0.6.1
cp "$real" cache/0.6.1/libduckdb.so
echo "$real_sha  0.6.1/libduckdb.so" >cache/SHA256SUMS
run env DUCKMIG_ENGINE_CACHE="$TMP/cache" "$get" --dest "$TMP/e" --from cache v0.6.1
is "$rc" 0 "installs 0.6.1 from \$DUCKMIG_ENGINE_CACHE"
cmp -s "$real" e/0.6.1/libduckdb.so; ok $? "the installed library is the cached one"
is "$(awk '$1 == "sha256" { print $2 }' e/0.6.1/SOURCE)" "$real_sha" "SOURCE records the sha256"
like "$err" "*(pinned)*" "the sha256 is checked against scripts/engines.sha256"
run env DUCKMIG_ENGINES="$TMP/e" "$DUCKMIG" engines --load
like "$out" "*0.6.1 *loads as v0.6.1*" "duckmig uses what get-duckdb installed"

run env DUCKMIG_ENGINE_CACHE="$TMP/cache" "$get" --dest "$TMP/e" --from cache 0.6.1
like "$rc:$err" "0:*0.6.1 already installed*" "a second run does nothing"

# a damaged install is replaced, not trusted
echo junk >>e/0.6.1/libduckdb.so
run env DUCKMIG_ENGINE_CACHE="$TMP/cache" "$get" --dest "$TMP/e" --from cache 0.6.1
cmp -s "$real" e/0.6.1/libduckdb.so; ok $? "a library that no longer matches its SOURCE is reinstalled"

# a cache file that does not match the cache's own SHA256SUMS is skipped
mkdir -p bad/0.6.1 && cp "$real" bad/0.6.1/libduckdb.so
echo "0000000000000000000000000000000000000000000000000000000000000000  0.6.1/libduckdb.so" >bad/SHA256SUMS
run env DUCKMIG_ENGINE_CACHE="$TMP/bad" "$lone" --dest "$TMP/e2" --from cache 0.6.1
is "$rc" 1 "a cache that fails its SHA256SUMS is not used"
like "$err" "*does not match*SHA256SUMS*" "and says why"
[ ! -e e2/0.6.1/libduckdb.so ]; ok $? "nothing was installed"

# a library that differs from the pinned hash is refused
mkdir -p other/0.6.1 && cp "$DUCKMIG_ENGINES/0.7.1/libduckdb.so" other/0.6.1/libduckdb.so
run env DUCKMIG_ENGINE_CACHE="$TMP/other" "$lone" --dest "$TMP/e3" --from cache 0.6.1
is "$rc" 1 "a library that is not the pinned 0.6.1 is refused"
like "$err" "*sha256*expected $real_sha*" "and the expected hash is named"
[ ! -e e3/0.6.1/libduckdb.so ]; ok $? "nothing was installed"

# official archives: taken only when pinned (a fake curl on PATH serves
# a zip made here, so that no network is needed)
mkdir -p fakebin zips/good zips/other
cat >fakebin/curl <<'SH'
#!/bin/sh
# the arguments, one line per call; the file after -o gets $FAKE_ZIP
echo "$*" >>"$FAKE_LOG"
while [ $# -gt 0 ]; do [ "$1" = -o ] && cp "$FAKE_ZIP" "$2"; shift; done
SH
chmod +x fakebin/curl
cp "$real" zips/good/libduckdb.so
cp "$DUCKMIG_ENGINES/0.7.1/libduckdb.so" zips/other/libduckdb.so
(cd zips/good && python3 -m zipfile -c ../good.zip libduckdb.so)
(cd zips/other && python3 -m zipfile -c ../other.zip libduckdb.so)
offl() { # offl ZIP DEST [ENV...]: get-duckdb 0.6.1 from the official source only
    local zip=$1 d=$2
    shift 2
    run env PATH="$TMP/fakebin:$PATH" FAKE_ZIP="$TMP/zips/$zip" FAKE_LOG="$TMP/curl.log" "$@" \
        "$lone" --dest "$TMP/$d" --from official 0.6.1
}
offl good.zip o1
is "$rc" 1 "an official archive with no sha256 in engines.sha256 is refused"
like "$err" "*refusing the official archive*no official-zip sha256 for 0.6.1*DUCKMIG_ALLOW_UNPINNED=1*" "... saying why and what would take it"
[ ! -e curl.log ] && [ ! -e o1/0.6.1 ]; ok $? "... before downloading anything"
offl good.zip o2 DUCKMIG_ALLOW_UNPINNED=1
is "$rc/$(awk '$1 == "source" || $1 == "pinned" { print $2 }' o2/0.6.1/SOURCE 2>/dev/null | paste -sd' ')" "0/official-zip no" \
   "DUCKMIG_ALLOW_UNPINNED=1 takes it, recorded as not pinned"
like "$(cat curl.log)" "*releases/download/v0.6.1/libduckdb-linux-amd64.zip*" "... from the tag's libduckdb-linux-amd64.zip"
cp "$ROOT/scripts/engines.sha256" alone/proj/scripts/engines.sha256
like "$err" "*official archive taken unpinned, sha256 $(sha256sum zips/good.zip | cut -d' ' -f1)*" "... printing the archive's sha256 to review"
# a pin is the archive's sha256, the figure others publish
zip_sha=$(sha256sum zips/good.zip | cut -d' ' -f1)
echo "$zip_sha 0.6.1 official-zip" >>alone/proj/scripts/engines.sha256
offl good.zip o3
is "$rc/$(awk '$1 == "pinned" || $1 == "sha256" { print $2 }' o3/0.6.1/SOURCE 2>/dev/null | paste -sd' ')" \
   "0/$real_sha $zip_sha" "a pinned official archive is installed, checked; SOURCE keeps the library's and the archive's sha256"
offl other.zip o4
is "$rc" 1 "an official archive that is not the pinned one is refused"
like "$err" "*0.6.1: official archive*sha256*expected $zip_sha*" "... naming the expected hash"
[ ! -e o4/0.6.1/libduckdb.so ]; ok $? "... and nothing is installed"
grep -q ' 0.8.1 official-zip$' "$ROOT/scripts/engines.sha256" && grep -q ' 1.5.6 official-zip$' "$ROOT/scripts/engines.sha256"
ok $? "the project pins the official archives of 0.8.1 and 1.5.6"
cp "$ROOT/scripts/engines.sha256" alone/proj/scripts/engines.sha256

run "$get" --dest "$TMP/e4" 0.8
is "$rc" 1 "a bad release name fails"
like "$err" "*'0.8' is not a DuckDB release*" "and is named"
run "$get" --dest "$TMP/e4" --from official,npm --no-build 0.4.0
is "$rc" 1 "a release no source has fails"
like "$err" "*no source could provide DuckDB 0.4.0*" "with a clear message"

# the registry path: the official libduckdb.so from npm, pinned
if timeout 20 npm view @duckdb/node-bindings-linux-x64@1.5.6-r.1 name >/dev/null 2>&1; then
    run "$get" --dest "$TMP/npm" --from npm 1.5.6
    is "$rc" 0 "1.5.6 from the npm registry"
    is "$(awk '$1 == "source" || $1 == "pinned" { print $2 }' npm/1.5.6/SOURCE | paste -sd' ')" \
        "npm $(sha256sum "$DUCKMIG_ENGINES/1.5.6/libduckdb.so" | cut -d' ' -f1)" "npm's library matches the pinned sha256"
    run env DUCKMIG_ENGINES="$TMP/npm" "$DUCKMIG" sql --no-header --engine 1.5.6 :memory: "SELECT version()"
    is "$out" "v1.5.6" "and it runs"
else
    skip "the npm registry is not reachable"
fi
done_testing
