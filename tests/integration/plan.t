#!/usr/bin/env bash
# plan.t - `batch --dry-run` (the plan, from headers alone, writing
# nothing, local and on S3 through ranged reads), `inspect` of s3:// keys
# and prefixes, the one JSON contract of --json (docs/json.md) checked
# key by key with python3 for migrate, batch, verify and inspect,
# --report FILE, and progress: log lines above batch's progress line on a
# terminal, naming sources, never a job's temporary files; migrate's
# tables and rows at info level.
. "$(dirname "$0")/../lib.sh"
release_engines
cd "$TMP"

# the JSON contract, checked by a reader that shares no code with duckmig
cat >contract.py <<'PY'
import json, sys
OUTCOME = {"schema_version": int, "command": str, "source": str,
           "destination": str, "status": str, "code": str,
           "exit_status": int, "error": (str, type(None)),
           "source_storage": (int, type(None)),
           "source_release": (str, type(None)),
           "destination_storage": (int, type(None)),
           "destination_release": (str, type(None)),
           "source_size": int, "destination_size": int,
           "seconds": (float, int), "report": (dict, type(None))}
def outcome(o, command):
    for k, t in OUTCOME.items():
        assert k in o, "no key %r in %r" % (k, sorted(o))
        assert isinstance(o[k], t), "%s: %r" % (k, o[k])
    assert o["schema_version"] == 1 and o["command"] == command, o
    assert (o["code"] == "ok") == (o["exit_status"] == 0), o
def inspect(o):
    assert o["schema_version"] == 1 and o["command"] == "inspect", o
    for k in ("path", "size", "storage_version", "releases", "engine", "wal", "checksum_ok"):
        assert k in o, k
kind = sys.argv[1]
docs = [json.loads(l) for l in sys.stdin if l.strip()]
assert docs, "no JSON"
for d in docs:
    if kind == "batch":
        assert d["schema_version"] == 1 and d["command"] == "batch", d
        assert d["results"], "no results"
        for r in d["results"]:
            outcome(r, "batch")
            assert "permanent" in r
    elif kind == "plan":
        assert d["schema_version"] == 1 and d["command"] == "batch" and d["dry_run"] is True
        for k in ("files", "bytes", "counts", "versions", "disk_per_task", "plan"):
            assert k in d, k
        for e in d["plan"]:
            for k in ("source", "destination", "source_size", "source_storage", "source_release", "action", "code", "reason"):
                assert k in e, k
    elif kind == "inspect":
        inspect(d)
    else:
        outcome(d, kind)
print("ok")
PY
contract() { python3 contract.py "$1" 2>&1 | tail -1; }

DUCKMIG=$DUCKMIG_HELPER "$ROOT/scripts/make-sample-fleet" --sites 2 --trackers 1 fleet >/dev/null 2>&1
ok $? "a sample fleet built with DuckDB 0.6.1 and 0.7.1"
top=fleet/perform-dev-atomicduck
one=$(find "$top/51" -name '*.duckdb' ! -name '*.new.duckdb' | head -1)
# what a batch would skip, and why: a foreign file long enough to hold
# headers, one cut short, one already at the target, one with a WAL
head -c 20000 /dev/urandom >"$top/51/foreign.duckdb"
head -c 20000 "$one" >"$top/51/cut.duckdb"
duckdb 0.8.1 "$top/51/at-target.duckdb" "CREATE TABLE t AS SELECT 1 AS i" >/dev/null
duckdb 0.6.1 "$top/52/wal.duckdb" "CREATE TABLE t (i BIGINT)" >/dev/null
duckdb 0.6.1 "$top/52/wal.duckdb" "PRAGMA disable_checkpoint_on_shutdown" \
    "INSERT INTO t SELECT range FROM range(50000)" >/dev/null
