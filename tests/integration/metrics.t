#!/usr/bin/env bash
# metrics.t - what a consumer tells the outside while it runs, against a
# real RabbitMQ node: the Prometheus endpoint (--metrics-port) whose
# counters move with each job, good and failing; the EMF lines
# (DUCKMIG_METRICS=emf) that CloudWatch reads, each parsed as JSON and
# checked for its _aws directive; ECS task scale-in protection on then
# off around each job, against a fake ECS agent, and a failing agent
# that is said and counted but stops nothing; the heartbeat file and
# `duckmig health` (fresh, stale, missing); a broker that cannot be
# reached: a bounded number of attempts, each said, then exit 15.
. "$(dirname "$0")/../lib.sh"
release_engines
cd "$TMP"

start_rabbit "$TMP/rmq" || exit 1
A_PORT=$(free_port)
mkdir agent
start_server agent.out python3 "$ROOT/tests/servers/fake-ecs-agent.py" "$A_PORT" agent || exit 1
printf '{"host":"127.0.0.1","port":%s,"username":"guest","password":"guest","vhost":"/"}' "$RABBIT_PORT" >rabbit.json
unset DB_SECRET ECS_AGENT_URI DUCKMIG_METRICS DUCKMIG_METRICS_PORT DUCKMIG_HEARTBEAT_FILE
export RABBIT_SECRET=$TMP/rabbit.json MIGRATE_SRC=$TMP/efs-src/ MIGRATE_DST=$TMP/efs-dst/
export BATCH_DOWNLOAD=$TMP/dl DUCKDB_MIGRATE_VERSION=duckdb0.8.1 DUCKMIG_RETRY_BASE_MS=20 RABBIT_HEARTBEAT=5
mkdir -p efs-src/t1 efs-dst dl
"$DUCKMIG_HELPER" sql --engine 0.6.1 efs-src/t1/good.duckdb \
    "CREATE TABLE t AS SELECT range AS id, 'row ' || range AS label FROM range(5000)" >/dev/null
printf 'garbage that is long enough to be read as a header....%.0s' $(seq 200) >efs-src/t1/broken.duckdb
Q=migrate_duckdb_release
msg() { printf '{"source_datastore":"efs","destination_datastore":"efs","key":"t1/%s"}\n' "$1"; }

# consume checks at its start that its queue is there: publish declares it
"$DUCKMIG_HELPER" publish --raw "$Q" </dev/null >/dev/null 2>&1
ok $? "the queues are declared (publish --raw, no message)"

M_PORT=$(free_port)
ECS_AGENT_URI=http://127.0.0.1:$A_PORT DUCKMIG_METRICS=emf DUCKMIG_METRICS_INTERVAL=1 \
    DUCKMIG_HEARTBEAT_FILE=$TMP/heartbeat \
    "$DUCKMIG" consume --metrics-port "$M_PORT" --metrics-address 127.0.0.1 >emf.out 2>c.log &
