#!/usr/bin/env bash
# store-s3.t - `duckmig cp` and `duckmig ls` against a real S3 server that
# checks SigV4 signatures (s3rver, on loopback): sizes around the multipart
# edges, awkward keys, paged listings, wrong keys, injected 5xx and resets
# (a fault proxy in front of the server), the server killed mid-upload,
# and credentials from a fake ECS container endpoint.
. "$(dirname "$0")/../lib.sh"
cd "$TMP"

S3_PORT=$(free_port)
start_s3 "$TMP/s3" "$S3_PORT" tracker-bucket || exit 1
s3_pid=$server_pid
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=http://127.0.0.1:$S3_PORT
export DUCKMIG_RETRY_BASE_MS=20
unset AWS_ENDPOINT_URL_S3 AWS_SESSION_TOKEN AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
      AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_PROFILE AWS_DEFAULT_PROFILE AWS_WEB_IDENTITY_TOKEN_FILE
# no other source of the chain (tests/integration/creds.t tests those): no
# shared files of the machine's user, no instance metadata
export AWS_SHARED_CREDENTIALS_FILE=$TMP/no-credentials AWS_CONFIG_FILE=$TMP/no-config \
       AWS_EC2_METADATA_DISABLED=true
B=s3://tracker-bucket
MIB=1048576

md5() { md5sum "$1" | cut -d' ' -f1; }
mk() { head -c "$2" /dev/urandom >"$1"; }

# sizes: empty, one byte, a single PUT, exactly two parts, two parts and a
# byte, and above 100 MiB with the default settings (14 parts of 8 MiB)
mk zero 0
mk one 1
mk small $((3 * MIB + 17))
mk two $((16 * MIB))
mk twoplus $((16 * MIB + 1))
mk big $((105 * MIB))
for f in zero one small two twoplus; do
    run env DUCKMIG_S3_MULTIPART_THRESHOLD=$((8 * MIB)) "$DUCKMIG" cp --json "$f" "$B/sizes/$f"
    is "$rc/$(jq -r .size <<<"$out")" "0/$(stat -c %s "$f")" "upload $f ($(stat -c %s "$f") bytes)"
    run env DUCKMIG_S3_MULTIPART_THRESHOLD=$((8 * MIB)) "$DUCKMIG" cp "$B/sizes/$f" "back-$f"
    cmp -s "$f" "back-$f"; ok $? "download $f: the same bytes"
done
run "$DUCKMIG" cp --json small "$B/etag/small"
is "$(jq -r .etag <<<"$out")" "\"$(md5 small)\"" "a single PUT's ETag is the MD5 of the file"
run "$DUCKMIG" cp --json big "$B/sizes/big"
is "$rc" 0 "upload 105 MiB (multipart, parallel parts)"
like "$(ls "$TMP/s3/tracker-bucket/sizes" 2>/dev/null)" "*big*" "the server holds the big object"
run "$DUCKMIG" cp "$B/sizes/big" back-big
is "$rc" 0 "download 105 MiB (parallel ranged GETs)"
cmp -s big back-big; ok $? "... the same bytes"
run "$DUCKMIG" cp "$B/sizes/big" ./
cmp -s big ./big; ok $? "a folder as DST takes the key's file name"

# on a terminal, a progress line for large objects (script(1) gives cp a
# pseudo-terminal); none when stderr is not one
run script -qec "\"$DUCKMIG\" cp two $B/progress/two" /dev/null
like "$out" "*cp: *16.0 MiB*100%*MiB/s*" "a progress line on a terminal"
run "$DUCKMIG" cp two "$B/progress/two"
[[ "$err" != *MiB/s* ]]; ok $? "... and none when stderr is a file"

# keys that need encoding, listed and fetched back exactly (no apostrophe:
# s3rver ignores encoding-type=url and escapes it twice in listings)
keys=("with space/a b.duckdb" "unicode/trackér-ü.duckdb" "plus/a+b.duckdb" "eq/a=b.duckdb" "pct/100%.duckdb" "mix/x (1)~!*.new.duckdb")
for k in "${keys[@]}"; do
    run "$DUCKMIG" cp one "$B/keys/$k"
    is "$rc" 0 "upload key '$k'"
    rm -f back-key
    run "$DUCKMIG" cp "$B/keys/$k" back-key
    cmp -s one back-key; ok $? "download key '$k'"
done
run "$DUCKMIG" ls "$B/keys/"
is "$(awk '{ sub(/^ *[0-9]+  /, ""); print }' <<<"$out")" \
   "$(printf 'keys/%s\n' "${keys[@]}" | LC_ALL=C sort)" "ls shows every key as it was written, in order"

