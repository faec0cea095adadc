#!/usr/bin/env bash
# zygote.t - engines kept loaded across files (src/engine/zygote.c): a
# worker forked by a zygote answers as a spawned one does, dies with its
# client, reports how it ended, and anything wrong with a zygote costs
# only its speed (the worker is spawned instead). batch and consume start
# zygotes and stop them.
. "$(dirname "$0")/../lib.sh"
cd "$TMP"
lib() { echo "$DUCKMIG_ENGINES/$1/libduckdb.so"; }
start_zygote() { # start_zygote RELEASE LIBRARY SOCKET: sets $zpid
    "$DUCKMIG" __zygote "$1" "$2" "$3" </dev/null >/dev/null 2>>zygote.err &
    zpid=$!
    _pids+=("$zpid")
    for _ in $(seq 200); do [ -S "$3" ] && return 0; sleep 0.05; done
    return 1
}
mkdir z
start_zygote 0.8.1 "$(lib 0.8.1)" z/0.8.1.sock
ok $? "a zygote listens once it has loaded its release"
is "$(ls z)" "0.8.1.sock" "... under its socket's name only (bound under another, then renamed)"

export DUCKMIG_ZYGOTE_DIR=$TMP/z
run env LOG_LEVEL=debug "$DUCKMIG" sql --no-header --engine 0.8.1 :memory: "SELECT 40 + 2" "SELECT version()"
is "$rc/$out" "0/42
v0.8.1" "a worker forked by the zygote answers"
like "$err" "*started DuckDB 0.8.1 (v0.8.1) as pid * forked by its zygote*" "... and says it was forked"
run env LOG_LEVEL=debug "$DUCKMIG" sql --no-header --engine 0.7.1 :memory: "SELECT version()"
is "$rc/$out" "0/v0.7.1" "a release with no zygote: spawned"
like "$err" "*no DuckDB 0.7.1 zygote*spawning a worker*" "... saying why at debug level"

# a client that dies takes its worker with it (the zygote kills it, as
# the parent-death signal does for a spawned worker)
"$DUCKMIG" sql --engine 0.8.1 :memory: "SELECT count(*) FROM range(100000000000)" >/dev/null 2>&1 &
client=$!
for _ in $(seq 100); do worker=$(pgrep -P "$zpid" | head -1); [ -n "$worker" ] && break; sleep 0.05; done
[ -n "$worker" ]; ok $? "the long query runs in a child of the zygote"
kill -9 "$client"
wait "$client" 2>/dev/null
for _ in $(seq 100); do kill -0 "$worker" 2>/dev/null || break; sleep 0.05; done
! kill -0 "$worker" 2>/dev/null; ok $? "... which is killed when its client is"

# a worker that is killed is reported with its signal, as waitpid tells
"$DUCKMIG" sql --engine 0.8.1 :memory: "SELECT count(*) FROM range(100000000000)" >/dev/null 2>client.err &
client=$!
for _ in $(seq 100); do worker=$(pgrep -P "$zpid" | head -1); [ -n "$worker" ] && break; sleep 0.05; done
kill -9 "$worker"
wait "$client"
crc=$?
like "$crc/$(cat client.err)" "[1-9]*/*DuckDB 0.8.1 worker died (signal 9: Killed)*" \
    "a killed worker: the client names the signal the zygote saw"
sleep 0.2
is "$(pgrep -P "$zpid" | wc -l)" 0 "... and the zygote has reaped it"

# a socket whose zygote loaded another library: refused, spawned instead
start_zygote 0.7.1 "$(lib 0.7.1)" z/0.6.1.sock
run env LOG_LEVEL=debug "$DUCKMIG" sql --no-header --engine 0.6.1 :memory: "SELECT version()"
is "$rc/$out" "0/v0.6.1" "a zygote of another library is not used"
like "$err" "*no DuckDB 0.6.1 zygote*" "... the worker is spawned"
kill "$zpid"
wait "$zpid" 2>/dev/null

# a zygote that is gone: spawned
kill "${_pids[0]}"
wait "${_pids[0]}" 2>/dev/null
run "$DUCKMIG" sql --no-header --engine 0.8.1 :memory: "SELECT 7"
is "$rc/$out" "0/7" "a zygote that is gone: the worker is spawned"
unset DUCKMIG_ZYGOTE_DIR

# batch: its jobs' engines are forked; DUCKMIG_KEEP_ENGINES=0 spawns them;
# the files are the same either way and nothing is left running
duckdb 0.6.1 one.duckdb "CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR)" \
    "INSERT INTO t SELECT range, 'v' || range FROM range(3000)" "CREATE MACRO twice(x) AS x * 2" >/dev/null
for i in 1 2 3; do mkdir -p src/$i && cp one.duckdb src/$i/f.duckdb; done
mkdir tmp
run env TMPDIR="$TMP/tmp" LOG_LEVEL=debug "$DUCKMIG" batch --to 0.8.1 --jobs 2 src kept
is "$rc" 0 "batch with zygotes"
# (the start-up check loads the target in a spawned worker, before the
# zygotes start)
jobs_log=$(sed -n '/zygotes in/,$p' <<<"$err")
started=$(grep -c 'started DuckDB' <<<"$jobs_log")
is "$(grep -c 'started DuckDB.*forked by its zygote' <<<"$jobs_log")" "$started" "... every job's engines forked ($started)"
[ "$started" -ge 6 ]; ok $? "... at least a reader and a writer for each of the three files"
run env TMPDIR="$TMP/tmp" LOG_LEVEL=debug DUCKMIG_KEEP_ENGINES=0 "$DUCKMIG" batch --to 0.8.1 --jobs 2 src spawned
is "$rc/$(grep -c 'forked by its zygote' <<<"$err")" "0/0" "DUCKMIG_KEEP_ENGINES=0: every engine spawned"
same=0
for i in 1 2 3; do
    a=$(duckdb 0.8.1 kept/$i/f.duckdb "SELECT count(*), sum(id), string_agg(v, ',' ORDER BY id) FROM t")
    b=$(duckdb 0.8.1 spawned/$i/f.duckdb "SELECT count(*), sum(id), string_agg(v, ',' ORDER BY id) FROM t")
    [ "$a" = "$b" ] && [ -n "$a" ] || same=1
done
is "$same" 0 "... the same rows either way"
# a zygote's workers know their release's own macros (learnt once, in a
# child of the zygote): the file's macro is carried, none of 0.6.1's own
macros() { duckdb 0.8.1 "$1" "SELECT count(*) FROM duckdb_functions() WHERE function_type = 'macro'"; }
is "$(macros kept/1/f.duckdb)/$(duckdb 0.8.1 kept/1/f.duckdb "SELECT twice(21)")" "$(($(macros :memory:) + 1))/42" \
    "... the file's macro carried, none of the release's own"
is "$(pgrep -f "__zygote .*$TMP/tmp" | wc -l)/$(ls -A tmp)" "0/" "no zygote left running, no folder left"
done_testing
