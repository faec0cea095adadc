#!/usr/bin/env python3
"""reduce.py STMTS.json TARGET REGEX [WORKDIR]

Cut a generated database down to the fewest statements that still make
`$DUCKMIG migrate --to TARGET` (+ check.py when it migrates) print
something matching REGEX (a Python regular expression, searched in the
migration's exit line, JSON error, stderr and check output).

STMTS.json is what gendb.py wrote beside the file (OUTFILE.stmts.json).
Prints the minimal script, writes WORKDIR/min.sql and WORKDIR/min.stmts.json,
and prints a copy-pasteable `duckmig sql` line.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
os.environ.setdefault("DUCKMIG_ENGINES", os.path.join(ROOT, "engines"))


def attempt(stmts, rel, target, pattern, work, n=[0]):
    n[0] += 1
    d = os.path.join(work, "try")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    sj = os.path.join(d, "in.json")
    with open(sj, "w") as f:
        json.dump({"seed": "reduce", "release": rel, "stmts": stmts}, f)
    src = os.path.join(d, "r.duckdb")
    g = subprocess.run([sys.executable, os.path.join(HERE, "gendb.py"), "--replay", sj, rel, src,
                        "--marks", os.path.join(d, "marks")], capture_output=True, text=True)
    text = "gendb exit %d %s\n" % (g.returncode, g.stderr)
    duckmig = os.environ.get("DUCKMIG") or os.path.join(ROOT, "duckmig")
    os.makedirs(os.path.join(d, "out"))
    dst = os.path.join(d, "out", "r.duckdb")
    cmd = [duckmig, "migrate", "--json", "--to", target]
    if rel == "1.5.6":
        cmd += ["--storage-version", "v1.5.0"]
    p = subprocess.run(cmd + [src, dst], capture_output=True, text=True)
    text += "migrate exit %d\n%s\n%s\n" % (p.returncode, p.stdout, p.stderr)
    if p.returncode in (0, 14) and os.path.exists(dst):
        rep = os.path.join(d, "rep.json")
        with open(rep, "w") as f:
            f.write(p.stdout)
        c = subprocess.run([sys.executable, os.path.join(HERE, "check.py"), src, dst, rep,
                            "--marks", os.path.join(d, "marks")], capture_output=True, text=True)
        text += c.stdout + c.stderr
    ok = re.search(pattern, text, re.S) is not None
    with open(os.path.join(work, "last.txt"), "w") as f:
        f.write(text)
    return ok


def ddmin(stmts, test):
    n = 2
    while len(stmts) >= 2:
        chunk = max(1, len(stmts) // n)
        reduced = False
        for i in range(0, len(stmts), chunk):
            cand = stmts[:i] + stmts[i + chunk:]
            if cand and test(cand):
                stmts = cand
                n = max(n - 1, 2)
                reduced = True
                break
        if not reduced:
            if chunk == 1:
                break
            n = min(len(stmts), n * 2)
    return stmts


def skip_comment(text, i):
    """If a comment starts at i, the index after it (DuckDB nests /* */)."""
    if text.startswith("--", i):
        j = text.find("\n", i)
        return len(text) if j < 0 else j + 1
    if text.startswith("/*", i):
        depth, j = 0, i
        while j < len(text):
            if text.startswith("/*", j):
                depth += 1
                j += 2
            elif text.startswith("*/", j):
                depth -= 1
                j += 2
                if depth == 0:
                    return j
            else:
                j += 1
        return len(text)
    return i


def split_top(text):
    """Split text at top-level commas (outside quotes, parentheses and
    brackets). Returns the parts, stripped of the separating ", "."""
    parts, depth, cur, i, q = [], 0, [], 0, None
    while i < len(text):
        c = text[i]
        if q:
            cur.append(c)
            if c == q:
                if i + 1 < len(text) and text[i + 1] == q:
                    cur.append(q)
                    i += 1
                else:
                    q = None
        elif skip_comment(text, i) != i:
            j = skip_comment(text, i)
            cur.append(text[i:j])
            i = j
            continue
        elif c in "'\"":
            q = c
            cur.append(c)
        elif c in "([{":
            depth += 1
            cur.append(c)
        elif c in ")]}":
            depth -= 1
            cur.append(c)
        elif c == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur).strip())
    return parts


def outer_parens(text, start):
    """Index of the parenthesis closing the one at start."""
    depth, i, q = 0, start, None
    while i < len(text):
        c = text[i]
        if q:
            if c == q:
                if i + 1 < len(text) and text[i + 1] == q:
                    i += 1
                else:
                    q = None
        elif skip_comment(text, i) != i:
            i = skip_comment(text, i)
            continue
        elif c in "'\"":
            q = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def drop_column(stmts, si, ci):
    """stmts with column ci of the CREATE TABLE stmts[si] removed, and its
    value from every INSERT ... VALUES into that table; None if not possible."""
    ph, sql = stmts[si]
    m = re.match(r"CREATE TABLE (.*?) \(", sql, re.S)
    if not m:
        return None
    name = m.group(1)
    o = m.end() - 1
    c = outer_parens(sql, o)
    defs = split_top(sql[o + 1:c])
    if ci >= len(defs) or len(defs) < 2:
        return None
    colname = re.match(r'("(?:[^"]|"")*"|\S+)', defs[ci]).group(1)
    new = list(stmts)
    new[si] = [ph, sql[:o + 1] + ", ".join(defs[:ci] + defs[ci + 1:]) + sql[c:]]
    prefix = "INSERT INTO %s (" % name
    for k, (ph2, q) in enumerate(new):
        if not q.startswith(prefix):
            continue
        o2 = len(prefix) - 1
        c2 = outer_parens(q, o2)
        cols = split_top(q[o2 + 1:c2])
        if colname not in cols:
            continue
        j = cols.index(colname)
        rest = q[c2 + 1:]
        mv = re.match(r"\s*VALUES\s*", rest)
        if not mv:
            return None
        rows = split_top(rest[mv.end():])
        out_rows = []
        for r in rows:
            vals = split_top(r.strip()[1:-1])
            if len(vals) != len(cols):
                return None
            out_rows.append("(" + ", ".join(vals[:j] + vals[j + 1:]) + ")")
        cols2 = cols[:j] + cols[j + 1:]
        if not cols2:
            return None
        new[k] = [ph2, prefix + ", ".join(cols2) + ") VALUES " + ", ".join(out_rows)]
    return new


def drop_columns(stmts, test):
    """Second pass: remove columns (and table constraints) one at a time."""
    for si in range(len(stmts)):
        ci = 0
        while True:
            if not stmts[si][1].startswith("CREATE TABLE"):
                break
            cand = drop_column(stmts, si, ci)
            if cand is None:
                break
            if test(cand):
                stmts = cand
            else:
                ci += 1
    return stmts


def drop_rows(stmts, test):
    """Third pass: remove rows of INSERT ... VALUES one at a time."""
    for si in range(len(stmts)):
        ri = 0
        while True:
            ph, q = stmts[si]
            m = re.match(r"(INSERT INTO .*?\)) VALUES ", q, re.S)
            if not m or not q.startswith("INSERT INTO "):
                break
            o = q.index("(")
            c = outer_parens(q, o)
            rest = q[c + 1:]
            mv = re.match(r"\s*VALUES\s*", rest)
            if not mv:
                break
            rows = split_top(rest[mv.end():])
            if ri >= len(rows) or len(rows) < 2:
                break
            cand = list(stmts)
            cand[si] = [ph, q[:c + 1] + " VALUES " + ", ".join(rows[:ri] + rows[ri + 1:])]
            if test(cand):
                stmts = cand
            else:
                ri += 1
    return stmts


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    sj, target, pattern = argv[:3]
    work = os.path.abspath(argv[3] if len(argv) > 3 else sj + ".reduce")
    os.makedirs(work, exist_ok=True)
    with open(sj) as f:
        data = json.load(f)
    rel = data["release"]
    stmts = [list(x) for x in data["stmts"]]
    test = lambda s: attempt(s, rel, target, pattern, work)
    if not test(stmts):
        print("reduce: the full script does not match %r (see %s/last.txt)" % (pattern, work))
        return 1
    stmts = ddmin(stmts, test)
    stmts = drop_columns(stmts, test)
    stmts = drop_rows(stmts, test)
    stmts = ddmin(stmts, test)
    test(stmts)  # leave last.txt for the minimal one
    with open(os.path.join(work, "min.stmts.json"), "w") as f:
        json.dump({"seed": "min", "release": rel, "stmts": stmts}, f, ensure_ascii=False, indent=0)
    with open(os.path.join(work, "min.sql"), "w") as f:
        for ph, s in stmts:
            f.write(s + ";" + ("  -- (wal phase)" if ph == "wal" else "") + "\n")
    print("reduce: %d statements (%s)" % (len(stmts), work))
    main_s = [s for ph, s in stmts if ph == "main"]
    wal_s = [s for ph, s in stmts if ph == "wal"]
    print("duckmig sql --engine %s f.duckdb %s" % (rel, " ".join(shlex.quote(s) for s in main_s)))
    if wal_s:
        print("duckmig sql --engine %s f.duckdb 'PRAGMA disable_checkpoint_on_shutdown' %s" % (
            rel, " ".join(shlex.quote(s) for s in wal_s)))
    print("duckmig migrate --to %s f.duckdb out/f.duckdb" % target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
