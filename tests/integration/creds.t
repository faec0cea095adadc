#!/usr/bin/env bash
# creds.t - the AWS credentials chain against a real S3 server that checks
# signatures (s3rver): each source in turn gives keys that only it has
# (s3rver accepts one key pair per source), and `duckmig cp` / `ls` must
# find them there. The sources: a profile in the credentials file (two
# profiles, AWS_PROFILE picks), a profile in the config file, EC2 instance
# metadata IMDSv2 (tests/servers/fake-imds.py, which refuses a GET without
# a token it handed out) and web identity (tests/servers/fake-sts.py, which
# checks the token and the role). Then the order of the chain, and the
# failures: a missing profile, IMDS down, STS refusing.
. "$(dirname "$0")/../lib.sh"
cd "$TMP"

S3_PORT=$(free_port)
S3RVER_KEYS="PROFILEKEY:profile-secret,CONFIGKEY:config-secret,IMDSKEY:imds-secret,STSKEY:sts-secret" \
    start_s3 "$TMP/s3" "$S3_PORT" creds-bucket || exit 1
B=s3://creds-bucket
MIB=1048576
# nothing of the caller's may leak in: only what each case sets
for v in $(env | grep -o '^AWS_[A-Z_]*'); do unset "$v"; done
unset DUCKMIG_S3_MULTIPART_THRESHOLD
export HOME=$TMP/home AWS_REGION=us-east-1 AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT
export DUCKMIG_RETRY_BASE_MS=20 AWS_EC2_METADATA_DISABLED=true
mkdir -p "$HOME/.aws"
head -c 1000 /dev/urandom >one
head -c $((16 * MIB + 1)) /dev/urandom >two

# ---- the credentials file: two profiles, AWS_PROFILE picks one
cat >"$HOME/.aws/credentials" <<'INI'
# the default profile's keys are not S3's
[default]
aws_access_key_id = WRONGKEY
aws_secret_access_key = wrong-secret

[ other ]   ; a comment after the header
	aws_access_key_id=PROFILEKEY
aws_secret_access_key   =   profile-secret   # a comment after the value
INI
run env AWS_PROFILE=other LOG_LEVEL=debug "$DUCKMIG" cp one "$B/profile/one"
is "$rc" 0 "AWS_PROFILE=other: keys from the second profile of ~/.aws/credentials"
like "$err" "*credentials: from profile 'other' in $HOME/.aws/credentials*" "... and the log says where they came from"
[[ "$err" != *profile-secret* ]]; ok $? "... without the secret in the log"
run env AWS_PROFILE=other "$DUCKMIG" ls "$B/profile/"
like "$out" "*profile/one" "ls with the same profile lists the object"
run "$DUCKMIG" ls "$B/profile/"
is "$rc" 16 "without AWS_PROFILE the default profile is used, whose keys S3 refuses: exit 16"
like "$err" "*InvalidAccessKeyId*" "... S3 saying so"
run env AWS_PROFILE=missing "$DUCKMIG" ls "$B/"
is "$rc" 16 "a profile that is in no file: exit 16"
like "$err" "*profile 'missing' (AWS_PROFILE) not found in $HOME/.aws/credentials or $HOME/.aws/config (no such file)*" \
    "... naming the profile and both files"
run env AWS_PROFILE=missing AWS_ACCESS_KEY_ID=PROFILEKEY AWS_SECRET_ACCESS_KEY=profile-secret "$DUCKMIG" ls "$B/profile/"
is "$rc" 0 "the environment comes before the shared files (AWS_PROFILE is not even read)"
run env AWS_ACCESS_KEY_ID=PROFILEKEY "$DUCKMIG" ls "$B/"
is "$rc" 16 "AWS_ACCESS_KEY_ID without its secret: exit 16"
like "$err" "*AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not*" "... saying which is missing"
printf '[half]\naws_access_key_id = PROFILEKEY\n' >half.ini
run env AWS_SHARED_CREDENTIALS_FILE="$TMP/half.ini" AWS_PROFILE=half "$DUCKMIG" ls "$B/"
is "$rc/$err" "16/duckmig: ls: profile 'half' in $TMP/half.ini has aws_access_key_id but no aws_secret_access_key" \
    "a profile with a key and no secret: exit 16, named"
