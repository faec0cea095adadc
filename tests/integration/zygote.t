#!/usr/bin/env bash
# zygote.t - engines kept loaded across files (src/engine/zygote.c): a
# worker forked by a zygote answers as a spawned one does, dies with its
# client, reports how it ended, and anything wrong with a zygote costs
# only its speed (the worker is spawned instead). batch and consume start
# zygotes and stop them. The job zygote (src/fleet/jobzygote.c): batch's
# jobs are forked from it, a job killed in it is reported with its
# signal, and one that is gone costs only speed (the job is exec'd).
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
is "$(grep -c 'job [0-9]* forked by the job zygote' <<<"$err")" 3 "... every job forked by the job zygote"
run env TMPDIR="$TMP/tmp" LOG_LEVEL=debug DUCKMIG_KEEP_ENGINES=0 "$DUCKMIG" batch --to 0.8.1 --jobs 2 src spawned
is "$rc/$(grep -c 'forked by its zygote' <<<"$err")" "0/0" "DUCKMIG_KEEP_ENGINES=0: every engine spawned"
is "$(grep -c 'job zygote' <<<"$err")" 0 "... and every job exec'd, without a word"

# the job zygote by hand, found by jobs through DUCKMIG_ZYGOTE_DIR as
# batch's own is (KEEP_ENGINES=0: batch starts none of its own)
mkdir jz
"$DUCKMIG" __jobzygote "$TMP/jz/job.sock" </dev/null >/dev/null 2>>jobzygote.err &
jzpid=$!
_pids+=("$jzpid")
for _ in $(seq 200); do [ -S jz/job.sock ] && break; sleep 0.05; done
[ -S jz/job.sock ]; ok $? "a job zygote listens"
run env TMPDIR="$TMP/tmp" LOG_LEVEL=debug DUCKMIG_KEEP_ENGINES=0 DUCKMIG_ZYGOTE_DIR="$TMP/jz" \
    "$DUCKMIG" batch --to 0.8.1 --jobs 2 src forked
is "$rc/$(grep -c 'forked by the job zygote' <<<"$err")" "0/3" "its jobs migrate the files"

# a job killed in the job zygote: reported with its signal, its folder
# removed, the other files migrated
big_rows=$([ "${DUCKMIG_VARIANT:-release}" = asan ] && echo 20000 || echo 150000)
mkdir -p bigsrc/a bigsrc/b
duckdb 0.6.1 bigsrc/a/f.duckdb "CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR)" \
    "INSERT INTO t SELECT range, 'v' || range FROM range($big_rows)" >/dev/null
cp bigsrc/a/f.duckdb bigsrc/b/f.duckdb
env TMPDIR="$TMP/tmp" DUCKMIG_KEEP_ENGINES=0 DUCKMIG_ZYGOTE_DIR="$TMP/jz" \
    "$DUCKMIG" batch --to 0.8.1 --jobs 1 --json bigsrc bigout >killed.json 2>killed.err &
bpid=$!
job_of_zygote() { pgrep -P "$jzpid" -f "^duckmig __job $TMP/tmp/" | head -1; }
for _ in $(seq 300); do job=$(job_of_zygote); [ -n "$job" ] && break; sleep 0.02; done
[ -n "$job" ]; ok $? "a running job is a child of the job zygote, named as an exec'd job is (duckmig __job DIR)"
jobdir=$(tr '\0' '\n' <"/proc/$job/cmdline" | sed -n 3p)
like "$jobdir" "$TMP/tmp/duckmig-batch-*/job-*" "... DIR its folder"
is "$(ps -o pgid= -p "$job" | tr -d ' ')" "$job" "... and leads its own process group"
kill -9 "$job"
# --jobs 1: the next job starts once the runner is through with this one
for _ in $(seq 300); do next=$(job_of_zygote); [ -n "$next" ] && [ "$next" != "$job" ] && break; sleep 0.02; done
[ -n "$jobdir" ] && [ ! -e "$jobdir" ]; ok $? "... the killed job's folder removed before the next job runs"
wait "$bpid"
brc=$?
is "$brc/$(jq -r '.results[] | select(.source == "a/f.duckdb") | .error' killed.json)" \
    "1/the job process ended without an outcome (signal 9)" "a job killed with SIGKILL: reported with its signal"
