#!/usr/bin/env bash
# fleet.t - the seed's pipeline end to end, on real servers started here:
# RabbitMQ, PostgreSQL, s3rver, and the fake Secrets Manager. Publish from
# the goal table in all four directions, consumers migrate every file,
# the ledger records it all; then the faults: poison messages, a consumer
# killed with SIGKILL mid-migration, RabbitMQ restarted mid-run, SIGTERM
# during a job, redelivery of finished work; a job killed mid-way (stop
# timeout, broker restart) leaves no folder in BATCH_DOWNLOAD, and one of
# a killed consumer is removed by the next; a FIFO, a destination that
# is its own source, goal rows and file names publish must not take.
. "$(dirname "$0")/../lib.sh"
release_engines
cd "$TMP"

start_rabbit "$TMP/rmq" || exit 1
start_postgres "$TMP/pg" || exit 1
S3_PORT=$(free_port)
start_s3 "$TMP/s3" "$S3_PORT" perform-dev-raw perform-dev-atomicduck || exit 1
mkdir -p aws/secrets
F_PORT=$(free_port)
start_server aws.out python3 "$ROOT/tests/servers/fake-aws.py" "$F_PORT" aws || exit 1

export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT
export AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:$F_PORT
unset AWS_ENDPOINT_URL AWS_SESSION_TOKEN AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI
# the database secret from Secrets Manager (RDS shape), RabbitMQ's from a file
printf '{"engine":"postgres","host":"127.0.0.1","port":%s,"username":"postgres","password":"unused","dbname":"postgres"}' \
    "$PG_PORT" >aws/secrets/perform_database_dev
printf '{"host":"127.0.0.1","port":%s,"username":"guest","password":"guest","vhost":"/"}' "$RABBIT_PORT" >rabbit.json
export DB_SECRET=perform_database_dev RABBIT_SECRET=$TMP/rabbit.json
export SOURCE_BUCKET=perform-dev-raw DESTINATION_BUCKET=perform-dev-atomicduck
export MIGRATE_SRC=$TMP/efs-src/ MIGRATE_DST=$TMP/efs-dst/ BATCH_DOWNLOAD=$TMP/batch_download
export DUCKDB_MIGRATE_VERSION=duckdb0.8.1 DUCKMIG_RETRY_BASE_MS=20 RABBIT_HEARTBEAT=5
# the broker is restarted below: reconnects (20 ms apart, at most 600 ms)
# must outlast that, however slow the node is to come back
export DUCKMIG_CONNECT_ATTEMPTS=1000
mkdir -p efs-src efs-dst
psql() { command psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qtAX "$@"; }

# the goal table: two trackers on two sites
psql -f "$ROOT/deploy/sql/goal-sample.sql" >/dev/null
psql -c "INSERT INTO goal VALUES (9324670152232788, 56, 'a'), (325929995912186, 12, 'b')"

# each tracker: a 0.6.1 *.duckdb and a 0.7.1 *.new.duckdb, with an index;
# the first tracker's .new file is large enough for the big queue
mkfile() { # mkfile RELEASE PATH ROWS
    "$DUCKMIG_HELPER" sql --engine "$1" "$2" \
        "CREATE TABLE cases (id BIGINT PRIMARY KEY, site INTEGER, label VARCHAR, at TIMESTAMP)" \
        "CREATE INDEX cases_site ON cases (site)" \
        "INSERT INTO cases SELECT range, range % 7, 'case-' || range, TIMESTAMP '2023-01-01' + INTERVAL (range) SECOND FROM range($3)" >/dev/null
}
# big enough that a job is still running when the tests kill it (the
# engines are release builds in both variants, and a sanitizer build's
# job forked by its job zygote starts as fast as a release one's)
big_rows=300000
for t in 9324670152232788 325929995912186; do
    mkdir -p "src/$t"
    mkfile 0.6.1 "src/$t/VolumeCases-$t.duckdb" 2000
    mkfile 0.7.1 "src/$t/VolumeCases-$t.new.duckdb" $([ $t = 9324670152232788 ] && echo "$big_rows" || echo 3000)
    echo "not a database" >"src/$t/notes.txt"
