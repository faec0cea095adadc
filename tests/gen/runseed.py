#!/usr/bin/env python3
"""runseed.py SEED SOURCE_RELEASE WORKDIR [--targets T1,T2] [--quiet]

Run one generated-conformance seed: build the source file with gendb.py,
migrate it with $DUCKMIG (the binary under test) to each target, check
each result with check.py, and check that the source file and its WAL
are byte-identical afterwards.

Targets (default: every target that applies): a 0.6.1 or 0.7.1 source
goes to 0.8.1 and 1.5.6; a 0.8.1 source to 0.8.1 (expected: exit 0,
already_at_target, nothing written) and 1.5.6; a 1.5.6 source to 1.5.6
with a newer --storage-version (v1.2.0 for even seeds, v1.5.0 for odd).

Prints one line per target, `PASS ...` or `FAIL ...: first problem`,
and a last line `RESULT {json}`; exit 1 when any target failed.
"""
import hashlib
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
os.environ.setdefault("DUCKMIG_ENGINES", os.path.join(ROOT, "engines"))


def sha(path):
    out = []
    for p in (path, path + ".wal"):
        if os.path.exists(p):
            with open(p, "rb") as f:
                out.append(hashlib.sha256(f.read()).hexdigest())
        else:
            out.append("-")
    return out


def unreadable_once_checkpointed(src, rel, work):
    """Does the source's own release fail to open the file once its WAL is
    replayed and checkpointed (a DuckDB bug: 0.6-0.8 write some catalogs
    they cannot read back, seed 90)? Found with `duckmig sql` only, on a
    copy. Then the file cannot be migrated; duckmig must say so (exit 21,
    damaged) and write nothing.

    Returns a function that gives the answer: the copy is taken now, the
    two `duckmig sql` calls run in a thread meanwhile (beside the first
    migration, which does not need the answer until it is judged)."""
    if not os.path.exists(src + ".wal"):
        return lambda: False
    import shutil
    import threading
    d = os.path.join(work, "checkpointed")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    copy = os.path.join(d, os.path.basename(src))
    shutil.copy(src, copy)
    shutil.copy(src + ".wal", copy + ".wal")
    helper = os.environ.get("DUCKMIG_HELPER") or os.path.join(ROOT, "duckmig")
    answer = []

    def ask():
        try:
            a = subprocess.run([helper, "sql", "--engine", rel, copy, "CHECKPOINT"], capture_output=True)
            b = subprocess.run([helper, "sql", "--engine", rel, "--read-only", copy, "SELECT 1"],
                               capture_output=True)
            answer.append(a.returncode == 0 and b.returncode != 0)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    t = threading.Thread(target=ask)
    t.start()

    def get():
        t.join()
        if not answer:
            raise SystemExit("runseed: the checkpointed-copy check failed to run")
        return answer[0]
    return get


def targets_for(rel):
    return {"0.6.1": ["0.8.1", "1.5.6"], "0.7.1": ["0.8.1", "1.5.6"],
            "0.8.1": ["0.8.1", "1.5.6"], "1.5.6": ["1.5.6"]}[rel]


