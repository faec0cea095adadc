#!/usr/bin/env bash
# inspect.t - `duckmig inspect` on real files written by every engine, on
# the real corpus, and on the bad inputs it must name and refuse.
. "$(dirname "$0")/../lib.sh"
cd "$TMP"

field() { jq -c "$1" <<<"$out"; }

# One file per engine, and 1.5.6 with every STORAGE_VERSION it can write.
for rel in 0.6.1 0.7.1 0.8.1 1.5.6; do
    duckdb $rel "f$rel.duckdb" "CREATE TABLE t AS SELECT range AS i FROM range(5000)" "CREATE INDEX ti ON t(i)" >/dev/null
    ok $? "DuckDB $rel writes a file"
done
for sv in 1.0.0 1.1.0 1.2.0 1.3.0 1.4.0 1.5.0; do
    duckdb 1.5.6 :memory: "ATTACH 's$sv.duckdb' AS db (STORAGE_VERSION 'v$sv')" \
        "CREATE TABLE db.t AS SELECT 1 AS i" "DETACH db" >/dev/null
    ok $? "DuckDB 1.5.6 writes STORAGE_VERSION v$sv"
done

check() { # check FILE STORAGE RELEASES-JSON LIBRARY-JSON ENGINE-JSON
    run "$DUCKMIG" inspect --json "$1"
    is "$rc" 0 "$1: exit 0"
    is "$(field .path)" "\"$1\"" "$1: path"
    is "$(field .storage_version)" "$2" "$1: storage_version $2"
    is "$(field .releases)" "$3" "$1: releases"
    is "$(field .library_version)" "$4" "$1: library_version"
    is "$(field '[.encrypted, .wal, .checksum_ok]')" "[false,false,true]" "$1: not encrypted, no wal, checksums ok"
    is "$(field .engine)" "$5" "$1: engine"
}
check f0.6.1.duckdb 39 '["0.6.0","0.6.1"]' null '"0.6.1"'
check f0.7.1.duckdb 43 '["0.7.0","0.7.1"]' null '"0.7.1"'
check f0.8.1.duckdb 51 '["0.8.0","0.8.1"]' null '"0.8.1"'
v64='["0.9.0","0.9.1","0.9.2","0.10.0","0.10.1","0.10.2","0.10.3","1.0.0","1.1.0","1.1.1","1.1.2","1.1.3","1.2.x","1.3.x","1.4.x","1.5.x"]'
check f1.5.6.duckdb 64 "$v64" '"v1.5.6"' '"1.5.6"'
check s1.0.0.duckdb 64 "$v64" '"v1.5.6"' '"1.5.6"'
check s1.1.0.duckdb 64 "$v64" '"v1.5.6"' '"1.5.6"'
check s1.2.0.duckdb 65 '["1.2.x"]' '"v1.5.6"' '"1.5.6"'
check s1.3.0.duckdb 66 '["1.3.x"]' '"v1.5.6"' '"1.5.6"'
check s1.4.0.duckdb 67 '["1.4.x"]' '"v1.5.6"' '"1.5.6"'
check s1.5.0.duckdb 68 '["1.5.x"]' '"v1.5.6"' '"1.5.6"'
run "$DUCKMIG" inspect --json s1.5.0.duckdb
is "$(field .serialization_version)" 7 "v1.5.0 file: serialization version 7 read from the database header"

# Human output names the same facts.
run "$DUCKMIG" inspect f0.6.1.duckdb
like "$out" "*storage version  39 (written by DuckDB 0.6.0, 0.6.1)*" "human output: storage version and releases"
like "$out" "*engine           0.6.1*" "human output: engine"

# Several files: one JSON line each.
run "$DUCKMIG" inspect --json f0.6.1.duckdb f0.8.1.duckdb s1.3.0.duckdb
is "$(jq -s -c 'map(.storage_version)' <<<"$out")" "[39,51,66]" "three files, three JSON lines"