printf '[default]\naws_access_key_id = X\nthis line is not a setting\n' >bad.ini
run env AWS_SHARED_CREDENTIALS_FILE="$TMP/bad.ini" "$DUCKMIG" ls "$B/"
is "$rc" 16 "a credentials file that does not parse: exit 16"
like "$err" "*$TMP/bad.ini:3: not 'key = value'*" "... naming the file and the line"
printf '[profile ar]\nrole_arn = arn:aws:iam::0:role/x\nsource_profile = default\n' >role.ini
run env AWS_CONFIG_FILE="$TMP/role.ini" AWS_PROFILE=ar "$DUCKMIG" ls "$B/"
is "$rc" 16 "a profile that assumes a role: exit 16"
like "$err" "*profile 'ar' in $TMP/role.ini uses role_arn, which duckmig does not implement*" "... saying so"

# ---- the config file: "[profile name]" sections; its nested settings
# are not the profile's
cat >conf <<'INI'
[default]
region = ap-south-1

[profile   cfg]
region = eu-west-3
aws_access_key_id = CONFIGKEY
aws_secret_access_key = config-secret
s3 =
    aws_access_key_id = NOTTHISONE
    max_concurrent_requests = 2

[plain]
aws_access_key_id = CONFIGKEY
aws_secret_access_key = config-secret
INI
cfg() { env AWS_CONFIG_FILE="$TMP/conf" AWS_SHARED_CREDENTIALS_FILE="$TMP/none" "$@"; }
run cfg env AWS_PROFILE=cfg LOG_LEVEL=debug "$DUCKMIG" cp one "$B/config/one"
is "$rc" 0 "AWS_PROFILE=cfg: keys from '[profile cfg]' of AWS_CONFIG_FILE"
like "$err" "*credentials: from profile 'cfg' in $TMP/conf*" "... and the log says so"
run cfg env AWS_PROFILE=cfg "$DUCKMIG" ls "$B/config/"
like "$out" "*config/one" "... and ls lists the object"
run cfg env AWS_PROFILE=plain "$DUCKMIG" ls "$B/"
is "$rc" 16 "'[plain]' in the config file is not profile 'plain' (that is '[profile plain]')"
like "$err" "*profile 'plain' (AWS_PROFILE) not found in $TMP/none (no such file) or $TMP/conf" "... not found"
run cfg env -u AWS_REGION LOG_LEVEL=debug AWS_PROFILE=cfg "$DUCKMIG" ls "$B/config/"
is "$rc" 0 "without AWS_REGION"
like "$err" "*region eu-west-3 from profile 'cfg'*" "... the region is the profile's, from the config file"
run cfg env LOG_LEVEL=debug AWS_PROFILE=cfg "$DUCKMIG" ls "$B/config/"
[[ "$err" != *"region eu-west-3"* ]]; ok $? "... and AWS_REGION, when set, wins"
printf '[default]\naws_access_key_id = WRONGKEY\naws_secret_access_key = wrong-secret\n' >wrong.ini
run env AWS_SHARED_CREDENTIALS_FILE="$TMP/wrong.ini" AWS_CONFIG_FILE="$TMP/conf" AWS_PROFILE=cfg "$DUCKMIG" ls "$B/config/"
is "$rc" 0 "a profile only in the config file is found there when the credentials file has others"
printf '[cfg]\naws_access_key_id = WRONGKEY\naws_secret_access_key = wrong-secret\n' >shadow.ini
run env AWS_SHARED_CREDENTIALS_FILE="$TMP/shadow.ini" AWS_CONFIG_FILE="$TMP/conf" AWS_PROFILE=cfg "$DUCKMIG" ls "$B/config/"
is "$rc" 16 "the credentials file's keys for a profile come before the config file's"

