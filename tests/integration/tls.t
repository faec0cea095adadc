#!/usr/bin/env bash
# tls.t - amqps to RabbitMQ and sslmode to PostgreSQL, when the secrets ask
# for them: a private CA made here with openssl, a RabbitMQ node with only
# a TLS listener, a PostgreSQL cluster with ssl on. The certificate is
# checked (peer and host name); a CA that did not sign it is refused.
. "$(dirname "$0")/../lib.sh"
cd "$TMP"

# a CA and a server certificate for localhost
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=duckmig test CA" \
    -keyout ca.key -out ca.pem >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr >/dev/null 2>&1
printf 'subjectAltName=DNS:localhost\n' >san.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile san.ext -out server.pem >/dev/null 2>&1
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another CA" \
    -keyout other.key -out other.pem >/dev/null 2>&1
chmod 644 server.key ca.pem server.pem other.pem
ok $? "a test CA and a certificate for localhost"

# RabbitMQ with a TLS listener only
mkdir -p rmq
TLS_PORT=$(free_port)
RABBIT_EXTRA_CONF="listeners.tcp = none
listeners.ssl.1 = 127.0.0.1:$TLS_PORT
ssl_options.cacertfile = $TMP/ca.pem
ssl_options.certfile = $TMP/server.pem
ssl_options.keyfile = $TMP/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false"
export RABBIT_EXTRA_CONF
start_rabbit "$TMP/rmq" || exit 1
export DUCKMIG_RETRY_BASE_MS=10

secret() { printf '{"host":"localhost","port":%s,"username":"guest","password":"guest","tls":true,"cacert":"%s"}' "$TLS_PORT" "$1"; }
export RABBIT_SECRET
RABBIT_SECRET=$(secret "$TMP/ca.pem")
echo '{"source_datastore":"efs","destination_datastore":"efs","key":"a/b.duckdb"}' >msg
run "$DUCKMIG" publish --raw tls_queue <msg
is "$rc" 0 "publish over amqps, the broker's certificate checked against the CA"
run env RABBIT_SECRET="{\"url\":\"amqps://guest:guest@localhost:$TLS_PORT/\",\"cacert\":\"$TMP/ca.pem\"}" \
    "$DUCKMIG" publish --raw tls_queue <msg
is "$rc" 0 "... also with an amqps:// URL in the secret"
run env RABBIT_SECRET="$(secret "$TMP/other.pem")" "$DUCKMIG" publish --raw tls_queue <msg
is "$rc" 16 "a CA that did not sign the broker's certificate: refused (exit 16, not retried)"
like "$err" "*SSL peer cert verification failed*" "... saying so"
run env RABBIT_SECRET="$(printf '{"host":"127.0.0.1","port":%s,"tls":true,"cacert":"%s"}' "$TLS_PORT" "$TMP/ca.pem")" \
    "$DUCKMIG" publish --raw tls_queue <msg
is "$rc" 16 "a host name the certificate does not name: refused"
run env RABBIT_SECRET="$(printf '{"host":"localhost","port":%s}' "$TLS_PORT")" \
    "$DUCKMIG" publish --raw tls_queue <msg
ok "$([ "$rc" -ne 0 ] && echo 0 || echo 1)" "plain AMQP against the TLS port fails (exit $rc)"
is "$(rabbitctl list_queues name messages | awk '$1 == "tls_queue" { print $2 }')" 2 "the two good publishes arrived"

# PostgreSQL with ssl on; the ledger connects with sslmode=verify-full
start_postgres "$TMP/pg" || exit 1
cp server.key server.pem "$TMP/pg/data/"
chmod 600 "$TMP/pg/data/server.key"
[ "$(id -u)" -eq 0 ] && chown postgres: "$TMP/pg/data/server.key" "$TMP/pg/data/server.pem"
command psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qtAX -c "ALTER SYSTEM SET ssl = on" \
    -c "ALTER SYSTEM SET ssl_cert_file = 'server.pem'" -c "ALTER SYSTEM SET ssl_key_file = 'server.key'" \
    -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
db() { printf '{"host":"localhost","port":%s,"username":"postgres","password":"x","dbname":"postgres","sslmode":"%s"}' "$PG_PORT" "$1"; }
run env DB_SECRET="$(db verify-full)" PGSSLROOTCERT="$TMP/ca.pem" "$DUCKMIG" ledger init
is "$rc" 0 "ledger init over TLS with sslmode=verify-full"
run env DB_SECRET="$(db verify-full)" PGSSLROOTCERT="$TMP/ca.pem" "$DUCKMIG" status --json
is "$rc" 0 "the ledger over TLS with sslmode=verify-full"
is "$(command psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qtAX -c "SELECT count(*) FROM duckmig_ledger")" 0 "... the table made by ledger init"
run env DB_SECRET="$(db verify-full)" PGSSLROOTCERT="$TMP/other.pem" "$DUCKMIG" status
ok "$([ "$rc" -ne 0 ] && echo 0 || echo 1)" "a CA that did not sign the server's certificate: refused (exit $rc)"
like "$err" "*certificate*" "... saying it is the certificate"

done_testing
