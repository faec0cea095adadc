#!/usr/bin/env bash
# store-local.t - the local / EFS backend through `duckmig cp` and `ls`:
# keys under MIGRATE_SRC and MIGRATE_DST, traversal refused (.., absolute,
# symlinks out of the root), atomic replace, a full disk leaves nothing, a
# FIFO hangs nothing (cp, inspect, migrate, verify).
. "$(dirname "$0")/../lib.sh"
cd "$TMP"

mkdir -p src/51/9324670152232801 dst outside
export MIGRATE_SRC=$TMP/src/ MIGRATE_DST=$TMP/dst/
head -c 100000 /dev/urandom >src/51/9324670152232801/VolumeCases.duckdb
head -c 10 /dev/urandom >src/51/9324670152232801/VolumeCases.new.duckdb
echo "not for you" >outside/secret.txt

run "$DUCKMIG" cp efs:51/9324670152232801/VolumeCases.duckdb efs:51/9324670152232801/VolumeCases.duckdb
is "$rc" 0 "efs: to efs: reads under MIGRATE_SRC, writes under MIGRATE_DST"
cmp -s src/51/9324670152232801/VolumeCases.duckdb dst/51/9324670152232801/VolumeCases.duckdb
ok $? "... creating the folders, same bytes"
run "$DUCKMIG" ls efs:51/
is "$(awk '{ print $2 }' <<<"$out" | tr '\n' ' ')" \
   "51/9324670152232801/VolumeCases.duckdb 51/9324670152232801/VolumeCases.new.duckdb " \
   "ls efs:PREFIX lists keys under MIGRATE_SRC in order"
run "$DUCKMIG" ls --json efs:51/9324670152232801/VolumeCases.n
is "$(jq -r '"\(.key) \(.size)"' <<<"$out")" "51/9324670152232801/VolumeCases.new.duckdb 10" \
   "a prefix that ends inside a file name"

# keys that leave the root
for key in "../outside/secret.txt" "/etc/passwd" "51/../../outside/secret.txt" "51//x" "./51/x"; do
    run "$DUCKMIG" cp "efs:$key" got
    is "$rc" 18 "key '$key' is refused (exit 18)"
    [ ! -e got ]; ok $? "... and nothing is written"
done
ln -s "$TMP/outside" src/51/escape
ln -s "$TMP/outside/secret.txt" src/51/escape.duckdb
run "$DUCKMIG" cp efs:51/escape/secret.txt got
is "$rc" 18 "a symlinked folder that leads out of the root is refused"
like "$err" "*leads out of*" "... saying why"
run "$DUCKMIG" cp efs:51/escape.duckdb got
is "$rc" 18 "a symlinked file that leads out of the root is refused"
run "$DUCKMIG" ls efs:51/
[[ "$out" != *escape* ]]; ok $? "ls does not follow symlinks out of the root"
ln -s 9324670152232801/VolumeCases.duckdb src/51/inside.duckdb
run "$DUCKMIG" cp efs:51/inside.duckdb got
is "$rc" 0 "a symlink that stays inside the root is followed"
ln -s "$TMP/outside" dst/51/escape
run "$DUCKMIG" cp src/51/9324670152232801/VolumeCases.duckdb efs:51/escape/planted.duckdb
is "$rc" 18 "writing through a symlink out of MIGRATE_DST is refused"
[ ! -e outside/planted.duckdb ]; ok $? "... and nothing lands outside"

# atomic replace: a reader of the old file keeps the old bytes; no
# temporary file is left beside the new one
head -c 5000 /dev/urandom >new-version
exec 7<dst/51/9324670152232801/VolumeCases.duckdb
old_sum=$(sha256sum src/51/9324670152232801/VolumeCases.duckdb | cut -d' ' -f1)
run "$DUCKMIG" cp new-version efs:51/9324670152232801/VolumeCases.duckdb
is "$rc" 0 "an existing destination is replaced"
cmp -s new-version dst/51/9324670152232801/VolumeCases.duckdb; ok $? "... by the new bytes"
is "$(sha256sum <&7 | cut -d' ' -f1)" "$old_sum" "... while an open reader still sees the old file whole"
exec 7<&-
is "$(ls -A dst/51/9324670152232801)" "VolumeCases.duckdb" "... and no temporary file is left"