# A WAL left beside the file (no checkpoint on shutdown).
duckdb 0.6.1 wal.duckdb "PRAGMA disable_checkpoint_on_shutdown" "CREATE TABLE t(i INTEGER)" "INSERT INTO t VALUES (1)" >/dev/null
[ -f wal.duckdb.wal ]; ok $? "0.6.1 left a WAL beside its file"
run "$DUCKMIG" inspect --json wal.duckdb
is "$(field .wal)" true "inspect reports the WAL"

# Encryption (1.4+): reported, and no engine opens it without the key.
duckdb 1.5.6 :memory: "SET force_mbedtls_unsafe = 'true'" "ATTACH 'enc.duckdb' AS e (ENCRYPTION_KEY 'k3y')" "CREATE TABLE e.t AS SELECT 1 AS i" "DETACH e" >/dev/null
run "$DUCKMIG" inspect --json enc.duckdb
is "$rc" 0 "encrypted file is read"
is "$(field '[.encrypted, .engine, .active_header]')" "[true,null,null]" "encrypted: no engine, headers unreadable"

# Bad input: one-line errors that name the file, distinct exit codes.
run "$DUCKMIG" inspect --json missing.duckdb
is "$rc" 3 "missing file: exit 3"
is "$err" "duckmig: inspect: missing.duckdb: No such file or directory" "missing file: message"
printf 'SQLite format 3\0%4096s' x >foreign.db
run "$DUCKMIG" inspect foreign.db
is "$rc" 4 "foreign file: exit 4"
like "$err" "duckmig: inspect: foreign.db: not a DuckDB file*" "foreign file: message"
head -c 100000 f0.7.1.duckdb >cut.duckdb
run "$DUCKMIG" inspect cut.duckdb
is "$rc" 5 "file cut inside a block: exit 5"
like "$err" "duckmig: inspect: cut.duckdb: truncated DuckDB file*" "truncated: message"
head -c 5000 f0.7.1.duckdb >cut2.duckdb
run "$DUCKMIG" inspect cut2.duckdb
is "$rc" 5 "file cut inside the headers: exit 5"
: >empty.duckdb
run "$DUCKMIG" inspect empty.duckdb
is "$rc" 5 "empty file: exit 5"
cp f0.8.1.duckdb bad.duckdb
printf '\x42' | dd of=bad.duckdb bs=1 seek=200 conv=notrunc status=none
run "$DUCKMIG" inspect --json bad.duckdb
is "$rc" 6 "flipped header byte: exit 6"
is "$err" "duckmig: inspect: bad.duckdb: header checksum mismatch" "bad checksum: message"
is "$(field .checksum_ok)" false "bad checksum: checksum_ok false in JSON"
run "$DUCKMIG" inspect --json f0.6.1.duckdb missing.duckdb f0.7.1.duckdb
is "$rc" 3 "a bad file among good ones: non-zero"
is "$(jq -s -c 'map(.storage_version)' <<<"$out")" "[39,43]" "the good ones are still reported"
run "$DUCKMIG" inspect
is "$rc" 2 "no file: usage error"

# The real corpus: each file's folder is its storage version.
if [ -n "$SHARED" ] && [ -d "$SHARED/corpus/real" ]; then
    for f in "$SHARED"/corpus/real/*/*; do
        case $f in *.md|*.tsv) continue ;; esac
        want=$(basename "$(dirname "$f")")
        run "$DUCKMIG" inspect --json "$f"
        name=real/$want/$(basename "$f")
        is "$rc/$(field .storage_version)/$(field .checksum_ok)" "0/$want/true" "$name: storage $want, checksums ok"
        case $want in
        38) is "$(field .engine)" null "$name: no engine for 0.5 files" ;;
        39) is "$(field .engine)" '"0.6.1"' "$name: engine 0.6.1" ;;
        43) is "$(field .engine)" '"0.7.1"' "$name: engine 0.7.1" ;;
        51) is "$(field .engine)" '"0.8.1"' "$name: engine 0.8.1" ;;
        64) is "$(field '[.engine, .library_version]')" '["1.5.6","v1.0.0"]' "$name: engine 1.5.6, created by v1.0.0" ;;
        esac
    done
else
    skip "../shared/corpus/real is not beside the checkout"
fi
done_testing
