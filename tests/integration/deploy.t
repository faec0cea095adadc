#!/usr/bin/env bash
# deploy.t - the Docker and ECS artefacts, checked without a Docker engine:
# the image's build stage runs the same scripts as the README and the test
# suite, and its build context is enough to build (built here from a copy
# of exactly what the Dockerfile copies); the Dockerfile follows the rules
# we set for it; compose.yaml is valid (docker-compose config) and names
# files that exist; the CloudFormation template has the seed's two
# services with what Fargate needs, and a least-privilege task role.
# Also: the image's HEALTHCHECK (duckmig health), a runtime stage with no
# python3, curl or unzip (not even through a dependency), a .dockerignore
# that keeps build outputs, engines, tests and data out of the context;
# scaling on ready + unacknowledged messages, alarms on the dead-letter
# queues, task scale-in protection allowed to the task role.
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
like "$runs" "*install-deps build fetch*install-deps run*" "... installing with the packages lists the tests use"
grep -q '^FROM .*:latest' "$D"; ok $((! $?)) "no base image pinned to :latest"
is "$(grep -c '^FROM ' "$D")" 2 "two stages: build and runtime"
like "$(grep '^USER ' "$D")" "USER duckmig" "the runtime runs as a user of its own"
like "$(grep '^ENTRYPOINT' "$D")" '*"/usr/bin/tini", "--"*' "tini is PID 1 (SIGTERM forwarded, children reaped)"
grep -E '^(ADD|RUN .*curl .*\| *sh)' "$D" >/dev/null; ok $((! $?)) "no ADD, no curl | sh"

# the runtime stage: the instructions after the last FROM, each joined
# across its continuation lines
runtime=$(awk '{ line = $0; while (line ~ /\\$/) { getline nxt; sub(/\\$/, "", line); line = line " " nxt } print line }' "$D" |
    awk '/^FROM /{ buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }')
like "$(grep '^HEALTHCHECK' <<<"$runtime")" '*CMD \["/usr/local/bin/duckmig", "health", "--max-age", "*"\]*' \
   "the runtime stage has a HEALTHCHECK that runs duckmig health (exec form)"
run "$ROOT/duckmig" health --help
is "$rc" 0 "... a command the binary has"
fetch_tools=$("$ROOT/scripts/install-deps" --list build fetch | grep -xE 'python3|curl|unzip' | sort | paste -sd' ')
is "$fetch_tools" "curl python3 unzip" "the build stage's packages (install-deps build fetch) have curl, python3, unzip"
is "$(grep -oE '(^|[ /])(python3|curl|unzip)( |$)' <<<"$(grep -E '^(RUN|COPY|ADD)' <<<"$runtime")" | wc -l)" 0 \
   "the runtime stage installs no python3, curl or unzip by name"
run_pkgs=$("$ROOT/scripts/install-deps" --list run)
is "$(grep -cxE 'python3|curl|unzip' <<<"$run_pkgs")" 0 "... nor does install-deps run"
if apt-cache show tini $run_pkgs >/dev/null 2>&1; then
    # what apt-get install --no-install-recommends would pull in
    deps=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances $run_pkgs tini 2>/dev/null | grep -v '^ ')
    is "$(grep -cxE 'python3|curl|unzip' <<<"$deps")" 0 "... nor any package they depend on (apt-cache depends --recurse)"
else
    skip "apt-cache does not know the runtime packages (no package lists here)"
fi
like "$(grep -A3 '^ARG DUCKMIG_ALLOW_UNPINNED' "$D")" "ARG DUCKMIG_ALLOW_UNPINNED=0*get-duckdb*" \
   "engines: unpinned official archives are refused unless the build asks for them"
