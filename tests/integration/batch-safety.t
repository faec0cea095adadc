#!/usr/bin/env bash
# batch-safety.t - what `duckmig batch` must never do (issue #15): write
# over or among the originals (SRC and DST that overlap are refused;
# --in-place keeps each original beside its new file, and a run stopped
# at any step is finished by the next), take a prefix for anything but a
# folder, let a key out of its root, hang on a FIFO, stop or go silent
# on a bad name, or leave a temporary folder behind, stopped or killed.
. "$(dirname "$0")/../lib.sh"
release_engines
cd "$TMP"
# batch's private folders go under TMPDIR: here, where they can be seen
export TMPDIR=$TMP/tmp
mkdir -p "$TMPDIR"
unset MIGRATE_SRC MIGRATE_DST

mk() { # mk RELEASE PATH ROWS: a table t of ROWS rows
    "$DUCKMIG_HELPER" sql --engine "$1" "$2" "CREATE TABLE t (i BIGINT, s VARCHAR)" \
        "INSERT INTO t SELECT range, 'row ' || range FROM range($3)" >/dev/null
}
mk_wal() { # mk_wal RELEASE PATH ROWS: the rows are in PATH.wal, not PATH
    "$DUCKMIG_HELPER" sql --engine "$1" "$2" "CREATE TABLE t (i BIGINT, s VARCHAR)" >/dev/null
    "$DUCKMIG_HELPER" sql --engine "$1" "$2" "PRAGMA disable_checkpoint_on_shutdown" \
        "INSERT INTO t SELECT range, 'row ' || range FROM range($3)" >/dev/null
}
sums() { find "$@" -type f | sort | xargs -r sha256sum; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
version() { "$DUCKMIG" inspect --json "$1" | jq -r .storage_version; }
rows() { "$DUCKMIG_HELPER" sql --no-header --read-only "$1" "SELECT count(*) FROM t"; }
leftovers() { ls -A "$TMPDIR" | tr '\n' ' '; }

mkdir -p T/a T/b
mk 0.6.1 T/a/x.duckdb 1000
mk 0.7.1 T/b/y.duckdb 1000
orig=$(sums T)

# ---- SRC and DST that overlap: refused before anything is written
run "$DUCKMIG" batch T T
is "$rc" 2 "batch T T: refused (exit 2)"
like "$err" "*overlap*written over the originals*--in-place*" "... saying why, and what to do instead"
run "$DUCKMIG" batch T T/out
is "$rc/$(ls T | tr '\n' ' ')" "2/a b " "DST inside SRC: refused, no T/out made (no out/out/out/... on reruns)"
run "$DUCKMIG" batch T/a T
is "$rc" 2 "SRC inside DST: refused"
ln -s T alias
run "$DUCKMIG" batch alias/ "$TMP/T/a/../"
is "$rc" 2 "the same folder through a symlink and '..': refused"
run env MIGRATE_SRC="$TMP/T" MIGRATE_DST="$TMP/alias" "$DUCKMIG" batch efs:a efs:a/
is "$rc" 2 "efs: roots that resolve to one folder, the same prefix: refused"
run env MIGRATE_SRC="$TMP/T" MIGRATE_DST="$TMP/T/a" "$DUCKMIG" batch efs: efs:
is "$rc" 2 "efs: MIGRATE_DST inside MIGRATE_SRC: refused"
run env MIGRATE_SRC="$TMP/T" "$DUCKMIG" batch efs:a T/a
is "$rc" 2 "efs: against a local path to the same folder: refused"
is "$(sums T)" "$orig" "after all of these, SRC is byte for byte what it was"
is "$(leftovers)" "" "... and nothing was left in TMPDIR"

# ---- prefixes are folders; the destination prefix is honoured; no key
# leaves its root
mkdir -p E/run1 E/run10 E/run1x
cp T/a/x.duckdb E/run1/a.duckdb
cp T/a/x.duckdb E/run10/b.duckdb
cp T/a/x.duckdb E/run1x/c.duckdb
mkdir -p EO
run env MIGRATE_SRC="$TMP/E" MIGRATE_DST="$TMP/EO" "$DUCKMIG" batch --json efs:run1 efs:newprefix/
is "$rc/$(jq -r '[.results[] | "\(.source)>\(.destination)"] | join(" ")' <<<"$out")" \
   "0/run1/a.duckdb>newprefix/a.duckdb" "efs:run1 takes run1/ only (not run10/, run1x/), into newprefix/"
is "$(cd EO && find . -type f | sort | tr '\n' ' ')" "./newprefix/a.duckdb " \
   "... and writes under MIGRATE_DST/newprefix/, as reported"
run env MIGRATE_SRC="$TMP/E" MIGRATE_DST="$TMP/EO" "$DUCKMIG" batch efs:run1 efs:../x
is "$rc" 18 "efs:../x as DST: refused (exit 18)"
like "$err" "*'..'*" "... naming the '..'"
run env MIGRATE_SRC="$TMP/E" MIGRATE_DST="$TMP/EO" "$DUCKMIG" batch efs:../E efs:y
is "$rc" 18 "efs:../E as SRC: refused (exit 18)"
run env MIGRATE_SRC="$TMP/E" MIGRATE_DST="$TMP/E" "$DUCKMIG" batch efs:run1 efs:run10
is "$rc" 0 "efs:run1 and efs:run10 under one root do not overlap: allowed"
[ -f E/run10/a.duckdb ] && [ "$(sum E/run10/b.duckdb)" = "$(sum T/a/x.duckdb)" ]
ok $? "... a.duckdb lands in run10/, b.duckdb there is untouched"

# ---- names: each bad one skipped and said, the others migrated; nothing
# hangs, nothing raw reaches the terminal, JSON never vanishes
mkdir -p N/t
cp T/a/x.duckdb N/t/good.duckdb
cp T/a/x.duckdb "N/t/$(printf 'bad\xff').duckdb"
cp T/a/x.duckdb "N/t/$(printf 'esc\e]0;owned\a').duckdb"
ln -s "$TMP/T/a/x.duckdb" N/t/outside.duckdb
mkfifo N/t/fifo.duckdb
run timeout 120 "$DUCKMIG" batch --json N NO
is "$rc" 1 "a tree with bad names: exit 1 (not a hang: a FIFO is in it)"
is "$(jq -c '[.counts.migrated, .counts.skipped, .files]' <<<"$out")" "[1,4,5]" \
   "--json prints: 1 migrated, 4 skipped, 5 files"
like "$(jq -r '.results[] | select(.status == "skipped") | .error' <<<"$out" | sort | tr '\n' '|')" \
   "a symlink that leads out of the root|key *holds a control character|not a regular file*|the name is not UTF-8*|" \
   "... each skipped file says why (symlink out, control character, FIFO, not UTF-8)"
is "$(jq -r '.results[] | select(.invalid_utf8) | .source_escaped' <<<"$out")" 't/bad\xff.duckdb' \
   "... the name that is not UTF-8 is marked, with its escaped form"
like "$err" "*symlink that leads out of the root*" "the symlink out of SRC is named on stderr"
[[ "$out$err" != *$'\e'* && "$out$err" != *$'\a'* ]]; ok $? "no escape sequence reaches stdout or stderr"
like "$err" '*esc\\x1b]0;owned\\x07.duckdb*' "... it is shown escaped"
[ -f NO/t/good.duckdb ] && [ "$(find NO -type f | wc -l)" = 1 ]; ok $? "only the good file was written"
run timeout 120 env LOG_FORMAT=json "$DUCKMIG" batch N NO2
[[ "$out" != *$'\e'* ]] && [[ "$out" == *'bad\xff.duckdb'* ]]; ok $? "the human summary escapes names too"
is "$(jq -r 'select(.level == "warn") | .msg' <<<"$err" 2>&1 | grep -c skipped)" 4 \
   "LOG_FORMAT=json: a log line for each skipped name, none lost to a name that is not UTF-8"
run "$DUCKMIG" ls --json N
is "$(jq -r 'select(.invalid_utf8) | .key_escaped' <<<"$out")" 't/bad\xff.duckdb' "ls --json: a name that is not UTF-8 is listed, marked"
is "$(wc -l <<<"$out")" 3 "... beside the two others it serves"
like "$err" "*fifo.duckdb: not a regular file*outside.duckdb: a symlink that leads out*" "... and says what it skipped"
run "$DUCKMIG" ls N
[[ "$out" != *$'\e'* && "$out" == *'esc\x1b'* ]]; ok $? "ls escapes names"

# ---- --in-place: originals kept byte for byte, resumable at every step
mkdir -p P/a P/b P/c
mk 0.6.1 P/a/x.duckdb 1000
mk_wal 0.6.1 P/b/w.duckdb 2000
mk 0.8.1 P/c/z.duckdb 500
[ -s P/b/w.duckdb.wal ]; ok $? "a 0.6.1 file whose rows are in its WAL"
cp -a P P-orig
run "$DUCKMIG" batch --in-place --json P
is "$rc/$(jq -c '[.counts.migrated, .counts.already_at_target]' <<<"$out")" "0/[2,1]" \
   "batch --in-place: 2 migrated, 1 already at the target"
is "$(sum P/a/x.duckdb.orig)/$(sum P/b/w.duckdb.orig)/$(sum P/b/w.duckdb.wal.orig)" \
   "$(sum P-orig/a/x.duckdb)/$(sum P-orig/b/w.duckdb)/$(sum P-orig/b/w.duckdb.wal)" \
   "each original (and WAL) kept byte for byte as FILE.orig (FILE.wal.orig)"
is "$(version P/a/x.duckdb)/$(version P/b/w.duckdb)/$(rows P/b/w.duckdb)" "51/51/2000" \
   "the files are now 0.8.1, the WAL's rows in them"
[ ! -e P/b/w.duckdb.wal ] && [ ! -e P/c/z.duckdb.orig ] && [ "$(sum P/c/z.duckdb)" = "$(sum P-orig/c/z.duckdb)" ]
ok $? "no old WAL beside a new file; the file at the target untouched, no backup"
"$DUCKMIG" verify P/a/x.duckdb.orig P/a/x.duckdb >/dev/null && "$DUCKMIG" verify P-orig/b/w.duckdb P/b/w.duckdb >/dev/null
ok $? "each new file verifies against its original"
after=$(sums P)
run "$DUCKMIG" batch --in-place --json P
is "$rc/$(jq -c '[.counts.already_done, .counts.already_at_target]' <<<"$out")" "0/[2,1]" \
   "a rerun: already done, and the backups are not taken for databases"
is "$(sums P)" "$after" "... nothing rewritten"
run "$DUCKMIG" batch --in-place --backup-suffix .bak.duckdb P
is "$rc" 2 "a backup suffix ending with .duckdb: refused"
run "$DUCKMIG" batch --in-place P P-orig
is "$rc" 2 "--in-place with a DST that is not SRC: refused"

# the states a kill leaves after each step (fleet/job.c), rebuilt by
# hand for the file with a WAL; a rerun must finish from each, the
# original kept
state() { # state STEP: P2 as a kill after STEP leaves it
    rm -rf P2 && mkdir -p P2/b && cp -a P-orig/b/w.duckdb P-orig/b/w.duckdb.wal P2/b/
    local b=P2/b/w.duckdb
    [ "$1" -ge 3 ] && cp "$b.wal" "$b.wal.orig"
    [ "$1" -ge 4 ] && cp "$b" "$b.orig"
    [ "$1" -ge 5 ] && rm "$b.wal" && head -c 1000 "$b" >"P2/b/.w.duckdb.duckmig-0badf00d"
    return 0
}
for step in 3 4 5; do
    state "$step"
    run "$DUCKMIG" batch --in-place P2
    is "$rc/$(version P2/b/w.duckdb)/$(rows P2/b/w.duckdb)" "0/51/2000" \
       "killed after step $step: a rerun finishes, the file migrated whole"
    is "$(sum P2/b/w.duckdb.orig)/$(sum P2/b/w.duckdb.wal.orig)/$(ls -A P2/b | tr '\n' ' ')" \
       "$(sum P-orig/b/w.duckdb)/$(sum P-orig/b/w.duckdb.wal)/w.duckdb w.duckdb.orig w.duckdb.wal.orig " \
       "... the original and its WAL kept, no old WAL, no temporary file"
done
# a file changed after it was migrated in place is not migrated again
# from its backup
"$DUCKMIG_HELPER" sql P2/b/w.duckdb "INSERT INTO t VALUES (-1, 'new')" >/dev/null
changed=$(sum P2/b/w.duckdb)
run "$DUCKMIG" batch --in-place --json P2
is "$rc/$(jq -r '.results[0].status' <<<"$out")" "1/failed" \
   "a file changed since it was migrated in place: refused"
like "$(jq -r '.results[0].error' <<<"$out")" "*changed after an earlier run*" "... saying why"
is "$(sum P2/b/w.duckdb)" "$changed" "... and left as it is"

# ---- stopped and killed: no folder left behind
# big enough that a job still runs after the random pause before the
# SIGKILL below (up to 0.4 s): 150,000 rows took 0.5 s
big_rows=$([ "${DUCKMIG_VARIANT:-release}" = asan ] && echo 20000 || echo 400000)
mkdir -p K/a K/b
mk 0.6.1 K/a/big.duckdb "$big_rows"
mk 0.6.1 K/b/big.duckdb "$big_rows"
cp -a K K-orig
wait_job() { # wait until a job folder of a running batch exists
    local i
    for i in $(seq 300); do
        compgen -G "$TMPDIR/duckmig-batch-*/job-*" >/dev/null && return 0
        sleep 0.05
    done
    return 1
}
"$DUCKMIG" batch --jobs 2 K KO >stop.out 2>stop.err &
bpid=$!
wait_job; ok $? "a batch with running jobs"
kill -TERM "$bpid"
wait "$bpid"
is "$?" 143 "SIGTERM: batch stops its jobs and ends by the signal"
is "$(leftovers)" "" "... leaving nothing in TMPDIR"
is "$(pgrep -f "__job $TMPDIR/" | wc -l)" 0 "... and no job process"
is "$(find KO -name "*.duckdb" | wc -l)" 0 "... and no partial destination"

"$DUCKMIG" batch --in-place --jobs 2 K >kill.out 2>kill.err &
bpid=$!
wait_job
sleep 0.$((RANDOM % 5))
kill -9 "$bpid"
wait "$bpid" 2>/dev/null
sleep 0.3
like "$(leftovers)" "duckmig-batch-*" "SIGKILL of batch --in-place mid-run leaves its folder"
kept=0
for f in a/big.duckdb b/big.duckdb; do
    { [ "$(sum "K/$f")" = "$(sum "K-orig/$f")" ] ||
      { [ -e "K/$f.orig" ] && [ "$(sum "K/$f.orig")" = "$(sum "K-orig/$f")" ]; }; } || { kept=1; diag "lost: $f"; }
done
is "$kept" 0 "... each original still there, as the file or as its backup"
# meanwhile another batch on other files: it must not take a live one's
# folder for a dead one's
mkdir -p "$TMPDIR/duckmig-batch-legacy" "$TMPDIR/duckmig-batch-fresh"
touch -d '2 days ago' "$TMPDIR/duckmig-batch-legacy"
run "$DUCKMIG" batch --in-place K
is "$rc" 0 "the rerun finishes the job"
is "$(version K/a/big.duckdb)/$(version K/b/big.duckdb)/$(sum K/a/big.duckdb.orig)/$(sum K/b/big.duckdb.orig)" \
   "51/51/$(sum K-orig/a/big.duckdb)/$(sum K-orig/b/big.duckdb)" "... both migrated, both originals kept"
is "$(leftovers)" "duckmig-batch-fresh " \
   "... and removed the dead batch's folder and an old one without a lock (not a fresh one)"
like "$err" "*removing $TMPDIR/duckmig-batch-*left by a duckmig that stopped*" "... saying so"
rmdir "$TMPDIR/duckmig-batch-fresh"

# two batches at once: the one that starts second sweeps, but cannot take
# the first one's folder (its lock is held)
mkdir -p empty
"$DUCKMIG" batch --jobs 1 T TO >first.out 2>first.err &
bpid=$!
wait_job
run "$DUCKMIG" batch empty empty-out
is "$rc" 0 "a second batch starts while the first runs"
wait "$bpid"
is "$?" 0 "... the first one is not disturbed"
is "$(leftovers)" "" "... and both cleaned up"

# ---- S3: prefixes as folders, overlap, and --in-place stopped at each
# step (a fault injected on that step's request)
S3_PORT=$(free_port)
start_s3 "$TMP/s3" "$S3_PORT" src-b dst-b ip-b || exit 1
P_PORT=$(free_port)
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=http://127.0.0.1:$S3_PORT DUCKMIG_RETRY_BASE_MS=20
unset AWS_ENDPOINT_URL_S3 AWS_SESSION_TOKEN AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI
for k in run1/t1/a run10/t1/b run1x/t1/c; do
    "$DUCKMIG" cp T/a/x.duckdb "s3://src-b/$k.duckdb" >/dev/null
done
run "$DUCKMIG" batch --json s3://src-b/run1 s3://dst-b/out
is "$rc/$(jq -r '[.results[].destination] | join(" ")' <<<"$out")" "0/out/t1/a.duckdb" \
   "s3://b/run1 takes run1/ only, into out/ (not out0/, outx/)"
run "$DUCKMIG" batch --json s3://src-b/run1/ s3://dst-b/out2
is "$rc/$(jq -r '[.results[].destination] | join(" ")' <<<"$out")" "0/out2/t1/a.duckdb" \
   "s3://b/pfx/ into s3://d/out2: out2/t1/a.duckdb (not out2t1/)"
run "$DUCKMIG" batch s3://src-b/run1 s3://src-b/run1/out
is "$rc" 2 "S3: DST inside SRC in one bucket: refused"
run "$DUCKMIG" batch s3://src-b/ s3://src-b/x
is "$rc" 2 "S3: the whole bucket and a prefix of it: refused"
run "$DUCKMIG" batch s3://src-b/run1 s3://src-b/run1x
is "$rc" 0 "S3: run1 and run1x do not overlap: allowed"

"$DUCKMIG" cp P-orig/b/w.duckdb s3://ip-b/t/w.duckdb >/dev/null
"$DUCKMIG" cp P-orig/b/w.duckdb.wal s3://ip-b/t/w.duckdb.wal >/dev/null
proxy() { # proxy FAULTS: (re)start the fault proxy
    [ -n "${proxy_pid:-}" ] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
    : >proxy.log
    start_server proxy.out python3 "$ROOT/tests/servers/fault-proxy.py" "$P_PORT" "$S3_PORT" proxy.log "$1"
    proxy_pid=$server_pid
}
s3keys() { "$DUCKMIG" ls s3://ip-b/t/ | awk '{ print $2 }' | sed 's#t/##' | tr '\n' ' '; }
step=3
for fault in "PUT+w.duckdb.wal.orig:403:1" "PUT+w.duckdb.orig:403:1" "DELETE+w.duckdb.wal:403:1" "PUT+t/w.duckdb:403:1"; do
    proxy "$fault"
    run env AWS_ENDPOINT_URL="http://127.0.0.1:$P_PORT" "$DUCKMIG" batch --in-place s3://ip-b/t
    is "$rc" 1 "S3 in place, stopped at step $step: the file fails"
    step=$((step + 1))
    diag "left: $(s3keys)"
done
is "$(s3keys)" "w.duckdb w.duckdb.orig w.duckdb.wal.orig " "... leaving the original and its backups, no WAL beside it"
run "$DUCKMIG" batch --in-place s3://ip-b/t
is "$rc" 0 "a run without faults finishes it"
rm -f got-*
"$DUCKMIG" cp s3://ip-b/t/w.duckdb got-new >/dev/null
"$DUCKMIG" cp s3://ip-b/t/w.duckdb.orig got-orig >/dev/null
"$DUCKMIG" cp s3://ip-b/t/w.duckdb.wal.orig got-wal >/dev/null
is "$(version got-new)/$(rows got-new)/$(sum got-orig)/$(sum got-wal)/$(s3keys)" \
   "51/2000/$(sum P-orig/b/w.duckdb)/$(sum P-orig/b/w.duckdb.wal)/w.duckdb w.duckdb.orig w.duckdb.wal.orig " \
   "... migrated whole, the original and its WAL kept byte for byte"
is "$(leftovers)" "" "no folder left in TMPDIR by any of these runs"

done_testing
