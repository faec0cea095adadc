#!/usr/bin/env bash
# doctor.t - misconfiguration is found before any work is taken, on real
# servers started here (RabbitMQ, PostgreSQL with password logins, s3rver
# behind a fault proxy): a bad target, no engine, a wrong vhost, a
# missing queue, a wrong database password, no ledger table, a runtime
# role missing a grant, an unwritable store, a bad port, TLS against a
# plain port. `doctor` and `consume` name each one, and the messages stay
# in the queue. The ledger works with a role that has only the documented
# grants (and no CREATE), publish --dry-run writes nothing anywhere, and
# an outcome the ledger refuses puts its message back on the queue
# instead of acking it.
. "$(dirname "$0")/../lib.sh"
release_engines
cd "$TMP"
# python3 as the interpreter itself, not a version manager's shim (pyenv:
# a second a call on a busy machine); the same python3
PATH=$(dirname "$(python3 -c 'import sys; print(sys.executable)')"):$PATH

start_rabbit "$TMP/rmq" || exit 1
start_postgres "$TMP/pg" || exit 1
S3_PORT=$(free_port)
start_s3 "$TMP/s3" "$S3_PORT" dst-b || exit 1
P_PORT=$(free_port)
start_server proxy.out python3 "$ROOT/tests/servers/fault-proxy.py" "$P_PORT" "$S3_PORT" proxy.log "PUT:403:1000" || exit 1

admin() { command psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qtAX "$@"; }
# passwords for everyone but the admin, who stays trusted for this script
hba=$TMP/pg/data/pg_hba.conf
printf 'local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$hba"
admin -c "SELECT pg_reload_conf()" >/dev/null
admin -f "$ROOT/deploy/sql/goal-sample.sql" >/dev/null
admin -c "INSERT INTO goal VALUES (9324670152232788, 56, 'a')"
# the runtime role: a login, SELECT on the goal table, nothing else yet
admin -c "CREATE ROLE duckmig_rt LOGIN PASSWORD 'rt-pass'" -c "GRANT SELECT ON goal TO duckmig_rt"

dbsecret() { printf '{"host":"127.0.0.1","port":%s,"username":"%s","password":"%s","dbname":"postgres"}' "$PG_PORT" "$1" "$2"; }
rabbitsecret() { printf '{"host":"127.0.0.1","port":%s,"username":"guest","password":"guest","vhost":"%s"}' "${2:-$RABBIT_PORT}" "$1"; }
export DB_SECRET RABBIT_SECRET
DB_SECRET=$(dbsecret duckmig_rt rt-pass)
RABBIT_SECRET=$(rabbitsecret /)
export MIGRATE_SRC=$TMP/efs-src/ MIGRATE_DST=$TMP/efs-dst/ BATCH_DOWNLOAD=$TMP/batch_download
export SOURCE_DATASTORE=efs DESTINATION_DATASTORE=efs
export DUCKDB_MIGRATE_VERSION=duckdb0.8.1 DUCKMIG_RETRY_BASE_MS=10 RABBIT_HEARTBEAT=5
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_SESSION_TOKEN SOURCE_BUCKET DESTINATION_BUCKET \
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI QUEUE_NAME
mkdir -p efs-src/9324670152232788 efs-dst
for f in A B; do
    "$DUCKMIG_HELPER" sql --engine 0.6.1 "efs-src/9324670152232788/$f.duckdb" \
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR)" \
        "INSERT INTO t SELECT range, 'v' || range FROM range(500)" >/dev/null
done
# depth QUEUE: messages ready in QUEUE, over AMQP (rabbit_ready: 0.1 s a
# call, where rabbitctl takes 2-4 s); asked when no consumer runs, when
# ready is all there is. depth_all QUEUE: ready and unacknowledged,
# through rabbitctl
depth() { rabbit_ready "$1"; }
depth_all() { rabbitctl list_queues name messages | awk -v q="$1" '$1 == q { print $2 }'; }
queues() { rabbitctl list_queues name | grep -c migrate; }
ledger_table() { admin -c "SELECT to_regclass('duckmig_ledger') IS NOT NULL"; }

# ---- before `ledger init`: the table is named as missing, and nothing
# (not even a dry run) creates it
run "$DUCKMIG" doctor
is "$rc" 17 "doctor without the ledger table: exit 17 (not found)"
like "$out" "*FAIL  ledger: the table duckmig_ledger does not exist*fix: run \`duckmig ledger init --grant duckmig_rt\`*" \
   "... naming the check, what is wrong and the fix"