# listings across pages (continuation tokens)
for i in 1 2 3 4 5 6 7; do "$DUCKMIG" cp one "$B/paged/site/$i.duckdb" >/dev/null; done
run env DUCKMIG_S3_LIST_PAGE=2 "$DUCKMIG" ls --json "$B/paged/"
is "$(jq -r .key <<<"$out" | tr '\n' ' ')" \
   "paged/site/1.duckdb paged/site/2.duckdb paged/site/3.duckdb paged/site/4.duckdb paged/site/5.duckdb paged/site/6.duckdb paged/site/7.duckdb " \
   "7 keys over 4 pages of 2"
run "$DUCKMIG" ls "$B/paged/site/3"
is "$(wc -l <<<"$out")" 1 "a prefix is a prefix of keys, not only of folders"

# errors: a wrong secret, a missing object, a bad key; secrets stay out
run env AWS_SECRET_ACCESS_KEY=NotTheSecretAtAll LOG_LEVEL=debug "$DUCKMIG" cp one "$B/x"
is "$rc" 16 "a wrong secret key: exit 16"
like "$err" "*SignatureDoesNotMatch*" "... and S3's reason"
[[ "$out$err" != *NotTheSecretAtAll* ]]; ok $? "... without the secret in any output"
run "$DUCKMIG" cp "$B/nothing/here.duckdb" nothing
is "$rc" 17 "a missing object: exit 17"
[ ! -e nothing ]; ok $? "... and no local file"
run "$DUCKMIG" cp one "$B/a/../b"
is "$rc" 18 "a key with '..' is refused: exit 18"
run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$DUCKMIG" ls "$B/"
is "$rc" 16 "no credentials at all: exit 16"
like "$err" "*no AWS credentials: *" "... saying so"

# retries: a fault proxy in front of the server
P_PORT=$(free_port)
proxy() { # proxy FAULTS: (re)start the proxy with these faults
    [ -n "${proxy_pid:-}" ] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
    : >proxy.log
    start_server proxy.out python3 "$ROOT/tests/servers/fault-proxy.py" "$P_PORT" "$S3_PORT" proxy.log "$1"
    proxy_pid=$server_pid
}
PX=http://127.0.0.1:$P_PORT
proxy "PUT:503:2,HEAD:reset:1,GET:500:1"
run env AWS_ENDPOINT_URL=$PX "$DUCKMIG" cp small "$B/retry/small"
is "$rc" 0 "two 503s on PUT: retried, uploaded"
is "$(grep -c '^PUT .* 503$' proxy.log)/$(grep -c '^PUT .* 200$' proxy.log)" "2/1" "... 2 refused PUTs, then 1 that went through"
run env AWS_ENDPOINT_URL=$PX "$DUCKMIG" cp "$B/retry/small" back-retry
is "$rc" 0 "a reset HEAD and a 500 GET: retried, downloaded"
cmp -s small back-retry; ok $? "... the same bytes"
like "$(grep -c reset proxy.log)$(grep -c '^GET .* 500$' proxy.log)" "11" "... after one reset and one 500"

proxy "PUT:503:9"
run env AWS_ENDPOINT_URL=$PX DUCKMIG_S3_ATTEMPTS=3 "$DUCKMIG" cp small "$B/retry/never"
is "$rc" 15 "503 every time: exit 15 once the attempts are spent"
like "$err" "*gave up after 3 attempts*SlowDown*" "... saying so"
is "$(grep -c '^PUT' proxy.log)" 3 "... after exactly 3 attempts"

proxy "PUT:400:1"
run env AWS_ENDPOINT_URL=$PX "$DUCKMIG" cp small "$B/retry/bad"
is "$rc" 19 "a 400 is not retried: exit 19"
is "$(grep -c '^PUT' proxy.log)" 1 "... one attempt only"

# a part refused for good: the multipart upload is aborted
proxy "PUT:403:1"
run env AWS_ENDPOINT_URL=$PX DUCKMIG_S3_MULTIPART_THRESHOLD=$((8 * MIB)) DUCKMIG_S3_CONCURRENCY=1 \
    "$DUCKMIG" cp two "$B/aborted/two"
is "$rc" 16 "a part refused: the upload fails"
like "$(grep '^DELETE' proxy.log)" "*uploadId=*" "... and AbortMultipartUpload is sent"
run "$DUCKMIG" ls "$B/aborted/"
is "$out" "" "... and no object appears"

