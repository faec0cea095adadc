#!/usr/bin/env bash
# deploy.t - the Docker and ECS artefacts, checked without a Docker engine:
# the image's build stage runs the same scripts as the README and the test
# suite, and its build context is enough to build (built here from a copy
# of exactly what the Dockerfile copies); the Dockerfile follows the rules
# we set for it; compose.yaml is valid (docker-compose config) and names
# files that exist; the CloudFormation template has the seed's two
# services with what Fargate needs, and a least-privilege task role.
. "$(dirname "$0")/../lib.sh"
if [ "${DUCKMIG_VARIANT:-release}" = asan ]; then
    echo "1..0 # SKIP files, not the binary: checked once, in the release pass"
    exit 0
fi
cd "$TMP"
D=$ROOT/deploy/docker/Dockerfile
C=$ROOT/deploy/docker/compose.yaml
T=$ROOT/deploy/ecs/migrate-duck.json

# --- Dockerfile
# RUN lines, joined across continuations
runs=$(awk '/^RUN /{ line = $0; while (line ~ /\\$/) { getline nxt; sub(/\\$/, "", line); line = line " " nxt } print line }' "$D")
scripts_used=$(grep -o 'scripts/[a-z-]*' <<<"$runs" | sort -u | tr '\n' ' ')
is "$scripts_used" "scripts/get-duckdb scripts/install-deps " "the image runs install-deps and get-duckdb"
for s in $scripts_used; do [ -x "$ROOT/$s" ] || fail=1; done
ok "${fail:-0}" "... which exist and are executable"
is "$(grep -o 'get-duckdb [0-9. ]*' <<<"$runs" | cut -d' ' -f2- | xargs)" \
   "$(grep -o 'get-duckdb [0-9. ]*' "$ROOT/scripts/test" | cut -d' ' -f2- | xargs)" \
   "... fetching the engines the test suite installs"
like "$runs" "*install-deps build*install-deps run*" "... installing with the packages lists the tests use"
grep -q '^FROM .*:latest' "$D"; ok $((! $?)) "no base image pinned to :latest"
is "$(grep -c '^FROM ' "$D")" 2 "two stages: build and runtime"
like "$(grep '^USER ' "$D")" "USER duckmig" "the runtime runs as a user of its own"
like "$(grep '^ENTRYPOINT' "$D")" '*"/usr/bin/tini", "--"*' "tini is PID 1 (SIGTERM forwarded, children reaped)"
grep -E '^(ADD|RUN .*curl .*\| *sh)' "$D" >/dev/null; ok $((! $?)) "no ADD, no curl | sh"

# build context: copy exactly what the build stage copies, build in it
mkdir ctx
while read -r _ src dst; do
    src=${src%/}
    mkdir -p "ctx/$(dirname "$src")"
    cp -r "$ROOT/$src" "ctx/$src"
done < <(awk '/^FROM .* AS build/{ on = 1; next } /^FROM /{ on = 0 } on && /^COPY / { print $1, $2, $NF; if (NF > 3) for (i = 3; i < NF; i++) print $1, $i, $NF }' "$D")
run make -C ctx -j2 duckmig
is "$rc" 0 "the build stage's context is enough to build duckmig"
run ctx/duckmig --version
is "$rc" 0 "... and the binary runs"
run env DUCKMIG_ENGINES="$TMP/engines" "$ROOT/scripts/get-duckdb" 0.8.1
is "$rc" 0 "get-duckdb installs into DUCKMIG_ENGINES, as the image does"
[ -f "$TMP/engines/0.8.1/libduckdb.so" ]; ok $? "... there"
run "$ROOT/scripts/install-deps" run
is "$rc" 0 "install-deps run (the runtime stage's step) works here"

# --- compose
if command -v docker-compose >/dev/null; then
    run docker-compose -f "$C" config -q
    is "$rc" 0 "compose.yaml is valid (docker-compose config)"
    run docker-compose -f "$C" config --services
    for s in rabbitmq postgres s3 publisher migrate-duck-small migrate-duck-big; do
        like "$out" "*$s*" "compose has $s"
    done
else
    skip "docker-compose is not installed"
    for s in 1 2 3 4 5 6; do skip "docker-compose is not installed"; done
fi
for f in $(grep -oE '\./[a-z-]+\.(conf|sql)|\.\./sql/[a-z-]+\.sql' "$C" | sort -u); do
    [ -f "$ROOT/deploy/docker/$f" ]; ok $? "compose mounts $f, which exists"
done
like "$(cat "$ROOT/deploy/docker/rabbitmq.conf")" "*consumer_timeout = *" "the broker's consumer_timeout is raised"

# --- ECS CloudFormation
jq -e . "$T" >/dev/null; ok $? "the template is JSON"
is "$(jq -r '[.Resources[] | select(.Type == "AWS::ECS::Service") | .Properties.ServiceName] | sort | join(" ")' "$T")" \
   "migrate-duck-big migrate-duck-small" "services migrate-duck-small and migrate-duck-big"
is "$(jq -r '[.Resources[] | select(.Type == "AWS::ECS::TaskDefinition") | .Properties.ContainerDefinitions[0].StopTimeout] | unique | join(" ")' "$T")" \
   "120" "stopTimeout 120, Fargate's maximum"
is "$(jq -r '.Resources.BigTaskDefinition.Properties.EphemeralStorage.SizeInGiB' "$T")" 200 "the big task gets 200 GiB of disk"
is "$(jq -r '[.Resources[] | select(.Type == "AWS::ECS::TaskDefinition") | .Properties.Volumes[0].EFSVolumeConfiguration.TransitEncryption] | unique | join(" ")' "$T")" \
   "ENABLED" "EFS mounted with encryption in transit"
is "$(jq -r '.Resources.SmallTaskDefinition.Properties.ContainerDefinitions[0].Environment[].Name' "$T" | sort | grep -E '^(QUEUE_NAME|DUCKDB_MIGRATE_VERSION|RABBIT_SECRET|DB_SECRET|MIGRATE_SRC|MIGRATE_DST)$' | tr '\n' ' ')" \
   "DB_SECRET DUCKDB_MIGRATE_VERSION MIGRATE_DST MIGRATE_SRC QUEUE_NAME RABBIT_SECRET " "the seed's environment"
is "$(jq -r '[.. | objects | select(has("Action")) | .Action | if type == "array" then .[] else . end | select(test("\\*"))] | length' "$T")" 0 \
   "least privilege: no wildcard action"
is "$(jq -r '[.Resources.TaskRole.Properties.Policies[].PolicyDocument.Statement[].Resource | if type == "array" then .[] else . end | select(type == "string" and . == "*")] | length' "$T")" 0 \
   "... and no '*' resource"
is "$(jq -r '[.Resources[] | select(.Type == "AWS::ApplicationAutoScaling::ScalingPolicy") | .Properties.TargetTrackingScalingPolicyConfiguration.CustomizedMetricSpecification.Metrics[] | select(.ReturnData) | .Expression] | unique | join(" ")' "$T")" \
   "ready / IF(tasks > 0, tasks, 1)" "both services scale on messages ready per running task"
if command -v cfn-lint >/dev/null && cfn-lint --version >/dev/null 2>&1; then
    run cfn-lint "$T"
    is "$rc" 0 "cfn-lint finds nothing" || diag "$out"
else
    skip "cfn-lint is not installed (not a Debian package)"
fi

done_testing