DI=$ROOT/.dockerignore
[ -f "$DI" ]; ok $? "a .dockerignore at the repository root"
ignored() { # ignored PATH: does a pattern of .dockerignore match PATH (or a parent)?
    local p
    while read -r p; do
        case $p in '' | '#'*) continue ;; esac
        # shellcheck disable=SC2053
        [[ $1 == $p || $1 == $p/* ]] && return 0
        [[ $p == '**/'* && ( $1 == ${p#'**/'} || $1 == */${p#'**/'} ) ]] && return 0
    done <"$DI"
    return 1
}
miss=
for p in build/release/duckmig engines/0.8.1/libduckdb.so .git/HEAD tests/lib.sh \
    sample/56/1/a.duckdb src/x.duckdb a.duckdb.wal duckmig .test-servers/node_modules; do
    ignored "$p" || miss="$miss $p"
done
is "$miss" "" ".dockerignore keeps out build/, engines/, .git, tests, the binary and data files"
kept=
while read -r _ src _; do ignored "${src%/}" && kept="$kept $src"; done < <(grep -E '^COPY [^-]' "$D" | awk '{ for (i = 2; i < NF; i++) print "COPY", $i, $NF }')
is "$kept" "" "... and nothing the Dockerfile copies"

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
   "(ready + unacked) / IF(tasks > 0, tasks, 1)" "both services scale on messages ready or in progress per running task"
is "$(jq -r '[.Resources[] | select(.Type == "AWS::ApplicationAutoScaling::ScalingPolicy") | .Properties.TargetTrackingScalingPolicyConfiguration.CustomizedMetricSpecification.Metrics[] | select(.MetricStat) | .Id + "=" + .MetricStat.Metric.MetricName + ":" + ((.MetricStat.Metric.Dimensions[] | select(.Name == "Queue" or .Name == "ServiceName") | .Value | if type == "string" then . else "service" end))] | join(" ")' "$T")" \
   "ready=MessageReadyCount:migrate_duckdb_release unacked=MessageUnacknowledgedCount:migrate_duckdb_release tasks=RunningTaskCount:service ready=MessageReadyCount:migrate_duckdb_release_big unacked=MessageUnacknowledgedCount:migrate_duckdb_release_big tasks=RunningTaskCount:service" \
   "... ready and unacknowledged of each service's own queue, over its running tasks"
is "$(jq -r '[.Resources[] | select(.Type == "AWS::CloudWatch::Alarm") | select(.Properties.MetricName == "MessageCount") | (.Properties.Dimensions[] | select(.Name == "Queue") | .Value) + ">" + (.Properties.Threshold | tostring)] | sort | join(" ")' "$T")" \
   "migrate_duckdb_release.dead>0 migrate_duckdb_release_big.dead>0" "an alarm on each dead-letter queue's depth"
is "$(jq -r '[.Resources[] | select(.Type == "AWS::CloudWatch::Alarm") | .Properties.AlarmActions[0].Ref] | unique | join(" ")' "$T")" \
   "AlarmTopic" "... every alarm notifies the alarm topic"
is "$(jq -r '.Resources.AlarmTopic.Type' "$T")" "AWS::SNS::Topic" "... which the template makes"
is "$(jq -r '[.Resources[] | select(.Type == "AWS::ECS::TaskDefinition") | .Properties.ContainerDefinitions[0].HealthCheck.Command | join(" ")] | unique | join("|")' "$T")" \
   "CMD /usr/local/bin/duckmig health --max-age 120" "each task has a health check: duckmig health"
is "$(jq -r '[.Resources[] | select(.Type == "AWS::ECS::TaskDefinition") | .Properties.ContainerDefinitions[0].Environment[] | select(.Name == "DUCKMIG_METRICS") | .Value] | join(" ")' "$T")" \
   "emf emf" "... and writes EMF metrics"
is "$(jq -r '.Resources.TaskRole.Properties.Policies[].PolicyDocument.Statement[] | select(.Sid == "TaskScaleInProtection") | (.Action | sort | join(" ")) + " on " + .Resource["Fn::Sub"]' "$T")" \
   'ecs:GetTaskProtection ecs:UpdateTaskProtection on arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/${Cluster}/*' \
   "the task role may set scale-in protection, on the cluster's tasks only"
if python3 -c 'import yaml' 2>/dev/null; then
    python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$C"
    ok $? "compose.yaml parses as YAML"
    is "$(python3 -c 'import sys, yaml; s = yaml.safe_load(open(sys.argv[1]))["services"]; print(" ".join(k for k in sorted(s) if s[k].get("healthcheck", {}).get("disable")))' "$C")" \
       "ledger-init publisher sample-fleet" "... the services that do not consume turn the image's health check off"
else
    skip "python3 has no yaml module"
    skip "python3 has no yaml module"
fi
if command -v cfn-lint >/dev/null && cfn-lint --version >/dev/null 2>&1; then
    run cfn-lint "$T"
    is "$rc" 0 "cfn-lint finds nothing" || diag "$out"
else
    skip "cfn-lint is not installed (not a Debian package)"
fi

done_testing