# CompleteMultipartUpload answering 200 with an <Error> inside: not a
# success; InternalError is retried
proxy "POST+uploadId:200error:1"
run env AWS_ENDPOINT_URL=$PX DUCKMIG_S3_MULTIPART_THRESHOLD=$((8 * MIB)) "$DUCKMIG" cp two "$B/complete/two"
is "$rc" 0 "an <Error> inside a 200 from CompleteMultipartUpload: retried, then completed"
is "$(grep -c '^POST .*uploadId=.* 200error$' proxy.log)/$(grep -c '^POST .*uploadId=.* 200$' proxy.log)" "1/1" \
   "... one error answer seen, one completion"
run "$DUCKMIG" cp "$B/complete/two" back-complete
cmp -s two back-complete; ok $? "... and the object is whole"
proxy "POST+uploadId:200error:9"
run env AWS_ENDPOINT_URL=$PX DUCKMIG_S3_ATTEMPTS=2 DUCKMIG_S3_MULTIPART_THRESHOLD=$((8 * MIB)) "$DUCKMIG" cp two "$B/complete/never"
is "$rc" 15 "an <Error> inside every 200: the copy fails"
like "$err" "*CompleteMultipartUpload*InternalError*" "... naming the call and the error"
like "$(grep '^DELETE' proxy.log)" "*uploadId=*" "... and the upload is aborted"

# the server killed in the middle of a multipart upload
run_bg_upload() {
    env DUCKMIG_S3_ATTEMPTS=2 DUCKMIG_S3_CONCURRENCY=2 DUCKMIG_S3_STALL_SECONDS=5 \
        AWS_ENDPOINT_URL=$PX "$DUCKMIG" cp big "$B/killed/big" >killed.out 2>killed.err &
    cp_pid=$!
}
proxy ""
run_bg_upload
for i in $(seq 200); do grep -q 'partNumber=3' proxy.log && break; sleep 0.05; done
kill -9 "$s3_pid"
wait "$s3_pid" 2>/dev/null
wait "$cp_pid"
rc=$?
diag "$(tail -1 killed.err)"
ok "$([ "$rc" -ne 0 ] && echo 0 || echo 1)" "server killed mid-upload: cp fails (exit $rc)"
like "$(cat killed.err)" "*killed/big*" "... naming the object"
start_s3 "$TMP/s3" "$S3_PORT" tracker-bucket || exit 1
run "$DUCKMIG" ls "$B/killed/"
is "$rc/$out" "0/" "... and after a restart there is no object at the destination"

# credentials from the ECS container endpoint
mkdir -p ecs
echo "secret-token" >ecs/token
F_PORT=$(free_port)
start_server ecs.out python3 "$ROOT/tests/servers/fake-aws.py" "$F_PORT" ecs || exit 1
ecs() {
    env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
        AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:$F_PORT/creds" \
        AWS_CONTAINER_AUTHORIZATION_TOKEN=secret-token "$@"
}
echo 3600 >ecs/ttl
run ecs env LOG_LEVEL=debug DUCKMIG_S3_MULTIPART_THRESHOLD=$((8 * MIB)) "$DUCKMIG" cp twoplus "$B/ecs/long"
is "$rc" 0 "credentials from the container endpoint"
is "$(wc -l <ecs/fetches)" 1 "... fetched once while they are good for an hour"
[[ "$err" != *S3RVER* && "$err" != *secret-token* ]]; ok $? "... and neither key nor token is logged"
echo 60 >ecs/ttl
: >ecs/fetches
run ecs env DUCKMIG_S3_MULTIPART_THRESHOLD=$((8 * MIB)) "$DUCKMIG" cp twoplus "$B/ecs/short"
is "$rc" 0 "credentials that expire within 15 minutes"
ok "$([ "$(wc -l <ecs/fetches)" -gt 1 ] && echo 0 || echo 1)" "... are fetched again before use ($(wc -l <ecs/fetches) fetches)"
run ecs env AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong "$DUCKMIG" ls "$B/"
is "$rc" 16 "a wrong container token: exit 16"
like "$err" "*credentials endpoint answered HTTP 401*" "... saying the endpoint refused"
echo "AKIDWRONG S3RVER" >ecs/keys
run ecs "$DUCKMIG" ls "$B/"
is "$rc" 16 "endpoint credentials that S3 refuses: exit 16"

# a download to a full disk leaves nothing
mkdir -p small-disk
if mount -t tmpfs -o size=1m tmpfs small-disk 2>/dev/null; then
    run "$DUCKMIG" cp "$B/sizes/small" small-disk/small
    is "$rc" 3 "download to a full disk: exit 3"
    is "$(ls -A small-disk)" "" "... and no file, not even a temporary one"
    umount small-disk
else
    skip "cannot mount a tmpfs here"
    skip "cannot mount a tmpfs here"
fi

done_testing
