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
TMP=$(mktemp -d "${TMPDIR:-/tmp}/duckmig-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
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
        printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
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
        printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
        _failed=$((_failed + 1))
    fi
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
