#!/usr/bin/env bash
# cli.t - the command table, help, logging, and `engines` / `sql` as a
# user meets them, errors included.
. "$(dirname "$0")/../lib.sh"
cd "$TMP"

run "$DUCKMIG" help
is "$rc" 0 "help: exit 0"
help=$out
for c in inspect engines sql; do
    like "$help" "*  $c *" "help lists $c"
    run "$DUCKMIG" "$c" --help
    like "$rc:$out" "0:usage: duckmig $c*" "$c --help prints its usage"
    run "$DUCKMIG" help "$c"
    like "$out" "usage: duckmig $c*" "help $c prints its usage"
done
run "$DUCKMIG"
is "$rc" 2 "no command: usage error"
run "$DUCKMIG" frobnicate
is "$rc" 2 "unknown command: exit 2"
is "$err" "duckmig: 'frobnicate' is not a command; see 'duckmig help'" "unknown command: message"
run "$DUCKMIG" inspect --bogus
is "$rc" 2 "unknown option: exit 2"
run "$DUCKMIG" help bogus
is "$rc" 2 "help of a command that is not one: exit 2"
is "$err" "duckmig: help: 'bogus' is not a command; see 'duckmig help'" "... saying so"
run "$DUCKMIG" --version
like "$out" "duckmig *" "--version"
if git -C "$ROOT" rev-parse HEAD >/dev/null 2>&1; then
    [[ "$(head -1 <<<"$out")" =~ ^duckmig\ (.+-g)?[0-9a-f]{7,}(-dirty)?$ ]]
    ok $? "--version names the commit it was built from (git describe)"
else
    skip "not a git checkout"
fi
for rel in 0.6.1 0.7.1 0.8.1 1.5.6; do
    like "$out" "*  $rel    installed*" "--version: engine $rel installed"
done
run env DUCKMIG_ENGINES="$TMP/none" "$DUCKMIG" --version
like "$out" "*engines in $TMP/none:*0.6.1    not installed (scripts/get-duckdb 0.6.1)*" "--version: an engine that is not installed, and how to get it"

# a mistake in an option or the environment is named
run "$DUCKMIG" batch --jobs x a b
is "$rc" 2 "batch --jobs x: exit 2"
like "$err" "duckmig: batch: --jobs takes a number of files at a time from 1 to 256, not 'x'*" "... saying what is wrong"
run "$DUCKMIG" batch --jobs 0 a b
like "$rc:$err" "2:*--jobs*not '0'*" "batch --jobs 0: the same"
run "$DUCKMIG" batch a
like "$rc:$err" "2:duckmig: batch: DST is missing*usage: duckmig batch*" "batch without DST: says so, then the usage"
run env LOG_LEVEL=loud "$DUCKMIG" engines
is "$rc" 2 "an unknown LOG_LEVEL: exit 2 at start"
is "$err" "duckmig: LOG_LEVEL=loud: not one of debug, info, warn, warning, error" "... naming it"
run env LOG_FORMAT=xml "$DUCKMIG" engines
is "$rc/$err" "2/duckmig: LOG_FORMAT=xml: not one of text, json" "an unknown LOG_FORMAT: exit 2, named"
run env LOG_FORMAT=text LOG_LEVEL=warning "$DUCKMIG" engines
is "$rc" 0 "LOG_FORMAT=text and LOG_LEVEL=warning are understood"
run env LOG_LEVEL= LOG_FORMAT= "$DUCKMIG" engines
is "$rc" 0 "empty LOG_LEVEL and LOG_FORMAT are the defaults"
# a number in the environment that is not one: refused at start, named
# (atoi took DUCKMIG_THREADS=eight as 0, and RABBIT_HEARTBEAT=5s as 5)
run env DUCKMIG_THREADS=eight "$DUCKMIG" engines
is "$rc/$err" "2/duckmig: DUCKMIG_THREADS=eight: not a whole number from 1 to 1024" "DUCKMIG_THREADS=eight: exit 2, named"
run env RABBIT_HEARTBEAT=5s "$DUCKMIG" engines
like "$rc:$err" "2:*RABBIT_HEARTBEAT=5s: not a whole number*" "RABBIT_HEARTBEAT=5s: the same"
run env DUCKMIG_THREADS=2 DUCKMIG_STOP_TIMEOUT=0 "$DUCKMIG" engines
is "$rc" 0 "numbers in range are taken"
run env DUCKMIG_KEEP_ENGINES=yes "$DUCKMIG" engines
is "$rc/$err" "2/duckmig: DUCKMIG_KEEP_ENGINES=yes: not one of 0, 1" "a flag is 0 or 1: anything else is refused at start"
run env DUCKMIG_INDEXES=first "$DUCKMIG" engines
is "$rc/$err" "2/duckmig: DUCKMIG_INDEXES=first: not one of after, before" "... and a choice is one of its words"