is "$(jq -r '.results[] | select(.source == "b/f.duckdb") | .status' killed.json)" "migrated" "... the other file migrated"
is "$(pgrep -P "$jzpid" | wc -l)" 0 "... and the zygote has reaped it"

# a job zygote killed while its job runs: the job dies with it (its end
# is unknown: failed, never done), nothing is left behind, and the next
# file's job is exec'd
env TMPDIR="$TMP/tmp" DUCKMIG_KEEP_ENGINES=0 DUCKMIG_ZYGOTE_DIR="$TMP/jz" \
    "$DUCKMIG" batch --to 0.8.1 --jobs 1 --json bigsrc zkilled >zkilled.json 2>zkilled.err &
bpid=$!
for _ in $(seq 300); do job=$(job_of_zygote); [ -n "$job" ] && break; sleep 0.02; done
[ -n "$job" ]; ok $? "a job runs in the job zygote"
kill -9 "$jzpid"
wait "$bpid"
brc=$?
wait "$jzpid" 2>/dev/null
is "$brc/$(jq -r '.results[] | select(.source == "a/f.duckdb") | .error' zkilled.json)" \
    "1/the job process ended without an outcome (status -1)" "a job zygote killed mid-job: its job failed"
like "$(cat zkilled.err)" "*the job zygote is gone: job $job's end is unknown*" "... saying why"
is "$(jq -r '.results[] | select(.source == "b/f.duckdb") | .status' zkilled.json)" "migrated" \
    "... the next file's job exec'd and migrated"
# dead: gone, or a zombie its new parent has not reaped yet (the kill
# signal of its zygote's death is delivered on its own time)
alive() { [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
for _ in $(seq 100); do alive "$job" || break; sleep 0.05; done
! alive "$job"; ok $? "... the job died with its zygote"
[ ! -e zkilled/a/f.duckdb ]; ok $? "... and wrote nothing"

# a job zygote that is gone: the jobs are exec'd, saying why
run env TMPDIR="$TMP/tmp" LOG_LEVEL=debug DUCKMIG_KEEP_ENGINES=0 DUCKMIG_ZYGOTE_DIR="$TMP/jz" \
    "$DUCKMIG" batch --to 0.8.1 --jobs 2 src execd
is "$rc/$(grep -c 'no job zygote (.*): exec.ing the job' <<<"$err")" "0/3" \
    "a job zygote that is gone: every job exec'd, the batch succeeds"
same=0
for i in 1 2 3; do
    a=$(duckdb 0.8.1 kept/$i/f.duckdb "SELECT count(*), sum(id), string_agg(v, ',' ORDER BY id) FROM t")
    for other in spawned forked execd; do
        b=$(duckdb 0.8.1 $other/$i/f.duckdb "SELECT count(*), sum(id), string_agg(v, ',' ORDER BY id) FROM t")
        [ "$a" = "$b" ] && [ -n "$a" ] || same=1
    done
done
is "$same" 0 "... the same rows either way"
# a zygote's workers know their release's own macros (learnt once, in a
# child of the zygote): the file's macro is carried, none of 0.6.1's own
macros() { duckdb 0.8.1 "$1" "SELECT count(*) FROM duckdb_functions() WHERE function_type = 'macro'"; }
is "$(macros kept/1/f.duckdb)/$(duckdb 0.8.1 kept/1/f.duckdb "SELECT twice(21)")" "$(($(macros :memory:) + 1))/42" \
    "... the file's macro carried, none of the release's own"
is "$(pgrep -f "__zygote .*$TMP/tmp" | wc -l)/$(pgrep -f "__jobzygote $TMP/tmp" | wc -l)/$(ls -A tmp)" "0/0/" \
    "no zygote or job zygote left running, no folder left"
done_testing
