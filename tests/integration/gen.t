#!/usr/bin/env bash
# gen.t - generated conformance: files built from seeds by tests/gen/gendb.py
# (awkward and hostile names, every object kind and column type, deleted and
# updated rows, WALs) with each source release, migrated by $DUCKMIG and
# checked by the independent tests/gen/check.py (not `duckmig verify`); the
# source must stay byte-identical and no injected statement may run.
#
# A fixed set of seeds that pass, then every seed of tests/gen/regressions.txt
# (SEED SOURCE_RELEASE TARGET # what it found). A regression whose comment
# starts with TODO is a known, still open failure: it runs, and reports as a
# TAP TODO (not ok ... # TODO) until duckmig is fixed; then prove says "TODO
# passed" and the TODO can be dropped from the line.
#
# GEN_SEEDS="S:REL ..." replaces the fixed seeds (e.g. to run one seed).
. "$(dirname "$0")/../lib.sh"
cd "$TMP"
# check.py asks each release for its built-in macros once for all seeds
export CHECK_CACHE_DIR=$TMP/check-cache
# python3 as the interpreter itself, not a version manager's shim (pyenv:
# up to a second a call on a busy machine, once per seed); the same python3
PATH=$(dirname "$(python3 -c 'import sys; print(sys.executable)')"):$PATH

# todo GOT-EXIT-STATUS NAME REASON: a test expected to fail for now
todo() {
    _n=$((_n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $_n - $2 # TODO $3"
    else
        echo "not ok $_n - $2 # TODO $3"
    fi
}

# run_seed SEED REL [TARGET] [TODO-REASON]: one TAP line per target
run_seed() {
    local seed=$1 rel=$2 target=${3:-} reason=${4:-} args=() line st name
    [ -n "$target" ] && args=(--targets "$target")
    python3 "$ROOT/tests/gen/runseed.py" "$seed" "$rel" "w-$seed-$rel" --quiet "${args[@]}" >"out-$seed-$rel" 2>&1
    local any=0
    while IFS= read -r line; do
        case "$line" in
            PASS*) st=0 ;;
            FAIL*) st=1 ;;
            SKIP*) any=1; skip "${line#SKIP }"; continue ;;
            *) continue ;;
        esac
        any=1
        name=${line#* }
        name=${name%%:*}
        name=${name%% (*}
        name=${name%%   \[*}
        if [ -n "$reason" ]; then
            todo "$st" "$name" "$reason"
        else
            ok "$st" "$name"
        fi
        [ "$st" -ne 0 ] && printf '#   %s\n' "$(cut -c1-600 <<<"$line")"
    done <"out-$seed-$rel"
    if [ "$any" -eq 0 ]; then
        ok 1 "seed $seed $rel: runseed.py printed no result"
        sed 's/^/#   /' "out-$seed-$rel" | head -20
    fi
}

# the fixed seeds: (seed, source release), seeds that pass, a few per release
# (under the sanitizers, which are slower, three of them and no
# regressions: the release run covers those)
fixed="28:0.6.1 73:0.7.1 45:0.7.1 58:0.8.1 47:1.5.6 51:1.5.6"
[ "${DUCKMIG_VARIANT:-release}" = asan ] && fixed="28:0.6.1 73:0.7.1 51:1.5.6"
fixed=${GEN_SEEDS:-$fixed}
for sr in $fixed; do
    run_seed "${sr%%:*}" "${sr##*:}"
done

# every seed that ever failed
if [ -z "${GEN_SEEDS:-}" ] && [ "${DUCKMIG_VARIANT:-release}" != asan ]; then
    while IFS= read -r line; do
        [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
        read -r seed rel target _ <<<"${line%%#*}"
        comment=
        [[ "$line" == *"#"* ]] && comment=${line#*#}
        comment=${comment# }
        reason=
        if [[ "$comment" == TODO* ]]; then
            reason=${comment#TODO}
            reason=${reason# }
            reason=${reason:-open}
        fi
        run_seed "$seed" "$rel" "$target" "$reason"
    done <"$ROOT/tests/gen/regressions.txt"
fi
done_testing