like "$out" "*ok    engine: target DuckDB 0.8.1 opens a database*ok    broker: logged in as 'guest' on vhost '/'*ok    goal query*" \
   "... and the checks that passed"
run "$DUCKMIG" publish --dry-run --from efs --to efs
is "$rc" 17 "publish --dry-run without the ledger table: exit 17"
like "$err" "*publish: ledger: the table duckmig_ledger does not exist*" "... saying why"
is "$(ledger_table)/$(queues)" "f/0" "... and it created no table and declared no queue"
run "$DUCKMIG" ledger init
is "$rc" 11 "the runtime role cannot create the ledger (no CREATE on the schema)"
is "$(ledger_table)" "f" "... and nothing was made"
run env DB_SECRET="$(dbsecret postgres x)" "$DUCKMIG" ledger init --grant duckmig_rt
is "$rc" 0 "ledger init as the admin role, granting the runtime role"
is "$(admin -c "SELECT string_agg(privilege_type, ',' ORDER BY privilege_type) FROM information_schema.role_table_grants WHERE grantee = 'duckmig_rt' AND table_name = 'duckmig_ledger'")" \
   "INSERT,SELECT,UPDATE" "... which gets SELECT, INSERT, UPDATE on duckmig_ledger, nothing more"

# ---- the day-one path with the least-privileged role
run "$DUCKMIG" doctor
is "$rc" 0 "doctor: every check passes"
like "$out" "*queue migrate_duckdb_release: absent; publish declares it*all checks passed*" \
   "... a queue not declared yet is fine before the first publish"
run "$DUCKMIG" doctor --json
is "$rc/$(jq -r '.ok' <<<"$out")/$(jq -r '[.checks[].name] | join(",")' <<<"$out")" \
   "0/true/engine,secret RABBIT_SECRET,broker,queue migrate_duckdb_release,queue migrate_duckdb_release_big,secret DB_SECRET,database,goal query,ledger,source S3,source EFS,destination S3,destination EFS,download" \
   "doctor --json: every check, by name"
run "$DUCKMIG" publish --dry-run --from efs --to efs
is "$rc/$(wc -l <<<"$out")" "0/2" "publish --dry-run: two messages printed"
is "$(queues)/$(admin -c 'SELECT count(*) FROM duckmig_ledger')" "0/0" \
   "... and nothing written anywhere: no queue, no ledger row"
run env RABBIT_SECRET="$(rabbitsecret / "$(free_port)")" "$DUCKMIG" publish --dry-run --from efs --to efs
is "$rc/$out" "15/" "publish --dry-run with no broker listening: exit 15, nothing printed"
like "$err" "*publish: broker: RabbitMQ: cannot connect*; fix: *" "... naming the broker"
run "$DUCKMIG" publish --from efs --to efs
is "$rc/$(depth migrate_duckdb_release)" "0/2" "publish with the runtime role: two messages queued"
is "$(admin -c "SELECT count(*) FROM duckmig_ledger WHERE status = 'queued'")" 2 "... and two ledger rows"

# ---- each misconfiguration: named by doctor and by consume, which takes
# nothing (both messages stay in the queue)
mkdir -p no-engines
printf '{"host":"127.0.0.1","port":"abc","username":"guest","password":"guest"}' >badport.json
# check NAME EXIT PATTERN ENV...: doctor --for consume and consume, with ENV
check() {
    local name=$1 want=$2 pattern=$3
    shift 3
    run timeout 120 env "$@" "$DUCKMIG" doctor --for consume
    is "$rc" "$want" "$name: doctor exits $want"
    like "$out" "*FAIL  $pattern*" "... naming it, with the fix"
    run timeout 120 env "$@" "$DUCKMIG" consume --max-messages 1
    is "$rc" "$want" "$name: consume exits $want before taking a message"
    like "$err" "*consume: $pattern*" "... naming it, with the fix"
    is "$(depth migrate_duckdb_release)" 2 "... and both messages are still in the queue"
}
check "a target that is no release" 2 "engine: 'banana' is not a DuckDB release*; fix: set DUCKDB_MIGRATE_VERSION*" \
    DUCKDB_MIGRATE_VERSION=banana
check "a target older than 0.6" 7 "engine: target DuckDB 0.5.0 is older than 0.6*; fix: *0.6.1 or newer*" \
    DUCKDB_MIGRATE_VERSION=0.5.0
check "no engine for the target" 8 "engine: DuckDB 0.8.1 is not installed*; fix: install it: scripts/get-duckdb 0.8.1*" \
    DUCKMIG_ENGINES="$TMP/no-engines"
check "a vhost the broker does not have" 17 "broker: RabbitMQ: vhost 'nope' not found*; fix: *list_vhosts*" \
    RABBIT_SECRET="$(rabbitsecret nope)"