def main(argv):
    args = list(argv)
    quiet = "--quiet" in args
    if quiet:
        args.remove("--quiet")
    targets = None
    if "--targets" in args:
        k = args.index("--targets")
        targets = [t for t in args[k + 1].split(",") if t]
        del args[k:k + 2]
    if len(args) != 3:
        sys.stderr.write(__doc__)
        return 2
    seed, rel, work = args
    duckmig = os.environ.get("DUCKMIG") or os.path.join(ROOT, "duckmig")
    os.makedirs(work, exist_ok=True)
    work = os.path.abspath(work)
    # check.py asks each release for its built-in macros once per folder
    os.environ.setdefault("CHECK_CACHE_DIR", os.path.join(work, "check-cache"))
    marks = os.path.join(work, "marks")
    srcdir = os.path.join(work, "src")
    os.makedirs(srcdir, exist_ok=True)
    src = os.path.join(srcdir, "s%s.duckdb" % seed)
    results = []
    t0 = time.time()
    g = subprocess.run([sys.executable, os.path.join(HERE, "gendb.py"), seed, rel, src, "--marks", marks],
                       capture_output=True, text=True)
    tgen = time.time() - t0
    if g.returncode == 4:
        # the release cannot reopen the file it wrote: a DuckDB bug the
        # generator walked into, nothing to migrate
        print("SKIP seed %s %s: %s" % (seed, rel, g.stderr.strip()[-300:]))
        print("RESULT " + json.dumps({"seed": seed, "release": rel, "ok": True, "skipped": True, "fails": [],
                                      "seconds": round(time.time() - t0, 1)}))
        return 0
    if g.returncode != 0:
        line = "FAIL seed %s %s gen: gendb exit %d: %s" % (seed, rel, g.returncode, g.stderr.strip()[-400:])
        print(line)
        print("RESULT " + json.dumps({"seed": seed, "release": rel, "ok": False,
                                      "fails": [{"target": "gen", "what": line}]}))
        return 1
    if not quiet:
        print("# " + g.stderr.strip())
    before = sha(src)
    damaged_answer = unreadable_once_checkpointed(src, rel, work)
    fails = []
    for tgt in targets or targets_for(rel):
        t1 = time.time()
        out = os.path.join(work, "to-" + tgt)
        os.makedirs(out, exist_ok=True)
        dst = os.path.join(out, "s%s.duckdb" % seed)
        for p in (dst, dst + ".wal"):
            if os.path.exists(p):
                os.remove(p)
        cmd = [duckmig, "migrate", "--json", "--to", tgt]
        if rel == "1.5.6":
            cmd += ["--storage-version", "v1.2.0" if int(seed) % 2 == 0 else "v1.5.0"]
        cmd += [src, dst]
        for attempt in range(30):
            try:
                p = subprocess.run(cmd, capture_output=True, text=True)
                break
            except OSError:  # the binary is being rebuilt
                time.sleep(2)
        tmig = time.time() - t1
        try:
            rep = json.loads(p.stdout)
        except ValueError:
            rep = {}
        with open(dst + ".report.json", "w") as f:
            f.write(p.stdout)
        with open(dst + ".stderr", "w") as f:
            f.write(p.stderr)
        status = rep.get("status")
        tag = "seed %s %s -> %s" % (seed, rel, tgt)
        problem = None
        damaged = damaged_answer()
        if damaged:
            if p.returncode != 21 or os.path.exists(dst):
                problem = ("DuckDB %s cannot read this file back once checkpointed: expected exit 21 "
                           "(damaged) and no DST, got exit %d: %s" % (
                               rel, p.returncode, (rep.get("error") or p.stderr.strip())[-300:]))
        elif rel == "0.8.1" and tgt == "0.8.1":
            if p.returncode != 0 or status != "already_at_target":
                problem = "expected already_at_target (exit 0), got exit %d status %s: %s" % (
                    p.returncode, status, (rep.get("error") or p.stderr.strip()[-300:]))
            elif os.path.exists(dst):
                problem = "already at target, but DST was written"
        elif p.returncode not in (0, 14):
            err = rep.get("error") or ""
            problem = "migrate exit %d (%s): %s" % (p.returncode, status, (str(err) or p.stderr.strip())[-500:])
        elif p.returncode == 0 and status != "migrated":
            problem = "exit 0 but status %s" % status
        elif p.returncode == 14 and status != "incomplete":
            problem = "exit 14 but status %s" % status
        elif not os.path.exists(dst):
            problem = "exit %d but no DST" % p.returncode
        else:
            c = subprocess.run([sys.executable, os.path.join(HERE, "check.py"), src, dst, dst + ".report.json",
                                "--marks", marks], capture_output=True, text=True)
            with open(dst + ".check", "w") as f:
                f.write(c.stdout + c.stderr)
            if c.returncode != 0:
                lines = [l for l in (c.stdout + c.stderr).split("\n") if l.startswith("DIFF") or "check:" in l]
                if "Traceback" in c.stderr:
                    problem = "check.py crashed: " + c.stderr.strip().split("\n")[-1][:300]
                else:
                    problem = "check: " + (lines[0] if lines else (c.stdout + c.stderr).strip()[-400:])
        if os.path.isdir(marks) and os.listdir(marks):
            problem = (problem or "") + " INJECTION: marks left: %s" % sorted(os.listdir(marks))
        took = time.time() - t1
        if problem:
            fails.append({"target": tgt, "what": problem})
            print("FAIL %s: %s   [migrate %.1fs, total %.1fs; %s]" % (tag, problem, tmig, took, out))
        else:
            print("PASS %s (%s)   [migrate %.1fs, total %.1fs]" % (tag, status, tmig, took))
    after = sha(src)
    if after != before:
        fails.append({"target": "src", "what": "SRC or its WAL changed: %s -> %s" % (before, after)})
        print("FAIL seed %s %s: SRC or its WAL changed" % (seed, rel))
    print("RESULT " + json.dumps({"seed": seed, "release": rel, "ok": not fails, "fails": fails,
                                  "seconds": round(time.time() - t0, 1), "gen_seconds": round(tgen, 1)}))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