done
big_size=$(stat -c %s src/9324670152232788/VolumeCases-9324670152232788.new.duckdb)
export BIG_FILE_THRESHOLD=$((big_size - 1))
for t in 9324670152232788 325929995912186; do
    for f in src/$t/*; do
        "$DUCKMIG" cp "$f" "s3://perform-dev-raw/tracker-migration/$t/${f##*/}" >/dev/null
    done
    mkdir -p "efs-src/$t"
    cp src/$t/* "efs-src/$t/"
done

# the ledger's table, made once by an admin role: no runtime command
# creates it
run "$DUCKMIG" ledger init
is "$rc" 0 "ledger init"

# dry run: the seed's four shapes
run "$DUCKMIG" publish --dry-run --from s3 --to s3
is "$rc/$(wc -l <<<"$out")" "0/4" "dry run: 4 messages for 2 trackers, notes.txt left out"
is "$(jq -c '.message' <<<"$out" | head -1)" \
   '{"source_datastore":"s3","destination_datastore":"s3","source_bucket":"perform-dev-raw","destination_bucket":"perform-dev-atomicduck","tracker-id":"325929995912186","source_key":"tracker-migration/325929995912186/VolumeCases-325929995912186.duckdb","dest_key":"12/325929995912186/VolumeCases-325929995912186.duckdb"}' \
   "S3 to S3: the seed's fields, dest_key {site}/{tracker}/{file}"
is "$(jq -r 'select(.message.source_key | endswith("88.new.duckdb")) | .queue' <<<"$out")" "migrate_duckdb_release_big" \
   "the file above the threshold goes to the big queue"
is "$(jq -r '.queue' <<<"$out" | sort | uniq -c | awk '{ print $1, $2 }' | tr '\n' ' ')" \
   "3 migrate_duckdb_release 1 migrate_duckdb_release_big " "... the others to the small one"
run "$DUCKMIG" publish --dry-run --from efs --to efs
is "$(jq -c '.message' <<<"$out" | head -1)" \
   '{"source_datastore":"efs","destination_datastore":"efs","key":"325929995912186/VolumeCases-325929995912186.duckdb"}' "EFS to EFS: the seed's fields"
run "$DUCKMIG" publish --dry-run --from s3 --to efs
is "$(jq -c '.message' <<<"$out" | head -1)" \
   '{"source_datastore":"s3","destination_datastore":"efs","source_bucket":"perform-dev-raw","tracker-id":"325929995912186","source_key":"tracker-migration/325929995912186/VolumeCases-325929995912186.duckdb","key":"325929995912186/VolumeCases-325929995912186.duckdb"}' \
   "S3 to EFS: the seed's fields"
run "$DUCKMIG" publish --dry-run --from efs --to s3
is "$(jq -c '.message' <<<"$out" | head -1)" \
   '{"source_datastore":"efs","destination_datastore":"s3","destination_bucket":"perform-dev-atomicduck","key":"325929995912186/VolumeCases-325929995912186.duckdb","dest_key":"12/325929995912186/VolumeCases-325929995912186.duckdb"}' \
   "EFS to S3: the seed's fields"
is "$(rabbitctl list_queues name messages 2>/dev/null | grep -c migrate)" 0 "a dry run queues nothing"
like "$(cat aws/secret-fetches)" "*perform_database_dev*" "DB_SECRET came from Secrets Manager"

# publish three directions now; EFS to EFS writes the same keys under
# MIGRATE_DST as S3 to EFS, so it runs later, into a fresh MIGRATE_DST
for dir in "s3 s3" "s3 efs"; do
    set -- $dir
    run "$DUCKMIG" publish --from "$1" --to "$2"
    is "$rc" 0 "publish $1 -> $2"
done
# S3 to S3 and EFS to S3 would write the same dest_key: another bucket
run env DESTINATION_BUCKET=perform-dev-raw "$DUCKMIG" publish --from efs --to s3
is "$rc" 0 "publish efs -> s3"
depth() { rabbitctl list_queues name messages | awk -v q="$1" '$1 == q { print $2 }'; }
is "$(depth migrate_duckdb_release)/$(depth migrate_duckdb_release_big)" "9/3" \
   "12 messages queued: 9 small, 3 big"
is "$(psql -c "SELECT count(*) FROM duckmig_ledger WHERE status = 'queued'")" 12 "the ledger has 12 queued files"

# poison messages, published as they are
printf '%s\n' 'not json' '{"source_datastore":"ftp","destination_datastore":"s3"}' \
    '{"source_datastore":"efs","destination_datastore":"efs"}' \
    '{"source_datastore":"efs","destination_datastore":"efs","key":"../../etc/passwd"}' |
    "$DUCKMIG" publish --raw migrate_duckdb_release 2>/dev/null
# a file that is not DuckDB (the EFS to EFS run finds it a second time:
# its name ends with .duckdb)
printf 'garbage that is long enough to be read as a header....%.0s' $(seq 200) >efs-src/325929995912186/Broken.duckdb
echo '{"source_datastore":"efs","destination_datastore":"efs","key":"325929995912186/Broken.duckdb"}' |
    "$DUCKMIG" publish --raw migrate_duckdb_release 2>/dev/null

# two small consumers and one big one
consumer() { # consumer NAME QUEUE: start one; its pid in $cpid
    QUEUE_NAME="$2" "$DUCKMIG" consume >"$1.log" 2>&1 &
    cpid=$!
    _pids+=("$cpid")
}
consumer c1 migrate_duckdb_release; c1=$cpid
consumer c2 migrate_duckdb_release; c2=$cpid
consumer cb migrate_duckdb_release_big; cb=$cpid
wait_ledger() { # wait_ledger SQL-CONDITION WANT [SECONDS]
    local i
    for i in $(seq $((${3:-120} * 4))); do
        [ "$(psql -c "SELECT count(*) FROM duckmig_ledger WHERE $1")" = "$2" ] && return 0
        sleep 0.25
    done
    return 1
}
wait_ledger "status = 'migrated'" 12 180; ok $? "S3 to S3, S3 to EFS, EFS to S3: 12 files migrated"
mv efs-dst efs-dst-from-s3
mkdir efs-dst
run "$DUCKMIG" publish --from efs --to efs
is "$rc" 0 "publish efs -> efs"
wait_ledger "status = 'migrated'" 16 180; ok $? "EFS to EFS: all 16 files migrated"
for i in $(seq 100); do
    [ "$(depth migrate_duckdb_release.dead)" = 6 ] && break
    sleep 0.2
done
is "$(depth migrate_duckdb_release.dead)" 6 "the 6 poison messages are dead-lettered"
kill -0 "$c1" && kill -0 "$c2"; ok $? "... and the consumers keep running"
run "$DUCKMIG" dlq list --json
is "$(jq -r .reason <<<"$out" | sed 's/ (.*//; s/: .*//' | sort | tr '\n' '|')" \
   "efs:325929995912186/Broken.duckdb|efs:325929995912186/Broken.duckdb|key '../../etc/passwd' has a '..' component|message|message|message|" \
   "each dead letter carries its reason, naming the source" || diag "$(jq -r .reason <<<"$out")"
