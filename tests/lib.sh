# lib.sh - a small TAP vocabulary for duckmig's integration tests.
#
# Source it from a tests/integration/*.t script. tests/run exports
#   DUCKMIG           the binary under test (release or sanitizer build)
#   DUCKMIG_ENGINES   the engines folder
#   SHARED            ../shared beside the checkout ("" when absent)
#   DUCKMIG_HELPER    the release build, for building fixtures and for
#                     checking results: DuckDB's own writes are 100x slower
#                     under ASan's allocator, and they are not under test
# Each script gets a private $TMP, removed when it exits.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${DUCKMIG:=$ROOT/duckmig}"
: "${DUCKMIG_ENGINES:=$ROOT/engines}"
: "${DUCKMIG_HELPER:=$ROOT/build/release/duckmig}"
[ -x "$DUCKMIG_HELPER" ] || DUCKMIG_HELPER=$DUCKMIG
: "${SHARED:=$( [ -d "$ROOT/../shared" ] && cd "$ROOT/../shared" && pwd)}"
export DUCKMIG DUCKMIG_ENGINES DUCKMIG_HELPER SHARED
: "${DUCKMIG_TEST_SERVERS:=$ROOT/.test-servers}"
export DUCKMIG_TEST_SERVERS
TMP=$(mktemp -d "${TMPDIR:-/tmp}/duckmig-test.XXXXXX")
_pids=()
_stop_rabbit=
_pg_stop=()
_cleanup() {
    local p
    [ -n "$_stop_rabbit" ] && stop_rabbit
    [ ${#_pg_stop[@]} -gt 0 ] && "${_pg_stop[@]}" >/dev/null 2>&1
    for p in "${_pids[@]-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$TMP"
    # once, in a whole-suite run as root, /dev/null was found replaced by
    # a regular file: duckmig wrote its outputs beside the name and renamed
    # them onto it, whatever was there. It now refuses an output that is
    # not a regular file (plan.t); should a script still replace the
    # device, it fails, naming itself (or one that ran beside it, under
    # prove -j), and the device is left for a person to look at
    if [ ! -c /dev/null ]; then
        echo "# /dev/null is no longer a device after $(basename "$0")" \
            "(or a test that ran beside it)" >&2
        exit 1
    fi
}
trap _cleanup EXIT
_n=0
_failed=0

plan() { echo "1..$1"; }
done_testing() { echo "1..$_n"; [ "$_failed" -eq 0 ]; }

ok() { # ok CONDITION-EXIT-STATUS NAME
    _n=$((_n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $_n - $2"
    else
        echo "not ok $_n - $2"
        _failed=$((_failed + 1))
    fi
}

is() { # is GOT WANT NAME
    _n=$((_n + 1))
    if [ "$1" = "$2" ]; then
        echo "ok $_n - $3"
    else
        echo "not ok $_n - $3"
        # every line commented: a got that holds "ok ..." lines must not
        # read as TAP
        printf '#   got:  %s\n#   want: %s\n' "${1//$'\n'/$'\n'#         }" "$2"
        _failed=$((_failed + 1))
    fi
}

like() { # like GOT GLOB-PATTERN NAME
    _n=$((_n + 1))
    # shellcheck disable=SC2053
    if [[ $1 == $2 ]]; then
        echo "ok $_n - $3"
    else
        echo "not ok $_n - $3"
        # every line commented: a got that holds "ok ..." lines must not
        # read as TAP
        printf '#   got:  %s\n#   want: %s\n' "${1//$'\n'/$'\n'#         }" "$2"
        _failed=$((_failed + 1))
    fi
}

# release_engines: under the sanitizers, a test of the fleet code (batch,
# consume, publish, doctor) starts its engine workers and zygotes from the
# release build (DUCKMIG_ENGINE_PROGRAM): what ASan checks there is the
# fleet code, and the workers' own code is checked under it by migrate.t,
# verify.t, classes.t, untrusted.t, zygote.t and the unit tests, where
# they are the ASan build. DuckDB in an ASan worker made these tests
# several times slower.
release_engines() {
    [ "${DUCKMIG_VARIANT:-release}" = asan ] && export DUCKMIG_ENGINE_PROGRAM=$DUCKMIG_HELPER
    return 0
}

skip() { _n=$((_n + 1)); echo "ok $_n # skip $1"; }
diag() { echo "# $*"; }

# run CMD...: sets $out (stdout), $err (stderr), $rc
run() {
    out=$("$@" 2>"$TMP/.stderr") && rc=0 || rc=$?
    err=$(cat "$TMP/.stderr")
}

# duckdb RELEASE FILE SQL...: run SQL with an engine; stdout only
duckdb() { local rel=$1; shift; "$DUCKMIG_HELPER" sql --no-header --engine "$rel" "$@"; }

# free_port: a loopback TCP port that nobody listens on right now
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server LOG CMD...: run a test server in the background until the
# script exits; waits for it to print "ready". Sets $server_pid.
start_server() {
    local log=$1 i
    shift
    "$@" >"$log" 2>&1 &
    server_pid=$!
    _pids+=("$server_pid")
    for i in $(seq 200); do
        grep -q '^ready' "$log" 2>/dev/null && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "# could not start: $*"
    sed 's/^/#   /' "$log"
    return 1
}

# start_s3 DIR PORT BUCKET...: the S3 server that checks signatures
start_s3() {
    local dir=$1 port=$2
    shift 2
    mkdir -p "$dir"
    start_server "$dir.log" node --openssl-legacy-provider "$ROOT/tests/servers/s3rver.js" "$port" "$dir" "$@"
}

# start_rabbit DIR [PORT]: a private RabbitMQ node on loopback (again on
# PORT after a stop_rabbit, with its queues), stopped at exit.
# Sets RABBIT_PORT and RABBIT_NODE; rabbitctl runs rabbitmqctl against it.
start_rabbit() {
    local dir=$1 i
    mkdir -p "$dir/mnesia" "$dir/log"
    RABBIT_PORT=${2:-$(free_port)}
    RABBIT_NODE=duckmig$$@localhost
    printf 'listeners.tcp.local = 127.0.0.1:%s\nloopback_users = none\n' "$RABBIT_PORT" >"$dir/rabbitmq.conf"
    [ -n "${RABBIT_CONSUMER_TIMEOUT:-}" ] && echo "consumer_timeout = $RABBIT_CONSUMER_TIMEOUT" >>"$dir/rabbitmq.conf"
    if [ -n "${RABBIT_EXTRA_CONF:-}" ]; then # replaces the plain listener
        sed -i '/^listeners.tcp.local/d' "$dir/rabbitmq.conf"
        echo "$RABBIT_EXTRA_CONF" >>"$dir/rabbitmq.conf"
    fi
    echo '[].' >"$dir/enabled_plugins"
    chmod 755 "$TMP"
    id rabbitmq >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && chown -R rabbitmq: "$dir"
    # +sbwt none: a scheduler out of work sleeps at once instead of
    # spinning a while (Erlang's default), CPU the tests beside it need
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+sbwt none +sbwtdcpu none +sbwtdio none"
    export RABBITMQ_NODENAME=$RABBIT_NODE RABBITMQ_CONFIG_FILE=$dir/rabbitmq \
        RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log \
        RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins \
        RABBITMQ_DIST_PORT=$(free_port) RABBITMQ_PID_FILE=$dir/pid
    rabbitmq-server >"$dir/server.out" 2>&1 &
    _pids+=("$!")
    _rabbit_dir=$dir
    if ! rabbitmqctl -n "$RABBIT_NODE" wait "$dir/pid" --timeout 60 >/dev/null 2>&1; then
        echo "# RabbitMQ did not start"; tail -5 "$dir/server.out" | sed 's/^/#   /'
        return 1
    fi
    _stop_rabbit=1
}
rabbitctl() { rabbitmqctl -q -n "$RABBIT_NODE" "$@"; }
stop_rabbit() { rabbitmqctl -q -n "$RABBIT_NODE" stop >/dev/null 2>&1; }

# start_postgres DIR: a throwaway PostgreSQL cluster on loopback, stopped
# at exit. Sets PG_PORT; the user is postgres, trusted.
start_postgres() {
    local dir=$1 bin
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    PG_PORT=$(free_port)
    mkdir -p "$dir"
    local as=()
    if [ "$(id -u)" -eq 0 ]; then chmod 755 "$TMP"; chown postgres: "$dir"; as=(runuser -u postgres --); fi
    "${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust >"$dir/initdb.out" 2>&1 || {
        echo "# initdb failed"; sed 's/^/#   /' "$dir/initdb.out"; return 1; }
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-p $PG_PORT -k $dir -c listen_addresses=127.0.0.1" start >/dev/null 2>&1 || {
        echo "# PostgreSQL did not start"; tail -5 "$dir/log" | sed 's/^/#   /'; return 1; }
    _pg_stop=("${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop)
}

# start_fleet DIR: RabbitMQ and PostgreSQL under DIR, and what a consumer
# reads from its environment to use them, EFS roots under DIR (benches)
start_fleet() {
    start_rabbit "$1/rmq" >&2 || return 1
    start_postgres "$1/pg" >&2 || return 1
    export DB_SECRET="{\"host\":\"127.0.0.1\",\"port\":$PG_PORT,\"username\":\"postgres\",\"dbname\":\"postgres\"}"
    export RABBIT_SECRET="{\"host\":\"127.0.0.1\",\"port\":$RABBIT_PORT,\"username\":\"guest\",\"password\":\"guest\"}"
    export MIGRATE_SRC=$1/src/ MIGRATE_DST=$1/dst/ BATCH_DOWNLOAD=$1/dl DUCKDB_MIGRATE_VERSION=0.8.1
}
# fleet_psql ARGS...: psql on start_fleet's PostgreSQL, unaligned, quiet
fleet_psql() { command psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qtAX "$@"; }
# ledger_wait N PID...: wait until start_fleet's ledger has N rows
# 'migrated', asked every 0.1 s over one psql session; fails (1) when a
# PID is gone first. A psql per look costs about 0.1 s of CPU (its start,
# a backend, a login), taken from the consumers a bench is timing: on 2
# cores that made consume look 20% slower than it is.
ledger_wait() {
    local n=$1 p got=
    shift
    coproc _LEDGER { fleet_psql 2>&1; }
    local in=${_LEDGER[1]} out=${_LEDGER[0]} pid=$_LEDGER_PID
    while :; do
        echo "SELECT count(*) FROM duckmig_ledger WHERE status = 'migrated';" >&"$in"
        read -r -t 30 got <&"$out" || break
        [ "$got" = "$n" ] && break
        for p in "$@"; do kill -0 "$p" 2>/dev/null || break 2; done
        sleep 0.1
    done
    exec {in}>&-
    wait "$pid" 2>/dev/null
    [ "$got" = "$n" ]
}
# make_tracker FILE ROWS: a small tracker file written by DuckDB 0.6.1, as
# the fleet holds thousands of (a primary key, an index, five columns)
make_tracker() {
    "$DUCKMIG_HELPER" sql --engine 0.6.1 "$1" \
        "CREATE TABLE cases (id BIGINT PRIMARY KEY, site INTEGER, label VARCHAR, opened TIMESTAMP, score DOUBLE)" \
        "CREATE INDEX cases_site ON cases (site)" \
        "INSERT INTO cases SELECT range, range % 7, 'case-' || range, TIMESTAMP '2022-01-01' + INTERVAL (range) MINUTE, range / 3.0 FROM range($2)" >/dev/null
}

# rabbit_ready QUEUE [VHOST]: how many messages are ready in QUEUE of
# start_rabbit's broker (as guest), nothing when there is no such queue.
# Asked over AMQP (a passive queue.declare) by a few lines of Python, in
# a tenth of a second; rabbitctl list_queues starts an Erlang VM, 2-4 s
# a call. Ready only, not unacked: use it when no consumer is running.
rabbit_ready() {
    python3 - "$RABBIT_PORT" "$1" "${2:-/}" <<'PY'
import socket, struct, sys
port, queue, vhost = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=30)
buf = b""
def frame():
    global buf
    while True:
        if len(buf) >= 7:
            typ, _, size = struct.unpack(">BHI", buf[:7])
            if len(buf) >= 8 + size:
                payload, buf = buf[7:7 + size], buf[8 + size:]
                if typ == 1:  # a method; heartbeats and others skipped
                    return struct.unpack(">HH", payload[:4]), payload[4:]
                continue
        data = s.recv(65536)
        if not data:
            sys.exit("rabbit_ready: the broker closed the connection")
        buf += data
def send(channel, cls, method, args=b""):
    p = struct.pack(">HH", cls, method) + args
    s.sendall(struct.pack(">BHI", 1, channel, len(p)) + p + b"\xce")
def short(text):
    return bytes([len(text.encode())]) + text.encode()
s.sendall(b"AMQP\x00\x00\x09\x01")
frame()  # connection.start
send(0, 10, 11, struct.pack(">I", 0) + short("PLAIN") + struct.pack(">I", 12) + b"\0guest\0guest" + short("en_US"))
(cm, args) = frame()  # connection.tune
send(0, 10, 31, args[:6] + struct.pack(">H", 0))
send(0, 10, 40, short(vhost) + short("") + b"\0")
if frame()[0] != (10, 41):
    sys.exit("rabbit_ready: cannot open vhost %s" % vhost)
send(1, 20, 10, short(""))
frame()  # channel.open-ok
send(1, 50, 10, struct.pack(">H", 0) + short(queue) + b"\x01" + struct.pack(">I", 0))  # passive
cm, args = frame()
if cm == (50, 11):  # declare-ok: queue name, message count, consumer count
    print(struct.unpack(">I", args[1 + args[0]:5 + args[0]])[0])
# else channel.close 404: no such queue, nothing printed
try:
    send(0, 10, 50, struct.pack(">H", 200) + short("") + struct.pack(">HH", 0, 0))
    frame()
except (OSError, SystemExit):
    pass
PY
}