cpid=$!
_pids+=("$cpid")
scrape() { curl -fsS --max-time 10 "http://127.0.0.1:$M_PORT/metrics"; }
metric() { scrape | awk -v m="$1" '$1 == m { print $2 }'; }
wait_for() { # wait_for CMD...: until it succeeds, 100 s at most
    local i
    for i in $(seq 400); do "$@" && return 0; sleep 0.25; done
    return 1
}
metric_is() { [ "$(metric "$1")" = "$2" ]; }
lines_in() { [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; }

wait_for grep -q 'connected, waiting' c.log
ok $? "the consumer connects" || diag "$(cat c.log)"
run scrape
is "$rc" 0 "the endpoint answers GET /metrics"
like "$out" "*# HELP duckmig_files_total *# TYPE duckmig_files_total counter*" "with HELP and TYPE lines"
is "$(awk '$1 == "#" && $2 == "TYPE" && $4 == "counter" && $3 !~ /_total$/' <<<"$out" | wc -l)" 0 \
   "every counter is named *_total"
is "$(metric "duckmig_bytes_total{queue=\"$Q\"}")/$(metric duckmig_jobs_running)" "0/0" \
   "the consumer's queue is there from the start, at 0"
run curl -sS --max-time 10 -D - -o /dev/null "http://127.0.0.1:$M_PORT/metrics"
like "$out" "*HTTP/1.0 200*Content-Type: text/plain; version=0.0.4*" "HTTP/1.0, text format 0.0.4"
run curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$M_PORT/other"
is "$out" 404 "another path: 404"

run "$DUCKMIG" health --file "$TMP/heartbeat" --max-age 30
is "$rc" 0 "health: the running consumer's heartbeat is fresh"
run env DUCKMIG_HEARTBEAT_FILE="$TMP/heartbeat" "$DUCKMIG" health
is "$rc" 0 "... found through DUCKMIG_HEARTBEAT_FILE"

# a good file
msg good.duckdb | "$DUCKMIG" publish --raw "$Q" 2>/dev/null
wait_for metric_is "duckmig_files_total{queue=\"$Q\",status=\"migrated\"}" 1
ok $? "a migrated file counts in duckmig_files_total{status=migrated}"
is "$(metric "duckmig_bytes_total{queue=\"$Q\"}")" "$(stat -c %s efs-src/t1/good.duckdb)" "... its bytes in duckmig_bytes_total"
awk '$1 ~ /^duckmig_job_seconds_total/ && $2 > 0 { found = 1 } END { exit !found }' <<<"$(scrape)"
ok $? "... its time in duckmig_job_seconds_total"
is "$(scrape | grep -c '^duckmig_failures_total')" 0 "... and no failure"
wait_for lines_in agent/protection 2
is "$(cat agent/protection)" '{"ExpiresInMinutes": 120, "ProtectionEnabled": true}
{"ProtectionEnabled": false}' "task protection: enabled before the job, disabled after"

# a failing file
msg broken.duckdb | "$DUCKMIG" publish --raw "$Q" 2>/dev/null
wait_for metric_is "duckmig_failures_total{queue=\"$Q\",reason=\"not_duckdb\"}" 1
ok $? "a file that is not DuckDB counts in duckmig_failures_total{reason=not_duckdb}"
is "$(metric "duckmig_files_total{queue=\"$Q\",status=\"failed\"}")/$(metric "duckmig_files_total{queue=\"$Q\",status=\"migrated\"}")" \
   "1/1" "... and in duckmig_files_total{status=failed}; migrated stays 1"
wait_for lines_in agent/protection 4
is "$(sed -n '3,4p' agent/protection | jq -r .ProtectionEnabled | paste -sd' ')" "true false" "... protected around that job too"

# the agent fails: said, counted, and the job is done all the same
touch agent/fail
msg good.duckdb | "$DUCKMIG" publish --raw "$Q" 2>/dev/null
wait_for metric_is "duckmig_files_total{queue=\"$Q\",status=\"already_done\"}" 1
ok $? "with the ECS agent failing, the job still runs (already_done)"
wait_for metric_is duckmig_task_protection_failures_total 2
ok $? "... both protection calls counted as failures"
like "$(cat c.log)" "*task protection on: HTTP 500: the ECS API is unavailable*" "... and said in the log"
rm agent/fail
is "$(wc -l <agent/protection)" 4 "... nothing was recorded by the agent then"

# EMF: a summary comes every DUCKMIG_METRICS_INTERVAL; stop, then check
wait_for grep -q '"event":"summary"' emf.out
ok $? "an EMF summary line comes each interval"
kill -TERM "$cpid"
wait "$cpid"
is "$?" 0 "SIGTERM: the consumer exits 0"
run python3 - emf.out <<'PY'
import json, sys
jobs, files, failures, bad = [], 0, 0, []
for n, line in enumerate(open(sys.argv[1]), 1):
    o = json.loads(line)
    for d in o["_aws"]["CloudWatchMetrics"]:
        if d["Namespace"] != "duckmig":
            bad.append("namespace %d" % n)
        for dims in d["Dimensions"]:
            bad += ["dimension %s %d" % (k, n) for k in dims if not isinstance(o.get(k), str)]
        for m in d["Metrics"]:
            if not isinstance(o.get(m["Name"]), (int, float)) or "Unit" not in m:
                bad.append("metric %s %d" % (m["Name"], n))
    if not isinstance(o["_aws"]["Timestamp"], int):
        bad.append("timestamp %d" % n)
    if o["event"] == "job":
        jobs.append("%s:%s:%s" % (o["Status"], o.get("Reason", "-"), o["Queue"]))
    else:
        files += o["Files"]
        failures += o["Failures"]
print(" ".join(jobs), files, failures, " ".join(bad) or "ok")
PY
is "$rc" 0 "every EMF line parses as JSON"
is "$out" "migrated:-:$Q failed:not_duckdb:$Q already_done:-:$Q 3 1 ok" \
   "one job line per job (status, reason, queue); the summaries add up to 3 files, 1 failure; every dimension and metric is a member"
is "$(grep '"event":"job"' emf.out | head -1 | jq -c '._aws.CloudWatchMetrics[0].Dimensions')" '[["Queue","Status"]]' "a job line: dimensions [Queue, Status]"
is "$(grep '"Reason"' emf.out | head -1 | jq -c '._aws.CloudWatchMetrics[0].Dimensions')" '[["Queue","Status"],["Queue","Reason"]]' \
   "a failure's line: also [Queue, Reason]"
is "$(grep '"event":"summary"' emf.out | head -1 | jq -c '[._aws.CloudWatchMetrics[0].Dimensions, [._aws.CloudWatchMetrics[0].Metrics[].Name]]')" \
   '[[["Queue"]],["Files","Bytes","Seconds","Failures"]]' "a summary line: dimension [Queue]; files, bytes, seconds, failures"
is "$(grep '"event":"summary"' emf.out | jq -c '.FailuresByReason | select(length > 0)')" '{"not_duckdb":1}' "the summaries give failures by reason"

# health, with the consumer gone
touch -d '5 minutes ago' heartbeat
run "$DUCKMIG" health --file "$TMP/heartbeat" --max-age 60
is "$rc" 1 "health: a heartbeat older than --max-age is unhealthy (exit 1)"
like "$out" "*unhealthy*' is 30? s old (more than 60)*" "... saying how old"
run "$DUCKMIG" health --file "$TMP/no-such-heartbeat"
is "$rc" 1 "health: a missing heartbeat is unhealthy"
run "$DUCKMIG" health --max-age x
is "$rc" 2 "health: a bad --max-age is a usage error"

# batch writes the same EMF lines, on stderr (stdout is its report)
run env DUCKMIG_METRICS=emf "$DUCKMIG" batch --json --jobs 1 efs-src batch-out
is "$(jq -r '.counts.migrated, .counts.failed' <<<"$out" | paste -sd' ')" "1 1" "batch --json: its report, on stdout, unchanged"
is "$(grep '^{' <<<"$err" | jq -r 'select(.event == "job") | .Queue + ":" + .Status' | sort | paste -sd' ')" \
   "batch:failed batch:migrated" "... and an EMF line per job on stderr, queue 'batch'"
is "$(grep '^{' <<<"$err" | jq -r 'select(.event == "summary") | .Files')" 2 "... and a summary"

# settings that cannot work are refused at start
run env DUCKMIG_METRICS=statsd "$DUCKMIG" consume
is "$rc/$err" "2/duckmig: DUCKMIG_METRICS=statsd: not one of none, emf" "DUCKMIG_METRICS: emf or none"
run "$DUCKMIG" consume --metrics-port "$A_PORT" --metrics-address 127.0.0.1
is "$rc" 3 "a metrics port already taken: exit 3, before taking any message"
like "$err" "*cannot serve metrics on 127.0.0.1:$A_PORT*in use*" "... saying so"
run "$DUCKMIG" consume --metrics-port 70000
is "$rc" 2 "a metrics port out of range: usage"

# the broker cannot be reached: bounded attempts, each said, then exit 15
DEAD_PORT=$(free_port)
printf '{"host":"127.0.0.1","port":%s,"username":"guest","password":"guest","vhost":"/"}' "$DEAD_PORT" >dead.json
run env RABBIT_SECRET="$TMP/dead.json" DUCKMIG_CONNECT_ATTEMPTS=3 DUCKMIG_RETRY_BASE_MS=10 \
    DUCKMIG_HEARTBEAT_FILE="$TMP/hb-dead" timeout 120 "$DUCKMIG" consume
is "$rc" 15 "an unreachable broker: consume exits 15 (network) for ECS to restart it"
is "$(grep -c 'broker unreachable: attempt' <<<"$err")" 3 "... after 3 attempts (DUCKMIG_CONNECT_ATTEMPTS)"
like "$err" "*attempt 1 of 3 failed (*); next attempt in *s*attempt 2 of 3 failed (*); next attempt in *s*attempt 3 of 3 failed (*); giving up*" \
   "... each attempt said, with the delay before the next"
[ -f hb-dead ]; ok $? "... touching its heartbeat while it tries"

done_testing