like "$(jq -r .reason <<<"$out" | grep Broken | head -1)" "*not a DuckDB file*" "... not a DuckDB file"
like "$(jq -r .reason <<<"$out")" "*invalid JSON*unknown source_datastore 'ftp'*no \"key\"*" "... invalid JSON, unknown datastore, missing field"

# every destination holds a verified 0.8.1 file with its index
check_dst() { # check_dst LOCAL-COPY SOURCE-COPY NAME
    [ "$("$DUCKMIG" inspect --json "$1" | jq -r .storage_version)" = 51 ] &&
        "$DUCKMIG" verify "$2" "$1" >/dev/null &&
        [ "$("$DUCKMIG_HELPER" sql --no-header --engine 0.8.1 "$1" "SELECT count(*) FROM duckdb_indexes() WHERE index_name = 'cases_site'")" = 1 ]
}
bad=0
for t in 9324670152232788 325929995912186; do
    site=$([ $t = 9324670152232788 ] && echo 56 || echo 12)
    for f in VolumeCases-$t.duckdb VolumeCases-$t.new.duckdb; do
        rm -f got
        "$DUCKMIG" cp "s3://perform-dev-atomicduck/$site/$t/$f" got >/dev/null && check_dst got "src/$t/$f" || { bad=1; diag "s3->s3 $f"; }
        rm -f got
        "$DUCKMIG" cp "s3://perform-dev-raw/$site/$t/$f" got >/dev/null && check_dst got "src/$t/$f" || { bad=1; diag "efs->s3 $f"; }
        check_dst "efs-dst/$t/$f" "src/$t/$f" || { bad=1; diag "efs->efs $f"; }
        check_dst "efs-dst-from-s3/$t/$f" "src/$t/$f" || { bad=1; diag "s3->efs $f"; }
    done