# the temporary file of a writer that was killed mid-copy is removed by
# the next write beside it; a live writer's (its lock held) is not
d=dst/51/9324670152232801
head -c 1000 /dev/urandom >"$d/.VolumeCases.duckdb.duckmig-deadbeef"
head -c 1000 /dev/urandom >"$d/.VolumeCases.duckdb.duckmig-0000a11e"
bash -c 'exec 9<"$1" && flock 9 && exec sleep 30' _ "$d/.VolumeCases.duckdb.duckmig-0000a11e" &
lock_pid=$!
sleep 0.3
run "$DUCKMIG" cp new-version efs:51/9324670152232801/VolumeCases.duckdb
is "$rc/$(ls -A "$d" | tr '\n' ' ')" "0/.VolumeCases.duckdb.duckmig-0000a11e VolumeCases.duckdb " \
   "a dead writer's temporary file is removed, a live one's kept"
kill "$lock_pid"
wait "$lock_pid" 2>/dev/null
rm "$d/.VolumeCases.duckdb.duckmig-0000a11e"

# local paths: to a folder, missing source
mkdir -p plain
run "$DUCKMIG" cp new-version plain/
cmp -s new-version plain/new-version; ok $? "a local path to a folder keeps the file name"
run "$DUCKMIG" cp no-such-file plain/x
is "$rc" 17 "a missing source: exit 17"
run "$DUCKMIG" cp efs:51/none.duckdb plain/x
is "$rc" 17 "a missing key: exit 17"
like "$err" "*no '51/none.duckdb' in*" "... naming it"

# a full disk: the copy fails and leaves nothing
head -c $((2 * 1024 * 1024)) /dev/urandom >two-mib
run bash -c "ulimit -f 1024; exec \"$DUCKMIG\" cp two-mib efs:limited/two-mib"
ok "$([ "$rc" -ne 0 ] && echo 0 || echo 1)" "a file size limit: cp fails (exit $rc)"
is "$(ls -A dst/limited 2>/dev/null)" "" "... and leaves no file behind"
mkdir -p tiny
if mount -t tmpfs -o size=1m tmpfs tiny 2>/dev/null; then
    run env MIGRATE_DST="$TMP/tiny" "$DUCKMIG" cp two-mib efs:a/two-mib
    is "$rc" 3 "disk full (1 MiB tmpfs): exit 3"
    like "$err" "*No space left*" "... saying so"
    is "$(ls -A tiny/a)" "" "... and no partial or temporary file"
    umount tiny
else
    skip "cannot mount a tmpfs here"
    skip "cannot mount a tmpfs here"
    skip "cannot mount a tmpfs here"
fi
run env MIGRATE_SRC="$TMP/none" "$DUCKMIG" ls efs:
is "$rc" 17 "a missing root: exit 17"

# a FIFO under a database's name hangs nothing: every open of a path a
# user names is non-blocking until it is known to be a regular file
mkfifo src/51/pipe.duckdb
ln -s pipe.duckdb src/51/to-pipe.duckdb
for cmd in "inspect src/51/pipe.duckdb" "migrate src/51/pipe.duckdb fifo-out.duckdb" \
           "verify src/51/pipe.duckdb src/51/pipe.duckdb" "cp src/51/pipe.duckdb fifo-copy" \
           "cp efs:51/pipe.duckdb fifo-copy" "cp efs:51/to-pipe.duckdb fifo-copy" \
           "cp src/51/pipe.duckdb efs:x/pipe.duckdb"; do
    run timeout 20 "$DUCKMIG" $cmd
    ok "$([ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && echo 0 || echo 1)" "$cmd: refused at once (exit $rc)"
    like "$err" "*not a *file*" "... saying it is not a file"
done
[ ! -e fifo-out.duckdb ] && [ ! -e fifo-copy ] && [ ! -e dst/x/pipe.duckdb ]; ok $? "... and nothing was written"
run timeout 20 "$DUCKMIG" ls efs:51/
is "$rc" 0 "ls lists beside a FIFO and a symlink to it"
like "$err" "*pipe.duckdb: not a regular file*to-pipe.duckdb: not a regular file*" "... naming them on stderr"

done_testing
