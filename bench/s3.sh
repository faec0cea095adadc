#!/usr/bin/env bash
# s3.sh - S3 transfer speed: upload and download of one object through the
# local S3 server (s3rver, the one the tests use), duckmig against curl
# doing the same transfer as a single signed request (curl --aws-sigv4).
# Prints seconds, MiB/s and duckmig's time as a ratio to curl's, measured
# in the same run (the machine is shared: compare ratios, not seconds).
#
# usage: bench/s3.sh [MIB]   (default 1024)
# needs: scripts/install-test-servers, node, curl
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
duckmig=${DUCKMIG:-$root/duckmig}
mib=${1:-1024}
export DUCKMIG_TEST_SERVERS=${DUCKMIG_TEST_SERVERS:-$root/.test-servers}
work=$(mktemp -d "${TMPDIR:-/tmp}/duckmig-s3bench.XXXXXX")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
node --openssl-legacy-provider "$root/tests/servers/s3rver.js" "$port" "$work/s3" bench-bucket >"$work/s3.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q ready "$work/s3.log" && break; sleep 0.1; done

export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=http://127.0.0.1:$port
url=$AWS_ENDPOINT_URL/bench-bucket
curl_s3() {
    curl -sS --fail --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER \
        -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}

echo "making a $mib MiB file ..." >&2
head -c $((mib * 1048576)) /dev/urandom >"$work/object"

seconds() { # seconds CMD...: wall time of CMD
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

up_curl=$(seconds curl_s3 -T "$work/object" "$url/curl-object")
up_dm=$(seconds "$duckmig" cp "$work/object" s3://bench-bucket/duckmig-object)
down_curl=$(seconds curl_s3 -o "$work/curl-back" "$url/curl-object")
down_dm=$(seconds "$duckmig" cp s3://bench-bucket/duckmig-object "$work/duckmig-back")
# duckmig held to one request each way, like curl
one=$((mib * 1048576 + 1))
up_dm1=$(seconds env DUCKMIG_S3_MULTIPART_THRESHOLD=$one "$duckmig" cp "$work/object" s3://bench-bucket/duckmig-one)
rm -f "$work/duckmig-back"
down_dm1=$(seconds env DUCKMIG_S3_MULTIPART_THRESHOLD=$one "$duckmig" cp s3://bench-bucket/duckmig-one "$work/duckmig-back")
cmp -s "$work/object" "$work/duckmig-back" || { echo "duckmig's download differs" >&2; exit 1; }
cmp -s "$work/object" "$work/curl-back" || { echo "curl's download differs" >&2; exit 1; }

printf '\n%s MiB through s3rver on loopback (duckmig: %s parallel parts of %s MiB)\n' "$mib" \
    "${DUCKMIG_S3_CONCURRENCY:-4}" "$(( ${DUCKMIG_S3_PART_SIZE:-8388608} / 1048576 ))"
printf '%-10s %-8s %9s %9s %12s\n' what tool seconds MiB/s x_curl
row() { printf '%-10s %-8s %9.2f %9.1f %12.2f\n' "$1" "$2" "$3" "$(echo "$mib / $3" | bc -l)" "$(echo "$3 / $4" | bc -l)"; }
row upload curl "$up_curl" "$up_curl"
row upload duckmig "$up_dm" "$up_curl"
row upload dm-1req "$up_dm1" "$up_curl"
row download curl "$down_curl" "$down_curl"
row download duckmig "$down_dm" "$down_curl"
row download dm-1req "$down_dm1" "$down_curl"
echo
echo "duckmig also computes Content-MD5 before sending (a pass over the file)"
echo "and fsyncs a download before renaming it into place; curl does neither."
echo "s3rver re-copies a multipart object on CompleteMultipartUpload, and"
echo "shares these 2 cores with the client: parallel parts pay off on S3."