done
is "$bad" 0 "every destination, all four directions: storage 51, verified, index present"
is "$(find efs-dst -name '.*' -type f | wc -l)/$(ls -A batch_download | wc -l)" "0/0" "no temporary files left, download folder clean"
is "$(psql -c "SELECT count(*) FROM duckmig_ledger WHERE status = 'migrated' AND src_version IS NOT NULL AND dst_version = '0.8.0-0.8.1' AND dst_size > 0 AND verification IS NOT NULL AND seconds > 0")" 16 \
   "the ledger: versions, sizes, verification and timings for each"
is "$(psql -c "SELECT count(*) FROM duckmig_ledger WHERE queue = 'migrate_duckdb_release_big' AND status = 'migrated'")" 4 \
   "... 4 of them through the big queue"
run "$DUCKMIG" status --json
is "$(jq -r '.counts.migrated' <<<"$out")" 16 "status counts them"
like "$(jq -r '.failures[].error' <<<"$out")" "*not a DuckDB file*" "status lists the failures"

# redelivery of finished work: acked without redoing it
echo '{"source_datastore":"efs","destination_datastore":"efs","key":"325929995912186/VolumeCases-325929995912186.duckdb"}' |
    "$DUCKMIG" publish --raw migrate_duckdb_release 2>/dev/null
before=$(stat -c %Y.%i efs-dst/325929995912186/VolumeCases-325929995912186.duckdb)
wait_ledger "status = 'already_done' AND source = 'efs:325929995912186/VolumeCases-325929995912186.duckdb'" 1 60
ok $? "a redelivered message for a verified destination: already_done"
is "$(stat -c %Y.%i efs-dst/325929995912186/VolumeCases-325929995912186.duckdb)" "$before" "... and the destination was not rewritten"

# SIGKILL a consumer mid-migration: the other finishes the file
kill "$cb"
wait "$cb" 2>/dev/null
big_key=9324670152232788/VolumeCases-9324670152232788.new.duckdb
big_msg="{\"source_datastore\":\"efs\",\"destination_datastore\":\"efs\",\"key\":\"$big_key\"}"
big_row="source = 'efs:$big_key' AND destination = 'efs:$big_key'"
psql -c "UPDATE duckmig_ledger SET status = 'queued' WHERE $big_row"
rm -f "efs-dst/$big_key"
echo "$big_msg" | "$DUCKMIG" publish --raw migrate_duckdb_release_big 2>/dev/null
consumer k1 migrate_duckdb_release_big; k1=$cpid
wait_ledger "status = 'running' AND $big_row" 1 60
for i in $(seq 100); do compgen -G "batch_download/job-*" >/dev/null && break; sleep 0.05; done
# its job: forked by its job zygote (src/fleet/jobzygote.c), named as an
# exec'd job is
for i in $(seq 100); do job=$(pgrep -f "^duckmig __job $TMP/batch_download/job-" | head -1); [ -n "$job" ] && break; sleep 0.05; done
jz=$(pgrep -P "$k1" -f "__jobzygote " | head -1)
[ -n "$job" ] && [ -n "$jz" ] && [ "$(ps -o ppid= -p "$job" | tr -d ' ')" = "$jz" ]
jrc=$?
[ "$jrc" = 0 ] || diag "job '$job' (parent $(ps -o ppid= -p "$job")), job zygote '$jz': $(ps -o pid,ppid,args --ppid "$k1")"
ok "$jrc" "consume's job is a child of its job zygote"
kill -9 "$k1"
wait "$k1" 2>/dev/null
sleep 0.5
is "$(pgrep -f "__job $TMP/" | wc -l)" 0 "SIGKILL of a consumer takes its job process with it"
# (gone, or a zombie whose new parent has not reaped it yet)
is "$(ps -o stat= -p "$jz" | grep -v Z)" "" "... and its job zygote"
[ ! -e "efs-dst/$big_key" ]; ok $? "... and leaves no destination"
like "$(ls -A batch_download)" "job-*" "... but its job's folder, which nobody holds any more"
consumer k2 migrate_duckdb_release_big; k2=$cpid
wait_ledger "status = 'migrated' AND $big_row" 1 120
ok $? "... the message came back and another consumer finished it"
check_dst "efs-dst/$big_key" "src/$big_key"
ok $? "... and the destination is whole and verified"
is "$(ls -A batch_download)" "" "... and the consumer that started removed the dead one's folder"
like "$(cat k2.log)" "*removing $TMP/batch_download/job-*left by a duckmig that stopped*" "... saying so"

