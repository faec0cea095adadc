#!/usr/bin/env bash
# bench/fuzz.sh [SEEDS] [FIRST] - run generated-conformance seeds FIRST ..
# FIRST+SEEDS-1 (default 200 seeds from 1) and print a summary: seeds run,
# passed, failed (seed numbers and first difference), time per source
# release, and what migrations reported as not carried.
#
# Seed N is built by DuckDB ${FUZZ_RELEASES[N % count]} (default the four
# source releases in turn: 0.6.1 0.7.1 0.8.1 1.5.6) with tests/gen/gendb.py,
# migrated by $DUCKMIG (default ./duckmig) to every target that applies and
# checked by tests/gen/check.py (tests/gen/runseed.py does one seed).
#
# FUZZ_JOBS   seeds at once (default 1; each runs one migration at a time,
#             so keep it at 2 or less on a shared 2-core machine)
# FUZZ_DIR    where seeds run (default a new folder under $TMPDIR); the
#             folders of failing seeds are kept, passing ones removed
# FUZZ_RELEASES  source releases, space-separated
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
seeds=${1:-200}
first=${2:-1}
jobs=${FUZZ_JOBS:-1}
read -r -a rels <<<"${FUZZ_RELEASES:-0.6.1 0.7.1 0.8.1 1.5.6}"
: "${DUCKMIG:=$root/duckmig}"
: "${DUCKMIG_HELPER:=$root/build/release/duckmig}"
[ -x "$DUCKMIG_HELPER" ] || DUCKMIG_HELPER=$DUCKMIG
: "${DUCKMIG_ENGINES:=$root/engines}"
export DUCKMIG DUCKMIG_HELPER DUCKMIG_ENGINES
dir=${FUZZ_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/duckmig-fuzz.XXXXXX")}
mkdir -p "$dir"
# the binaries of this run, as they are now: a rebuild meanwhile (make, by
# someone else) changes nothing in the middle of a run (FUZZ_SNAPSHOT=0: off)
if [ "${FUZZ_SNAPSHOT:-1}" = 1 ]; then
    cp "$DUCKMIG" "$dir/duckmig-under-test" && DUCKMIG=$dir/duckmig-under-test
    cp "$DUCKMIG_HELPER" "$dir/duckmig-helper" && DUCKMIG_HELPER=$dir/duckmig-helper
fi
log=$dir/results.txt
: >"$log"
echo "# fuzz: seeds $first..$((first + seeds - 1)), ${#rels[@]} releases, $jobs at once, in $dir" >&2
start=$(date +%s)

one() { # SEED
    local s=$1 rel=${rels[$(($1 % ${#rels[@]}))]} w=$dir/seed-$1
    python3 "$root/tests/gen/runseed.py" "$s" "$rel" "$w" --quiet >"$w.out" 2>&1
    grep '^RESULT ' "$w.out" | tail -1 | sed 's/^RESULT //' >>"$log"
    if grep -q '"ok": true' <(grep '^RESULT ' "$w.out" | tail -1); then
        # keep the reports of what was not carried, drop the files
        mkdir -p "$dir/reports"
        for r in "$w"/to-*/*.report.json; do [ -f "$r" ] && cp "$r" "$dir/reports/$s-$(basename "$(dirname "$r")").json"; done
        rm -rf "$w" "$w.out"
    else
        printf '# seed %s (%s) FAILED: %s\n' "$s" "$rel" "$(grep '^FAIL' "$w.out" | head -1 | cut -c1-300)" >&2
    fi
}
export -f one
export dir log root
export FUZZ_RELS="${rels[*]}"
seq "$first" $((first + seeds - 1)) |
    xargs -P "$jobs" -I{} bash -c 'read -r -a rels <<<"$FUZZ_RELS"; one {}'
took=$(($(date +%s) - start))

python3 - "$log" "$took" "$dir" <<'PY'
import json, sys, glob, os, collections
log, took, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
res = [json.loads(l) for l in open(log) if l.strip()]
ok = [r for r in res if r["ok"]]
bad = [r for r in res if not r["ok"]]
print("fuzz summary: %d seeds run, %d passed, %d failed, %d s wall" % (len(res), len(ok), len(bad), took))
per = collections.defaultdict(lambda: [0, 0, 0.0])
for r in res:
    p = per[r["release"]]
    p[0] += 1
    p[1] += 0 if r["ok"] else 1
    p[2] += r.get("seconds", 0)
for rel in sorted(per):
    n, f, sec = per[rel]
    print("  source %s: %d seeds, %d failed, %.0f s (%.1f s a seed)" % (rel, n, f, sec, sec / max(n, 1)))
if bad:
    print("failed seeds:")
    for r in sorted(bad, key=lambda r: int(r["seed"])):
        for f in r["fails"]:
            print("  seed %s %s -> %s: %s" % (r["seed"], r["release"], f["target"], f["what"][:240].replace("\n", " ")))
nc = collections.Counter()
for p in glob.glob(os.path.join(d, "reports", "*.json")) + glob.glob(os.path.join(d, "seed-*", "to-*", "*.report.json")):
    try:
        rep = json.load(open(p))
    except Exception:
        continue
    for it in (rep.get("report") or {}).get("items") or []:
        if it.get("status") in ("not_carried", "changed"):
            det = it.get("detail") or ""
            nc["%s %s: %s" % (it.get("kind"), it.get("status"), det[:90])] += 1
if nc:
    print("reported as not carried / changed (count, kind, reason):")
    for k, n in nc.most_common(15):
        print("  %4d %s" % (n, k.replace("\n", " ")))
print("results: %s" % log)
sys.exit(1 if bad else 0)
PY