check "a queue that does not exist" 17 "queue migrate_duckdb_relase: queue 'migrate_duckdb_relase' does not exist*; fix: check QUEUE_NAME*" \
    QUEUE_NAME=migrate_duckdb_relase
check "a wrong database password" 16 "database: PostgreSQL:*password authentication failed*; fix: check \"username\" and \"password\" in DB_SECRET*" \
    DB_SECRET="$(dbsecret duckmig_rt wrong)"
check "a port that is not a number" 2 "broker: RabbitMQ secret: \"port\" (\"abc\") is not a port number*; fix: *" \
    RABBIT_SECRET="$TMP/badport.json"
check "a secret that does not resolve" 17 "secret RABBIT_SECRET: *; fix: *" \
    RABBIT_SECRET="$TMP/no-such-secret.json"
check "TLS against a plain AMQP port" 16 "broker: RabbitMQ: cannot connect*TLS*; fix: check \"tls\"*" \
    RABBIT_SECRET="{\"host\":\"localhost\",\"port\":$RABBIT_PORT,\"tls\":true}"
check "a destination bucket that refuses writes" 16 "destination S3: *; fix: *s3:PutObject*" \
    DESTINATION_BUCKET=dst-b AWS_ENDPOINT_URL_S3="http://127.0.0.1:$P_PORT"
admin -c "REVOKE UPDATE ON duckmig_ledger FROM duckmig_rt"
check "a runtime role without UPDATE on the ledger" 16 "ledger: role 'duckmig_rt' lacks UPDATE on duckmig_ledger; fix: *GRANT SELECT, INSERT, UPDATE ON duckmig_ledger TO duckmig_rt*" \
    LOG_LEVEL=info
admin -c "GRANT UPDATE ON duckmig_ledger TO duckmig_rt"
admin -c "DROP TABLE duckmig_ledger"
check "no ledger table" 17 "ledger: the table duckmig_ledger does not exist*; fix: run \`duckmig ledger init*" \
    LOG_LEVEL=info
env DB_SECRET="$(dbsecret postgres x)" "$DUCKMIG" ledger init --grant duckmig_rt 2>/dev/null
is "$(admin -c "SELECT count(*) FROM duckmig_ledger")" 0 "nothing was recorded by any of these consumers"

# ---- the least-privileged role runs the consumer: every outcome recorded
run timeout 300 "$DUCKMIG" consume --max-messages 2
is "$rc/$(depth migrate_duckdb_release)" "0/0" "consume with only SELECT, INSERT, UPDATE on the ledger: both messages done"
is "$(admin -c "SELECT string_agg(status, ',') FROM duckmig_ledger")" "migrated,migrated" "... both outcomes in the ledger"
[[ "$err" != *"ledger:"* ]]; ok $? "... with no ledger warning"

# ---- a write the ledger refuses: the message goes back to the queue,
# the consumer stops; the outcome is recorded by the next one
run "$DUCKMIG" publish --from efs --to efs
is "$rc/$(depth migrate_duckdb_release)" "0/2" "published again"
# from now on the ledger refuses every outcome (but takes "running")
admin -c "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RAISE EXCEPTION 'refused by a test trigger'; END \$\$" \
    -c "CREATE TRIGGER refuse BEFORE UPDATE ON duckmig_ledger FOR EACH ROW WHEN (NEW.status NOT IN ('queued', 'running')) EXECUTE FUNCTION refuse()"
run timeout 300 "$DUCKMIG" consume --max-messages 2
is "$rc" 11 "a refused outcome: consume stops (exit 11), after one message"
like "$err" "*ledger: *refused by a test trigger*try 2 of 5*try 5 of 5*the ledger refused the outcome after 5 tries*goes back to the queue*" \
   "... after retrying the write, saying why"
is "$(depth_all migrate_duckdb_release)" 2 "... the message is back in the queue, not acked"
is "$(admin -c "SELECT count(*) FROM duckmig_ledger WHERE status = 'running'")" 1 "... and the ledger still says running"
admin -c "DROP TRIGGER refuse ON duckmig_ledger"
run timeout 300 "$DUCKMIG" consume --max-messages 2
is "$rc/$(depth migrate_duckdb_release)" "0/0" "the ledger takes writes again: both messages done"
is "$(admin -c "SELECT string_agg(status, ',' ORDER BY status) FROM duckmig_ledger")" "already_done,already_done" \
   "... the requeued one recorded as already done"
is "$(ls -A batch_download)" "" "no folder left in BATCH_DOWNLOAD"

done_testing