# SIGTERM during a job: back on the queue within the stop timeout, exit 0
kill "$k2"
wait "$k2" 2>/dev/null
rm -f "efs-dst/$big_key"
DUCKMIG_STOP_TIMEOUT=0 QUEUE_NAME=migrate_duckdb_release_big "$DUCKMIG" consume >k3.log 2>&1 &
k3=$!
echo "$big_msg" | "$DUCKMIG" publish --raw migrate_duckdb_release_big 2>/dev/null
for i in $(seq 200); do grep -q 'started' k3.log && break; sleep 0.1; done
kill -TERM "$k3"
t0=$(date +%s)
wait "$k3"
is "$?" 0 "SIGTERM during a job: exit 0"
ok "$([ $(($(date +%s) - t0)) -le 10 ] && echo 0 || echo 1)" "... within the stop timeout"
like "$(cat k3.log)" "*back to the queue*" "... the job was put back on the queue"
is "$(depth migrate_duckdb_release_big)" 1 "... where it waits"
is "$(ls -A batch_download)" "" "... and the killed job's folder is gone"

# RabbitMQ restarted while a job runs: the consumer kills the job and
# removes its folder; the message survives the restart, comes back and
# migrates; every consumer reconnects
psql -c "UPDATE duckmig_ledger SET status = 'queued' WHERE $big_row"
consumer k4 migrate_duckdb_release_big; k4=$cpid
wait_ledger "status = 'running' AND $big_row" 1 60
for i in $(seq 100); do compgen -G "batch_download/job-*/in-*" >/dev/null && break; sleep 0.05; done
stop_rabbit
for i in $(seq 100); do grep -q 'connection lost during the job' k4.log && break; sleep 0.1; done
sleep 0.5
is "$(ls -A batch_download)/$(pgrep -f "__job $TMP/" | wc -l)" "/0" \
   "broker gone mid-job: the job is killed and its folder removed"
start_rabbit "$TMP/rmq" "$RABBIT_PORT" || exit 1
wait_ledger "status = 'migrated' AND $big_row" 1 120
ok $? "... after the restart the message comes back, and a consumer finishes it"
check_dst "efs-dst/$big_key" "src/$big_key"
ok $? "... whole and verified"
is "$(ls -A batch_download)" "" "... leaving no folder"
echo '{"source_datastore":"efs","destination_datastore":"efs","key":"9324670152232788/VolumeCases-9324670152232788.duckdb"}' |
    "$DUCKMIG" publish --raw migrate_duckdb_release 2>/dev/null
wait_ledger "status = 'already_done' AND source = 'efs:9324670152232788/VolumeCases-9324670152232788.duckdb'" 1 60
ok $? "the consumers that were running reconnected and took a new message"
like "$(cat c1.log c2.log)" "*reconnecting*" "... saying they reconnected"
kill "$c1" "$c2" "$k4" 2>/dev/null
wait "$c1" "$c2" "$k4" 2>/dev/null

# requeue from the dead-letter queue
run "$DUCKMIG" dlq requeue --all
like "$err" "*6 of 6 messages requeued*" "dlq requeue --all sends them back"
is "$(depth migrate_duckdb_release)" 6 "... to the queue they came from"
[[ "$(cat ./*.log)" != *unused* ]]; ok $? "no secret in any consumer log"

# a message that never finishes (consumers killed, or consumer_timeout
# closing the channel) comes back without a new attempt count: the ledger
# counts for it, and it is dead-lettered instead of looping
psql -c "UPDATE duckmig_ledger SET attempts = 0, status = 'queued' WHERE $big_row"
rm -f "efs-dst/$big_key"
echo "$big_msg" | "$DUCKMIG" publish --raw migrate_duckdb_release_big 2>/dev/null
consumer k5 migrate_duckdb_release_big; k5=$cpid
wait_ledger "status = 'running' AND $big_row" 1 60
kill -9 "$k5"
wait "$k5" 2>/dev/null
DUCKMIG_MAX_ATTEMPTS=1 QUEUE_NAME=migrate_duckdb_release_big "$DUCKMIG" consume >k6.log 2>&1 &
k6=$!
_pids+=("$k6")
for i in $(seq 200); do [ "$(depth migrate_duckdb_release_big.dead)" = 1 ] && break; sleep 0.1; done
is "$(depth migrate_duckdb_release_big.dead)" 1 "a redelivered message past its attempts is dead-lettered"
like "$(QUEUE_NAME=migrate_duckdb_release_big "$DUCKMIG" dlq list 2>/dev/null)" "*redelivered after 1 attempts*consumer_timeout*" \
    "... saying why"