# settings: one table, read once; the docs are that table
run env QUEUE_NAME=mine DUCKMIG_THREADS= AWS_SECRET_ACCESS_KEY=s3cr3t-value "$DUCKMIG" settings
is "$rc" 0 "settings: exit 0"
like "$out" "*QUEUE_NAME*environment*mine*" "settings: a variable from the environment, with its value"
like "$out" "*QUEUE_BIG*default*migrate_duckdb_release_big*" "... a default, said as one"
like "$out" "*DUCKMIG_THREADS*unset*" "... an empty variable is unset"
like "$out" "*AWS_SECRET_ACCESS_KEY*environment*(set)*" "... a secret is said to be set"
case $out in *s3cr3t-value*) ok 1 "... never printed" ;; *) ok 0 "... never printed" ;; esac
docs=$ROOT/docs/settings.md
run "$DUCKMIG" settings --markdown
is "$(sed -n '/^| variable |/,$p' "$docs")" "$out" "docs/settings.md's table is duckmig settings --markdown"
# every DUCKMIG_ variable the docs name is in the table (the scripts'
# own are theirs: get-duckdb's, the tests')
missing=
for v in $(grep -ohE 'DUCKMIG_[A-Z0-9_]*[A-Z0-9]' "$ROOT"/README.md "$ROOT"/docs/*.md | sort -u); do
    case $v in DUCKMIG_ALLOW_UNPINNED|DUCKMIG_ENGINE_CACHE|DUCKMIG_TEST_*) continue ;; esac
    grep -qF "| \`$v\` |" "$docs" || missing="$missing $v"
done
is "$missing" "" "every DUCKMIG_ variable the docs name is in the settings table"
# the environment is read in one place: the table's
is "$(grep -rln --include='*.c' 'getenv(' "$ROOT"/src | sed "s|$ROOT/||")" "src/util/settings.c" "getenv is called by the settings table alone"
run "$DUCKMIG" publish --big-threshold 1G
like "$rc:$err" "2:*--big-threshold '1G': not a number of bytes*" "publish --big-threshold 1G: exit 2, named"
run "$DUCKMIG" consume --max-messages many
like "$rc:$err" "2:*--max-messages 'many': not a whole number*" "consume --max-messages many: exit 2, named"

# engines: all four releases load, each in its own worker
run "$DUCKMIG" engines --load
is "$rc" 0 "engines --load: exit 0"
for rel in 0.6.1 0.7.1 0.8.1 1.5.6; do
    like "$out" "*$rel *loads as v$rel*" "engine $rel loads and reports v$rel"
done
like "$out" "*1.5.6     reads storage 64-68*" "1.5.6 reads 64-68"
run env DUCKMIG_ENGINES="$TMP/none" "$DUCKMIG" engines
is "$rc" 8 "no engines: exit 8"
like "$err" "*none installed (run scripts/get-duckdb)*" "no engines: says how to get them"

# sql: values, NULL and escapes; spellings of a release
run "$DUCKMIG" sql --engine duckdb0.8.1 :memory: "SELECT 1 AS a, NULL AS b, 'x'||chr(9)||'y' AS c, 'back\\slash' AS d"
is "$out" "$(printf 'a\tb\tc\td\n1\t\\N\tx\\ty\tback\\\\slash')" "sql: header, NULL as \\N, escapes"
run "$DUCKMIG" sql --engine v0.6.1 --no-header :memory: "SELECT version()"
is "$out" "v0.6.1" "sql: v0.6.1 spelling, --no-header"
run "$DUCKMIG" sql --engine latest --no-header :memory: "SELECT version()"
is "$out" "v1.5.6" "sql: latest is 1.5.6"
echo "SELECT 40 + 2 AS answer" >q.sql
run "$DUCKMIG" sql --engine 0.7.1 --no-header :memory: - <q.sql
is "$out" "42" "sql: SQL from standard input"

# the engine is picked from the file's header when not given
duckdb 0.7.1 seven.duckdb "CREATE TABLE t AS SELECT 7 AS i" >/dev/null
run "$DUCKMIG" sql --no-header seven.duckdb "SELECT i FROM t" "SELECT version()"
is "$out" "$(printf '7\nv0.7.1')" "sql: engine picked from the header (0.7.1)"
# a file name that is not UTF-8, or holds an escape sequence: inspect
# prints it escaped, and --json keeps the object (marked) instead of
# printing nothing
cp seven.duckdb "$(printf 'bad\xff\e[2J.duckdb')"
run "$DUCKMIG" inspect --json "$(printf 'bad\xff\e[2J.duckdb')"
is "$rc/$(jq -r '[.storage_version, .invalid_utf8, .path_escaped] | @tsv' <<<"$out")" \
   "$(printf '0/43\ttrue\tbad\\\\xff\\\\x1b[2J.duckdb')" "inspect --json: a name that is not UTF-8 kept, marked, escaped"
run "$DUCKMIG" inspect "$(printf 'bad\xff\e[2J.duckdb')"
[[ "$out" != *$'\e'* && "$out" == *'bad\xff\x1b[2J.duckdb'* ]]; ok $? "inspect: the name shown escaped"
run "$DUCKMIG" sql --read-only seven.duckdb "INSERT INTO t VALUES (8)"
is "$rc" 11 "sql --read-only refuses writes (exit 11)"
like "$err" "*read-only*" "read-only: DuckDB's message"

run "$DUCKMIG" sql --engine 0.8.1 :memory: "SELEC 1"
is "$rc" 11 "bad SQL: exit 11"
like "$err" "duckmig: sql: Parser Error: syntax error*" "bad SQL: DuckDB's message"
run "$DUCKMIG" sql --engine 0.5.1 :memory: "SELECT 1"
is "$rc" 8 "engine not installed: exit 8"
like "$err" "*DuckDB 0.5.1 is not installed*get-duckdb 0.5.1*" "engine not installed: says how to install"
run "$DUCKMIG" sql --engine 0.8 :memory: "SELECT 1"
is "$rc" 2 "bad release spelling: exit 2"
run "$DUCKMIG" sql new.duckdb "SELECT 1"
is "$rc" 2 "new file without --engine: exit 2"
like "$err" "*say which release creates it with --engine*" "new file: message"
[ ! -e new.duckdb ]; ok $? "no file was created"
run "$DUCKMIG" sql --engine 0.6.1 "$SHARED/corpus/real/51/Dashlane__dbt-invoke__dbt.duckdb" "SELECT 1"
is "$rc" 11 "0.6.1 cannot open a 0.8 file: exit 11"
like "$err" "*DuckDB 0.6.1 cannot open*" "wrong engine: names the release"
run "$DUCKMIG" sql --engine 0.6.1 --set no_such=1 :memory: "SELECT 1"
ok $([ "$rc" -ne 0 ] && echo 0 || echo 1) "unknown setting fails"
like "$err" "*no_such*" "unknown setting is named"

# logging: JSON lines on stderr when asked
run env LOG_LEVEL=debug LOG_FORMAT=json "$DUCKMIG" sql --engine 0.6.1 :memory: "SELECT 1"
line=$(grep '"component":"engine"' <<<"$err" | head -1)
is "$(jq -r '[.level, (.msg | startswith("started DuckDB 0.6.1"))] | @tsv' <<<"$line")" "$(printf 'debug\ttrue')" "LOG_FORMAT=json: a JSON debug line from the engine"
run env LOG_LEVEL=debug "$DUCKMIG" sql --engine 0.6.1 :memory: "SELECT 1"
like "$err" "duckmig: debug: engine: started DuckDB 0.6.1*" "human debug line"
run "$DUCKMIG" sql --engine 0.6.1 :memory: "SELECT 1"
is "$err" "" "no debug lines at the default level"
# dlq requeue of an id that is not there: an error that names it
start_rabbit "$TMP/rmq" || exit 1
printf '{"host":"127.0.0.1","port":%s,"username":"guest","password":"guest","vhost":"/"}' "$RABBIT_PORT" >rabbit.json
run env RABBIT_SECRET="$TMP/rabbit.json" "$DUCKMIG" dlq requeue deadbeef
is "$rc" 17 "dlq requeue of an id that does not exist: exit 17"
like "$err" "*no message with id 'deadbeef' in migrate_duckdb_release.dead*" "... naming it"
run env RABBIT_SECRET="$TMP/rabbit.json" "$DUCKMIG" dlq requeue --all
is "$rc" 0 "dlq requeue --all of an empty queue: exit 0"
done_testing