# ---- EC2 instance metadata, IMDSv2 (the default profile out of the way)
mv "$HOME/.aws/credentials" creds.keep
mkdir -p imds
echo duckmig-role >imds/role
echo "IMDSKEY imds-secret" >imds/keys
I_PORT=$(free_port)
start_server imds.out python3 "$ROOT/tests/servers/fake-imds.py" "$I_PORT" imds || exit 1
I=http://127.0.0.1:$I_PORT
is "$(curl -s -o /dev/null -w '%{http_code}' "$I/latest/meta-data/iam/security-credentials/duckmig-role")" 401 \
    "the fake metadata service refuses a GET without a token"
: >imds/log
imds() { env -u AWS_EC2_METADATA_DISABLED AWS_EC2_METADATA_SERVICE_ENDPOINT="$I/" "$@"; }
run imds env LOG_LEVEL=debug "$DUCKMIG" cp one "$B/imds/one"
is "$rc" 0 "no other source: keys of the instance role, from IMDSv2"
is "$(cat imds/log)" "PUT /latest/api/token 200
GET /latest/meta-data/iam/security-credentials/ 200
GET /latest/meta-data/iam/security-credentials/duckmig-role 200" "... a token, then the role, then its keys, each with the token"
like "$err" "*fetched from EC2 instance metadata*" "... and the log says where from"
[[ "$err" != *imds-secret* && "$err" != *imds-session-token* ]]; ok $? "... without the secret or the token in the log"
run imds "$DUCKMIG" ls "$B/imds/"
like "$out" "*imds/one" "ls lists the object"
echo 60 >imds/ttl
: >imds/log
run imds env DUCKMIG_S3_MULTIPART_THRESHOLD=$((8 * MIB)) "$DUCKMIG" cp two "$B/imds/two"
is "$rc" 0 "instance credentials that expire within 15 minutes"
n=$(grep -c 'duckmig-role 200' imds/log)
ok "$([ "$n" -gt 1 ] && echo 0 || echo 1)" "... are fetched again before use ($n fetches), with a new token each time"
rm imds/role
run imds "$DUCKMIG" ls "$B/"
is "$rc" 16 "an instance without a role: exit 16"
like "$err" "*EC2 instance metadata ($I): no IAM role is attached to this instance*" "... saying so"
echo duckmig-role >imds/role
DEAD=$(free_port)
run env -u AWS_EC2_METADATA_DISABLED AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$DEAD" "$DUCKMIG" ls "$B/"
is "$rc" 16 "the metadata service down (not on EC2): exit 16"
like "$err" "*: no AWS credentials: none in the environment*profile 'default' in $HOME/.aws/credentials or $HOME/.aws/config*; EC2 instance metadata (http://127.0.0.1:$DEAD): token request: *onnect*" \
    "... naming every source looked at, and why the last one failed"
: >imds/log
run env AWS_EC2_METADATA_SERVICE_ENDPOINT="$I" "$DUCKMIG" ls "$B/"
is "$rc" 16 "AWS_EC2_METADATA_DISABLED=true: exit 16"
like "$err" "*EC2 instance metadata is off (AWS_EC2_METADATA_DISABLED)*" "... saying so"
is "$(cat imds/log)" "" "... and the metadata service is not asked"
printf '[default]\naws_access_key_id = PROFILEKEY\naws_secret_access_key = profile-secret\n' >"$HOME/.aws/credentials"
run imds "$DUCKMIG" ls "$B/imds/"
is "$rc/$(cat imds/log)" "0/" "the default profile comes before the instance role"
run imds env AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:$DEAD/creds" "$DUCKMIG" ls "$B/imds/"
is "$rc" 0 "... and before the container endpoint"
mv creds.keep "$HOME/.aws/credentials"