kill "$k6"
wait "$k6"
is "$?" 0 "an idle consumer exits 0 on SIGTERM"

# what a consumer refuses without hanging or writing: a FIFO named like a
# database, a destination that is its own source; reasons with escape
# sequences are shown escaped
mkfifo efs-src/9324670152232788/Fifo.duckdb
cp src/9324670152232788/VolumeCases-9324670152232788.duckdb efs-src/same.duckdb
same_sum=$(sha256sum efs-src/same.duckdb | cut -d' ' -f1)
printf '%s\n' '{"source_datastore":"efs","destination_datastore":"efs","key":"9324670152232788/Fifo.duckdb"}' \
    '{"source_datastore":"efs","destination_datastore":"efs","key":"same.duckdb"}' \
    '{"source_datastore":"efs","destination_datastore":"efs","key":"esc\u001b]0;owned\u0007.duckdb"}' |
    "$DUCKMIG" publish --raw refusals 2>/dev/null
run timeout 60 env QUEUE_NAME=refusals MIGRATE_DST="$MIGRATE_SRC" LOG_FORMAT=json "$DUCKMIG" consume --max-messages 3
is "$rc/$(depth refusals.dead)" "0/3" "a FIFO, a destination that is its source, a bad key: dead-lettered, no hang"
# with LOG_FORMAT=json, each outcome rides along in --json's keys
is "$(jq -r 'select(.outcome) | .outcome | [.schema_version, .command, .status, .source, (.destination != null), (has("source_storage"))] | @tsv' <<<"$err" | head -2)" \
   "$(printf '1\tconsume\tfailed\tefs:9324670152232788/Fifo.duckdb\ttrue\ttrue\n1\tconsume\tfailed\tefs:same.duckdb\ttrue\ttrue')" \
   "consume's JSON log lines carry each outcome with the contract's keys (docs/json.md)"
is "$(sha256sum efs-src/same.duckdb | cut -d' ' -f1)" "$same_sum" "... the source that was its own destination untouched"
run env QUEUE_NAME=refusals "$DUCKMIG" dlq list
like "$out" "*Fifo.duckdb*is not a file*is the source itself*" "... each with its reason"
[[ "$out$err" != *$'\e'* && "$out" == *'esc\x1b]0;owned\x07'* ]]; ok $? "dlq list shows an escape sequence escaped"
is "$(ls -A batch_download)" "" "... and no folder is left"
rm efs-src/9324670152232788/Fifo.duckdb efs-src/same.duckdb

# publish takes what the goal table and the listings give with care: a
# bad row or a bad name is skipped and said, the others published
goal="SELECT * FROM (VALUES (NULL, '1'), ('', '2'), ('..', '3'), ('x/y', '4'), ('325929995912186', E'1\n2'), ('325929995912186', '12'), ('9324670152232788', '56')) v"
run env GOAL_QUERY="$goal" "$DUCKMIG" publish --dry-run --from efs --to s3
is "$rc/$(wc -l <<<"$out")" "1/5" "bad goal rows: exit 1, the 5 files of the good rows published"
like "$err" "*row 1 *tracker is NULL*row 2 *tracker is empty*row 3 *tracker is '.' or '..'*row 4 *(a '/')*row 5 *site is holding a control character*" \
   "... each bad row named with its reason"
[[ "$err" != *$'1\n2'* ]]; ok $? "... a newline in a site shown escaped"
cp src/325929995912186/VolumeCases-325929995912186.duckdb "efs-src/325929995912186/$(printf 'Bad\xff').duckdb"
cp src/325929995912186/VolumeCases-325929995912186.duckdb "efs-src/325929995912186/$(printf 'Line\nBreak').duckdb"
run env QUEUE_SMALL=names QUEUE_BIG=names_big "$DUCKMIG" publish --from efs --to efs
is "$rc/$(depth names)/$(depth names_big)" "1/4/1" \
   "file names that are not UTF-8 or hold a newline: skipped, every other file of every tracker queued"
like "$err" '*Bad\\xff.duckdb: skipped*not UTF-8*Line\\nBreak.duckdb: skipped*control character*' "... each named, escaped"
rm efs-src/325929995912186/Bad*.duckdb efs-src/325929995912186/Line*.duckdb

done_testing