[ -s "$top/52/wal.duckdb.wal" ]; ok $? "a file whose rows are in its WAL"
# a destination that is there already
mkdir -p "out/$(dirname "${one#fleet/}")"
cp "$one" "out/${one#fleet/}"

snapshot() { find fleet out tmp -printf '%p %s %T@\n' 2>/dev/null | sort | sha256sum; }
mkdir tmp
before=$(snapshot)
run env TMPDIR="$TMP/tmp" "$DUCKMIG" batch --dry-run --jobs 3 --json fleet out
is "$rc" 1 "dry run: exit 1, since some files would be skipped"
plan=$out
is "$(contract plan <<<"$plan")" ok "dry run: the JSON has the plan's keys"
is "$(snapshot)" "$before" "dry run: nothing written in SRC, DST or TMPDIR"
is "$(jq -r '[.files, .counts.migrate, .counts.already_at_target, .counts.destination_exists, .counts.skipped] | @tsv' <<<"$plan")" \
   "$(printf '8\t4\t1\t1\t2')" "8 files: 4 to migrate, 1 already at the target, 1 destination there, 2 skipped"
is "$(jq -r '[.versions[] | "\(.source_storage):\(.source_release):\(.files)"] | join(" ")' <<<"$plan")" \
   "39:0.6.0-0.6.1:4 43:0.7.0-0.7.1:2 51:0.8.0-0.8.1:1" "files per source version, from the headers (the cut one has its header, the foreign one none)"
is "$(jq -r '[.versions[].bytes] | add' <<<"$plan")" \
   "$(find fleet -name '*.duckdb' ! -name foreign.duckdb -printf '%s\n' | awk '{ s += $1 } END { print s }')" \
   "bytes per version add up to the files' sizes"
like "$(jq -r '.plan[] | select(.source | endswith("foreign.duckdb")) | "\(.action) \(.code) \(.reason)"' <<<"$plan")" \
   "skipped not_duckdb *foreign*" "a foreign file: skipped, said so"
like "$(jq -r '.plan[] | select(.source | endswith("cut.duckdb")) | "\(.action) \(.code) \(.reason)"' <<<"$plan")" \
   "skipped truncated *truncated*" "a truncated file: skipped, said so"
like "$(jq -r '.plan[] | select(.source | endswith("at-target.duckdb")) | "\(.action) \(.reason)"' <<<"$plan")" \
   "already_at_target already at storage 51*" "a file at the target: copied as it is"
like "$(jq -r --arg k "${one#fleet/}" '.plan[] | select(.source == $k) | "\(.action) \(.reason)"' <<<"$plan")" \
   "destination_exists the destination exists*" "an existing destination: named, with what a run does about it"
# disk: 2 x the largest file, + the largest WAL, + the largest file with
# a WAL (replayed in a copy of itself)
largest=$(find fleet -name '*.duckdb' ! -name foreign.duckdb ! -name cut.duckdb -printf '%s\n' | sort -n | tail -1)
walsize=$(stat -c %s "$top/52/wal.duckdb.wal")
withwal=$(stat -c %s "$top/52/wal.duckdb")
is "$(jq -r '.disk_per_task | [.largest_file, .largest_wal, .largest_file_with_wal, .bytes, .bytes_for_jobs] | @tsv' <<<"$plan")" \
   "$(printf '%s\t%s\t%s\t%s\t%s' "$largest" "$walsize" "$withwal" $((2 * largest + walsize + withwal)) $((3 * (2 * largest + walsize + withwal))))" \
   "disk per task: 2 x largest file + largest WAL + largest file with a WAL; x --jobs"
run env TMPDIR="$TMP/tmp" "$DUCKMIG" batch --dry-run fleet out-new
is "$rc" 1 "dry run, human: exit 1"
like "$out" "*8 files*storage 39 *0.6.0-0.6.1*4 files*would: 5 migrate, 1 already_at_target, 0 destination_exists, 0 resume, 2 skipped*disk per task: 2 x largest file*" \
    "dry run, human: counts, versions, what it would do, disk"
like "$out" "*skipped *foreign.duckdb*" "... and each file it would skip, with the reason"
[ ! -e out-new ]; ok $? "... DST not created"
run "$DUCKMIG" batch --dry-run --report plan.json fleet out
is "$(jq -r .dry_run plan.json)/$(ls tmp | wc -l)" "true/0" "--report writes the plan"

# in place: a file whose backup is there is resumed from it
cp -r fleet ip
cp "ip/${one#fleet/}" "ip/${one#fleet/}.orig"
ipsnap=$(find ip -printf '%p %s %T@\n' | sort | sha256sum)
run "$DUCKMIG" batch --dry-run --in-place --json ip
is "$(jq -r --arg k "${one#fleet/}" '.counts.resume, (.plan[] | select(.source == $k) | .action)' <<<"$out" | tr '\n' ' ')" \
   "1 resume " "--in-place dry run: a file with its backup is resumed"
is "$(find ip -printf '%p %s %T@\n' | sort | sha256sum)" "$ipsnap" "... and nothing written"

# the plan on S3: the same answers, from ranged reads, nothing written
S3_PORT=$(free_port)
start_s3 "$TMP/s3" "$S3_PORT" fleet-bucket || exit 1
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=http://127.0.0.1:$S3_PORT
unset AWS_ENDPOINT_URL_S3 AWS_SESSION_TOKEN AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI
while read -r f; do
    "$DUCKMIG" cp "$f" "s3://fleet-bucket/src/${f#fleet/}" >/dev/null
done < <(find fleet -type f)
"$DUCKMIG" cp "$one" "s3://fleet-bucket/dst/${one#fleet/}" >/dev/null
listing=$("$DUCKMIG" ls s3://fleet-bucket/)
run "$DUCKMIG" batch --dry-run --jobs 3 --json s3://fleet-bucket/src s3://fleet-bucket/dst
is "$rc" 1 "S3 dry run: exit 1"
is "$(jq -c '[.counts, .versions, (.disk_per_task | del(.largest_source))]' <<<"$out")" \
   "$(jq -c '[.counts, .versions, (.disk_per_task | del(.largest_source))]' <<<"$plan")" "S3 dry run: the same plan as the local one"
is "$("$DUCKMIG" ls s3://fleet-bucket/)" "$listing" "S3 dry run: nothing written in the bucket"

# inspect reads S3 keys and prefixes from their headers
run "$DUCKMIG" inspect --json "s3://fleet-bucket/src/${one#fleet/}"
is "$rc/$(jq -r '[.storage_version, .size, .engine] | @tsv' <<<"$out")" \
   "0/$(printf '39\t%s\t0.6.1' "$(stat -c %s "$one")")" "inspect s3://bucket/key: version, size, engine"
is "$(contract inspect <<<"$out")" ok "... with the contract's keys"
run "$DUCKMIG" inspect --json s3://fleet-bucket/src/perform-dev-atomicduck/52/
is "$rc" 0 "inspect s3://bucket/prefix/: exit 0"
is "$(jq -r 'select(.path | endswith("/wal.duckdb")) | [.storage_version, .wal] | @tsv' <<<"$out")" "$(printf '39\ttrue')" \
   "... every file under it, with its WAL"
is "$(wc -l <<<"$out")" 3 "... the three files under 52/"
run "$DUCKMIG" inspect s3://fleet-bucket/src/perform-dev-atomicduck/51/foreign.duckdb
is "$rc" 4 "inspect of a foreign S3 object: exit 4"
run "$DUCKMIG" inspect s3://fleet-bucket/src/perform-dev-atomicduck/51/cut.duckdb
is "$rc" 5 "inspect of a truncated S3 object: exit 5 (its size from S3, its header from a ranged read)"
run "$DUCKMIG" inspect s3://fleet-bucket/nothing/
is "$rc" 17 "inspect of an empty prefix: exit 17"
unset AWS_ENDPOINT_URL

# the JSON contract, and --report
rm -f "$top/51/foreign.duckdb" "$top/51/cut.duckdb"
rm -rf out
run "$DUCKMIG" batch --jobs 2 --json --report batch.json fleet out
is "$rc" 0 "batch: exit 0"
is "$(contract batch <<<"$out")" ok "batch --json: the contract's keys in every result"
is "$(jq -c 'del(.seconds, .files_per_second, .results[].seconds)' batch.json)" \
   "$(jq -c 'del(.seconds, .files_per_second, .results[].seconds)' <<<"$out")" "--report FILE holds the same document"
is "$(jq -r --arg k "${one#fleet/}" '.results[] | select(.source == $k) | [.status, .source_storage, .source_release, .destination_storage, .destination_release] | @tsv' <<<"$out")" \
   "$(printf 'migrated\t39\t0.6.0-0.6.1\t51\t0.8.0-0.8.1')" "batch: versions as storage and releases"
run "$DUCKMIG" migrate --json --report migrate.json "$one" m.duckdb
is "$rc/$(contract migrate <<<"$out")" "0/ok" "migrate --json: the contract's keys"
is "$(jq -r '[.status, .source, .destination, .source_storage, .destination_storage, .report.indexes.all_present] | @tsv' migrate.json)" \
   "$(printf 'migrated\t%s\tm.duckdb\t39\t51\ttrue' "$one")" "migrate --report FILE: the same outcome"
run "$DUCKMIG" migrate --json "$top/51/nothing.duckdb" m2.duckdb
is "$rc/$(contract migrate <<<"$out")/$(jq -r '[.status, .code, .exit_status] | @tsv' <<<"$out")" \
   "3/ok/$(printf 'failed\tio\t3')" "a failed migrate: the same keys, the error's code"
run "$DUCKMIG" verify --json "$one" m.duckdb
is "$rc/$(contract verify <<<"$out")/$(jq -r .status <<<"$out")" "0/ok/match" "verify --json: the contract's keys"
run "$DUCKMIG" inspect --json "$one"
is "$(contract inspect <<<"$out")" ok "inspect --json: schema_version and command"
run "$DUCKMIG" migrate --report no-such-dir/r.json "$one" m3.duckdb
is "$rc" 3 "a report that cannot be written: exit 3"
like "$err" "*no-such-dir*" "... naming it"

# an output that is a device is refused, not replaced: the file written
# beside it and renamed onto it put a regular file in place of /dev/null
# (run as root, the suite's /dev/null was once found so). A device of our
# own first (root only), so that a regression breaks it, not the
# machine's /dev/null
if [ "$(id -u)" -eq 0 ] && mknod -m 666 dev-null c 1 3 2>/dev/null; then
    run "$DUCKMIG" migrate --report dev-null "$one" m6.duckdb
    like "$rc:$err" "2:*'dev-null' is not a regular file*" "migrate --report DEVICE: refused, named"
    run "$DUCKMIG" batch --dry-run --report "$TMP/dev-null" fleet out-dev
    like "$rc:$err" "2:*'$TMP/dev-null' is not a regular file*" "batch --report DEVICE: the same"
    run "$DUCKMIG" cp "$one" dev-null
    like "$rc:$err" "2:*dev-null' is not a regular file*" "cp to a DEVICE: the same"
    run "$DUCKMIG" migrate --force "$one" dev-null
    like "$rc:$err" "2:*'dev-null' is not a regular file*" "migrate --force to a DEVICE: the same"
    [ -c dev-null ]; ok $? "... and the device is still one"
    [ -c dev-null ] && run "$DUCKMIG" batch --dry-run --report /dev/null fleet out-dev
    like "$rc:$err" "2:*'/dev/null' is not a regular file*" "batch --report /dev/null: refused"
    [ -c /dev/null ]; ok $? "... and /dev/null is still a device"
else
    skip "a device of our own needs root"
fi

# progress: migrate's tables and rows at info level when stderr is no
# terminal (DUCKMIG_PROGRESS_SECONDS=0: at every step), on a terminal a
# line drawn in place and cleared before the result
run env DUCKMIG_PROGRESS_SECONDS=0 "$DUCKMIG" migrate "$one" m4.duckdb
like "$err" "*migrate: $one: 1/1 tables, 2000 rows copied; building indexes*verifying*" "migrate: tables and rows copied, at info level"
run script -qec "\"$DUCKMIG\" migrate \"$one\" m5.duckdb" /dev/null
like "$out" "*"$'\r\e[K'"migrate: 1/1 tables, 2000 rows copied; verifying"$'\r\e[K'"*-> m5.duckdb: migrated*" \
    "on a terminal: one line redrawn, cleared before the result"

# batch: a job's log lines name its source, never the job's folder; on a
# terminal the progress line is redrawn below each log line
rm -rf out-tty
run script -qec "\"$DUCKMIG\" batch --jobs 2 fleet out-tty" /dev/null
[[ "$out" != *duckmig-batch-* && "$out" != *'/in-'* ]]; ok $? "no log line names a job's temporary files"
like "$out" "*migrate: efs:${one#fleet/}: storage 39 -> DuckDB 0.8.1*" "... a job's line names its source"
# every log line starts at a cleared line: the progress line was wiped
# before it, and is drawn again after it
bad=$(tr '\r' '\n' <<<"$out" | grep -c 'files, [0-9]* failed.*duckmig: \|duckmig: .*files, [0-9]* failed' || true)
is "$bad" 0 "no log line shares its line with the progress line"
like "$out" *$'\e[K'"duckmig: batch: ${one#fleet/}: migrated"*$'\n'*"batch: "*" files, 0 failed"* \
    "a log line, then the progress line below it"
done_testing