# ---- web identity (EKS): STS AssumeRoleWithWebIdentity
mkdir -p sts
ROLE=arn:aws:iam::000000000000:role/eks-role
echo "eks-token-0123456789" >sts/token
echo "$ROLE" >sts/role
echo "STSKEY sts-secret" >sts/keys
cp sts/token token-file
S_PORT=$(free_port)
start_server sts.out python3 "$ROOT/tests/servers/fake-sts.py" "$S_PORT" sts || exit 1
S=http://127.0.0.1:$S_PORT
wi() { env AWS_WEB_IDENTITY_TOKEN_FILE="$TMP/token-file" AWS_ROLE_ARN="$ROLE" AWS_ENDPOINT_URL_STS="$S" "$@"; }
# the default profile holds keys S3 refuses: web identity comes first
run wi env AWS_ROLE_SESSION_NAME=creds-t LOG_LEVEL=debug "$DUCKMIG" cp one "$B/sts/one"
is "$rc" 0 "web identity: keys for the role from STS, before the default profile"
is "$(cat sts/log)" "200 creds-t" "... one call, with AWS_ROLE_SESSION_NAME"
[[ "$err" != *sts-secret* && "$err" != *eks-token* ]]; ok $? "... neither the secret nor the token in the log"
: >sts/log
run wi "$DUCKMIG" ls "$B/sts/"
like "$out" "*sts/one" "ls lists the object"
like "$(cat sts/log)" "200 duckmig-[0-9]*" "... with a session name of its own when none is set"
: >sts/log
run env AWS_WEB_IDENTITY_TOKEN_FILE="$TMP/token-file" AWS_ROLE_ARN="$ROLE" AWS_STS_ENDPOINT="$S" "$DUCKMIG" ls "$B/sts/"
is "$rc/$(grep -c '^200' sts/log)" "0/1" "AWS_STS_ENDPOINT points at STS too"
echo 60 >sts/ttl
: >sts/log
run wi env DUCKMIG_S3_MULTIPART_THRESHOLD=$((8 * MIB)) "$DUCKMIG" cp two "$B/sts/two"
is "$rc" 0 "role credentials that expire within 15 minutes"
n=$(grep -c '^200' sts/log)
ok "$([ "$n" -gt 1 ] && echo 0 || echo 1)" "... are asked for again before use ($n calls)"
echo 3600 >sts/ttl
echo "another-token" >token-file
run wi "$DUCKMIG" ls "$B/"
is "$rc" 16 "STS refuses the token: exit 16"
like "$err" "*web identity: STS AssumeRoleWithWebIdentity for role '$ROLE' answered HTTP 400 InvalidIdentityToken: Couldn't verify the token*" \
    "... with STS's code and message"
cp sts/token token-file
run wi env AWS_ROLE_ARN=arn:aws:iam::000000000000:role/other "$DUCKMIG" ls "$B/"
is "$rc" 16 "STS refuses the role: exit 16"
like "$err" "*for role 'arn:aws:iam::000000000000:role/other' answered HTTP 403 AccessDenied: Not authorized*" "... saying so"
run wi env AWS_WEB_IDENTITY_TOKEN_FILE="$TMP/no-token" "$DUCKMIG" ls "$B/"
is "$rc" 16 "a token file that is not there: exit 16"
like "$err" "*web identity: cannot read the token file '$TMP/no-token': No such file*" "... naming it"
run wi env -u AWS_ROLE_ARN "$DUCKMIG" ls "$B/"
is "$rc" 16 "a token file without AWS_ROLE_ARN: exit 16"
like "$err" "*AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not*" "... saying so"
run wi env AWS_ENDPOINT_URL_STS="http://127.0.0.1:$DEAD" DUCKMIG_S3_ATTEMPTS=1 "$DUCKMIG" ls "$B/"
is "$rc" 15 "STS unreachable: exit 15 (worth another try later)"
like "$err" "*web identity: STS at http://127.0.0.1:$DEAD: *onnect*" "... naming STS"

done_testing
