#!/usr/bin/env python3
"""check.py SRC DST REPORT.json [--marks DIR] [--max-diffs N]

An independent check of a migration: SRC (read by its own release) and
DST (read by the target release) are dumped through
`$DUCKMIG_HELPER sql --read-only FILE "SQL"...` and compared. Nothing of
duckmig's own `verify` or migration code is used: only its `sql` command,
which runs a statement in a DuckDB release and prints the rows.

Compared: schemas; ENUM types and their labels in order; other user
types; sequences (settings, and the next value, taken on copies of both
files); per table the columns in order (name, type normalized across
releases, NOT NULL, default: as text and as the value it gives), the
constraints (kind, columns, foreign key target), and every row (a
canonical text of every value, computed in SQL by the release itself,
sorted); views (columns and rows); macros (kind, parameters, what they
return for a few argument lists); indexes (name, table, unique).

REPORT.json is `duckmig migrate --json` output: every object it lists
with status not_carried or changed is expected to differ and skipped,
but must carry a reason. DST must hold nothing SRC does not. The marks
folder (--marks) must be empty: no injected COPY ran.

Prints each difference; exit 0 when equal, 1 on any difference, 2 on
usage or when a file cannot be read at all.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DUCKMIG_ENGINES", os.path.join(ROOT, "engines"))
MARK = "@@check-q"


def helper():
    h = os.environ.get("DUCKMIG_HELPER")
    if h:
        return h
    for p in (os.path.join(ROOT, "build/release/duckmig"), os.path.join(ROOT, "duckmig")):
        if os.access(p, os.X_OK):
            return p
    return "duckmig"


def qi(name):
    return '"' + name.replace('"', '""') + '"'


def qs(text):
    return "'" + text.replace("'", "''") + "'"


def qn(schema, name):
    return qi(schema) + "." + qi(name)


def unescape(field):
    if field == "\\N":
        return None
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        c = field[i]
        if c == "\\" and i + 1 < len(field):
            n = field[i + 1]
            out.append({"t": "\t", "n": "\n", "\\": "\\", "r": "\r"}.get(n, "\\" + n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def run_retry(cmd, **kw):
    """subprocess.run, again when the binary is being rebuilt meanwhile."""
    import time
    for i in range(30):
        try:
            return subprocess.run(cmd, capture_output=True, **kw)
        except OSError:
            if i == 29:
                raise
            time.sleep(2)


class Err:
    def __init__(self, msg):
        self.msg = msg

    def __repr__(self):
        return "ERROR(%s)" % self.msg


class DB:
    """One database file, read through `duckmig sql`."""

    def __init__(self, path, engine=None, read_only=True, label=""):
        self.path = path
        self.engine = engine
        self.read_only = read_only
        self.label = label
        self.release = None

    def run(self, queries, stop_on_error=False):
        """Run each query alone; return a list of row lists (tuples of
        str/None) or Err for the queries that failed (stop_on_error: the
        queries after the first that failed are not run, and are Err)."""
        res = [None] * len(queries)
        i = 0
        h = helper()
        base = [h, "sql", "--no-header"]
        if self.read_only:
            base.append("--read-only")
        if self.engine:
            base += ["--engine", self.engine]
        base.append(self.path)
        while i < len(queries):
            args, size, j, stdin = [], 0, i, None
            # a query longer than one argument may be (128 KiB: a table of
            # thousands of columns) goes alone, on standard input ('-')
            if len(queries[i].encode()) > 100000:
                args = ["SELECT '%s %d'" % (MARK, i), "-"]
                stdin = queries[i].encode()
                j = i + 1
            while stdin is None and j < len(queries) and size < 300000 and j - i < 300 \
                    and len(queries[j].encode()) <= 100000:
                args += ["SELECT '%s %d'" % (MARK, j), queries[j]]
                size += len(queries[j].encode()) + 30
                j += 1
            args.append("SELECT '%s %d'" % (MARK, j))
            try:
                p = run_retry(base + args, timeout=900, input=stdin)
                out = p.stdout.decode("utf-8", "surrogateescape")
                err = p.stderr.decode("utf-8", "replace")
                rc = p.returncode
            except subprocess.TimeoutExpired:
                out, err, rc = "", "timeout", -1
            cur = None
            rows = {}
            seen = []
            for line in out.split("\n"):
                if line.startswith(MARK + " "):
                    cur = int(line.split()[1])
                    seen.append(cur)
                    rows.setdefault(cur, [])
                    continue
                if cur is not None and cur < j:
                    rows[cur].append(tuple(unescape(f) for f in line.split("\t")))
            # a query's rows are complete once the next marker printed
            done = [k for k in seen if k < j and (k + 1) in seen]
            for k in range(i, j):
                if k in done:
                    res[k] = rows[k]
            nxt = i
            while nxt < j and res[nxt] is not None:
                nxt += 1
            if nxt == j:
                i = j
                continue
            if "is not installed" in err or "cannot open" in err and nxt == i and i == 0:
                raise SystemExit("check: %s: %s" % (self.path, err.strip()))
            res[nxt] = Err(" ".join(err.strip().split("\n")[:3])[:400] or "rc %d" % rc)
            i = nxt + 1
            if stop_on_error:
                for k in range(i, len(queries)):
                    res[k] = Err("not run: an earlier query failed")
                break
        return res

    def one(self, q):
        r = self.run([q])[0]
        return r


# ---------------------------------------------------------------- types

BUILTIN = [
    "TIMESTAMP WITH TIME ZONE", "TIME WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS",
    "TIMESTAMP_S", "TIMESTAMPTZ", "TIMESTAMP", "TIMETZ", "TIME_NS", "TIME", "BOOLEAN",
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UHUGEINT", "UTINYINT",
    "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL", "VARCHAR", "BLOB",
    "DATE", "INTERVAL", "UUID", "BIT", "JSON", "BIGNUM", "VARINT", "NULL", "STRUCT",
    "MAP", "UNION", "ENUM", "LIST",
]
SYNONYM = {"TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ", "TIME WITH TIME ZONE": "TIMETZ",
           "VARINT": "BIGNUM"}
STRINGY = {"VARCHAR", "BLOB", "JSON"}


class TypeParser:
    """Parse a type as a release prints it. 0.6 prints STRUCT member
    names bare, 0.6-0.8 print user types by their bare name: both are
    resolved by trying the names the file's catalog holds, and by
    backtracking over where a bare member name ends."""

    def __init__(self, s, user_names, release=""):
        self.s = s
        self.users = sorted(user_names, key=len, reverse=True)
        self.bare_first = release.startswith("0.6")
        # 0.7/0.8 print UNION member names bare
        self.bare_union = release.startswith("0.")

    def parse(self):
        for t, end in self.types(0):
            if end == len(self.s):
                return t
        return ("unparsed", self.s)

    def delim(self, pos):
        return pos >= len(self.s) or self.s[pos] in "[,)"

    def suffixes(self, t, pos):
        """LIST [] and ARRAY [n] suffixes."""
        yield t, pos
        s = self.s
        if pos < len(s) and s[pos] == "[":
            m = re.match(r"\[(\d*)\]", s[pos:])
            if m:
                nt = ("list", t) if m.group(1) == "" else ("array", t, int(m.group(1)))
                yield from self.suffixes(nt, pos + m.end())

    def types(self, pos):
        s = self.s
        # a user type (0.6-0.8 print them bare)
        for u in self.users:
            if s.startswith(u, pos) and self.delim(pos + len(u)):
                yield from self.suffixes(("user", u), pos + len(u))
        if pos < len(s) and s[pos] == '"':  # a quoted user type name
            name, end = self.quoted(pos, '"')
            if end is not None:
                yield from self.suffixes(("user", name), end)
        up = s[pos:].upper()
        for b in BUILTIN:
            if up.startswith(b) and (pos + len(b) >= len(s) or not (s[pos + len(b)].isalnum() or s[pos + len(b)] == "_")):
                name = SYNONYM.get(b, b)
                p = pos + len(b)
                if name in ("STRUCT", "UNION") and p < len(s) and s[p] == "(":
                    for fields, end in self.fields(p + 1, name):
                        yield from self.suffixes((name.lower(), tuple(fields)), end)
                    return
                if name == "MAP" and p < len(s) and s[p] == "(":
                    for k, e1 in self.types(p + 1):
                        if s.startswith(", ", e1):
                            for v, e2 in self.types(e1 + 2):
                                if e2 < len(s) and s[e2] == ")":
                                    yield from self.suffixes(("map", k, v), e2 + 1)
                    return
                if name == "ENUM" and p < len(s) and s[p] == "(":
                    labels, q = [], p + 1
                    while q < len(s) and s[q] == "'":
                        lab, q = self.quoted(q, "'")
                        if q is None:
                            return
                        labels.append(lab)
                        if s.startswith(", ", q):
                            q += 2
                    if q < len(s) and s[q] == ")":
                        yield from self.suffixes(("enum", tuple(labels)), q + 1)
                    return
                if name == "DECIMAL":
                    m = re.match(r"\((\d+),\s*(\d+)\)", s[p:])
                    if m:
                        yield from self.suffixes(("decimal", int(m.group(1)), int(m.group(2))), p + m.end())
                        return
                if name == "VARCHAR":
                    m = re.match(r"\(\d+\)", s[p:])
                    if m:
                        p += m.end()
                yield from self.suffixes(("scalar", name), p)
                return

    def quoted(self, pos, q):
        s = self.s
        i = pos + 1
        out = []
        while i < len(s):
            if s[i] == q:
                if i + 1 < len(s) and s[i + 1] == q:
                    out.append(q)
                    i += 2
                    continue
                return "".join(out), i + 1
            out.append(s[i])
            i += 1
        return None, None

    def fields(self, pos, kind="STRUCT"):
        """STRUCT/UNION members from pos to the closing parenthesis."""
        s = self.s
        names = []
        if pos < len(s) and s[pos] == '"':
            n, e = self.quoted(pos, '"')
            if e is not None and e < len(s) and s[e] == " ":
                names.append((n, e + 1))
        # a bare name (0.6 prints every member name bare, 0.7/0.8 UNION
        # members too): try every space as its end
        bare = [(s[pos:k], k + 1) for k in range(pos, len(s)) if s[k] == " "]
        names = bare + names if self.bare_first or (kind == "UNION" and self.bare_union) else names + bare
        for n, tp in names:
            for t, end in self.types(tp):
                if end < len(s) and s[end] == ")":
                    yield [(n, t)], end + 1
                elif s.startswith(", ", end):
                    for rest, e2 in self.fields(end + 2, kind):
                        yield [(n, t)] + rest, e2


def render(t):
    """A normalized text of a type tree, for comparison and messages."""
    k = t[0]
    if k == "scalar":
        return t[1]
    if k == "decimal":
        return "DECIMAL(%d,%d)" % (t[1], t[2])
    if k == "list":
        return render(t[1]) + "[]"
    if k == "array":
        return render(t[1]) + "[%d]" % t[2]
    if k in ("struct", "union"):
        return "%s(%s)" % (k.upper(), ", ".join(qi(n) + " " + render(ft) for n, ft in t[1]))
    if k == "map":
        return "MAP(%s, %s)" % (render(t[1]), render(t[2]))
    if k == "enum":
        return "ENUM(%s)" % ", ".join(qs(x) for x in t[1])
    if k == "alias":
        return "ALIAS %s(%s)" % (qi(t[1]), t[2])
    return "%s %r" % (k, t[1:])


def category(t):
    k = t[0]
    if k == "scalar":
        return t[1]
    if k == "decimal":
        return "DECIMAL"
    return {"list": "LIST", "array": "ARRAY", "struct": "STRUCT", "union": "UNION",
            "map": "MAP", "enum": "ENUM"}.get(k, k)


def resolve(t, types):
    """Replace user type names with what they are: an ENUM's labels, or an
    alias (0.6/0.7 print an alias by its name)."""
    k = t[0]
    if k == "user":
        info = types.get(t[1].lower())
        if info is None:
            return ("unknown-user", t[1])
        if info["enum"] is not None:
            return ("enum", tuple(info["enum"]))
        return ("alias", t[1], info["logical"])
    if k in ("list",):
        return (k, resolve(t[1], types))
    if k == "array":
        return (k, resolve(t[1], types), t[2])
    if k in ("struct", "union"):
        return (k, tuple((n, resolve(ft, types)) for n, ft in t[1]))
    if k == "map":
        return (k, resolve(t[1], types), resolve(t[2], types))
    return t


def same_type(a, b):
    """Equal, where an alias known only by name (0.6/0.7) equals any type
    of its category."""
    if a[0] == "alias" and b[0] == "alias":
        return a[1].lower() == b[1].lower()
    if a[0] == "alias":
        return alias_matches(a, b)
    if b[0] == "alias":
        return alias_matches(b, a)
    if a[0] != b[0]:
        return False
    k = a[0]
    if k == "list":
        return same_type(a[1], b[1])
    if k == "array":
        return a[2] == b[2] and same_type(a[1], b[1])
    if k in ("struct", "union"):
        return len(a[1]) == len(b[1]) and all(
            na == nb and same_type(ta, tb) for (na, ta), (nb, tb) in zip(a[1], b[1]))
    if k == "map":
        return same_type(a[1], b[1]) and same_type(a[2], b[2])
    return a == b


def alias_matches(al, t):
    logical = (al[2] or "").upper()
    cat = category(t)
    if logical.startswith("DECIMAL"):
        return cat == "DECIMAL"
    return logical.split("(")[0] == cat or logical == render(t)


def merge(own, other):
    """The tree to build SQL from on one side: its own, with aliases and
    unknowns taken from the other side."""
    if own[0] in ("alias", "unknown-user", "unparsed"):
        # an alias column (0.6/0.7 know it by name only, and their list
        # functions misread it) is compared by its VARCHAR rendering, which
        # the other side imitates
        return ("via", other) if other[0] not in ("alias", "unknown-user", "unparsed", "via") else own
    if other[0] in ("alias", "unknown-user", "unparsed"):
        return ("legacy", own)
    if other is None or own[0] != other[0]:
        return own
    k = own[0]
    if k == "list":
        return (k, merge(own[1], other[1]))
    if k == "array":
        return (k, merge(own[1], other[1]), own[2])
    if k in ("struct", "union") and len(own[1]) == len(other[1]):
        return (k, tuple((n, merge(ft, ot)) for (n, ft), (_, ot) in zip(own[1], other[1])))
    if k == "map":
        return (k, merge(own[1], other[1]), merge(own[2], other[2]))
    return own


def has_map(t):
    k = t[0]
    if k == "via":
        return has_map(t[1])
    if k == "map":
        return True
    if k in ("list", "array"):
        return has_map(t[1])
    if k in ("struct", "union"):
        return any(has_map(ft) for _, ft in t[1])
    return False


# ---------------------------------------------------------------- canonical values

def has_blob(t):
    k = t[0]
    if k == "via":
        return has_blob(t[1])
    if k == "scalar":
        return t[1] == "BLOB"
    if k in ("list", "array"):
        return has_blob(t[1])
    if k in ("struct", "union"):
        return any(has_blob(ft) for _, ft in t[1])
    if k == "map":
        return has_blob(t[1]) or has_blob(t[2])
    return False


def blob_bytes(text):
    """DuckDB's VARCHAR of a BLOB (backslash-x-HH escapes, other bytes as they are)
    back to the bytes."""
    out = bytearray()
    i = 0
    while i < len(text):
        if text.startswith("\\x", i) and re.match(r"[0-9A-Fa-f]{2}", text[i + 2:i + 4]):
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
            continue
        c = text[i]
        if "\udc80" <= c <= "\udcff":
            out.append(ord(c) - 0xDC00)
        else:
            out += c.encode("utf-8", "surrogateescape")
        i += 1
    return bytes(out)


INTERVAL_UNIT = re.compile(r"(\d) (year|month|day)s\b")
FLOAT_TOKEN = re.compile(r"-?\d+\.\d+(?:e[+-]?\d+)?|-?\d+e[+-]?\d+")


def loose(text):
    """For values a release computes (views, generated columns, macros):
    floats to 12 significant digits, since releases convert and round
    differently in the last place."""
    if text is None:
        return text
    return FLOAT_TOKEN.sub(lambda m: "%.12g" % float(m.group(0)), text)


def normalize(text):
    """Canonical text with every BLOB ('B' followed by a quoted text) as
    hex, and INTERVAL units in one spelling (1.x: -1 month, 0.x: -1 months)."""
    if text is None:
        return text
    if " year" in text or " month" in text or " day" in text:
        text = INTERVAL_UNIT.sub(r"\1 \2", text)
    if 'B"' not in text:
        # 0.6/0.7 print the byte 0x7F of a BLOB as it is
        return text.replace("\x7f", "\\x7F")
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == '"':
            j, raw = i + 1, []
            while j < len(text) and text[j] != '"':
                if text[j] == "\\" and j + 1 < len(text):
                    raw.append(text[j + 1])
                    j += 2
                else:
                    raw.append(text[j])
                    j += 1
            body = "".join(raw)
            if out and out[-1] == "B":
                out.append("x'" + blob_bytes(body).hex() + "'")
            else:
                out.append(text[i:j + 1])
            i = j + 1
            continue
        out.append(c)
        i += 1
    return "".join(out).replace("\x7f", "\\x7F")


def quote_sql(x):
    """SQL: a VARCHAR x as a quoted, escaped text (NULL stays NULL)."""
    return "('\"' || replace(replace(%s, '\\', '\\\\'), '\"', '\\\"') || '\"')" % x


class Canon:
    """Build, for a release, SQL that turns a value of a type into one text
    that is the same in every release: NULL is N at every level, strings
    are quoted, nested values are spelled out member by member."""

    def __init__(self, release, legacy_maps):
        self.release = release
        # 0.6/0.7 have no map_entries(): a MAP (and what holds one) is
        # compared by the 0.x VARCHAR rendering, which 1.5.6 imitates
        self.legacy_maps = legacy_maps

    def expr(self, t, x, d=0):
        """SQL giving the canonical text of x, or NULL when x is NULL."""
        k = t[0]
        if k == "via":
            return "CAST(%s AS VARCHAR)" % x
        if k == "legacy":
            return self.legacy(t[1], x, d)
        if self.legacy_maps and has_map(t):
            return self.legacy(t, x, d)
        if k == "scalar":
            if t[1] == "BLOB":
                # releases escape different bytes: the text is decoded
                # to bytes by normalize() below
                return "('B' || %s)" % quote_sql("CAST(%s AS VARCHAR)" % x)
            if t[1] in STRINGY:
                return quote_sql("CAST(%s AS VARCHAR)" % x)
            return "CAST(%s AS VARCHAR)" % x
        if k in ("enum", "alias", "unknown-user", "unparsed", "user"):
            return quote_sql("CAST(%s AS VARCHAR)" % x)
        if k == "decimal":
            return "CAST(%s AS VARCHAR)" % x
        if k in ("list", "array"):
            v = "__l%d" % d
            inner = "COALESCE(%s, 'N')" % self.expr(t[1], v, d + 1)
            src = x if k == "list" else "CAST(%s AS %s[])" % (x, self.sqltype(t[1]))
            return ("CASE WHEN %s IS NULL THEN NULL ELSE '[' || COALESCE(list_aggregate("
                    "list_transform(%s, %s -> %s), 'string_agg', ','), '') || ']' END" % (x, src, v, inner))
        if k == "struct":
            parts = []
            for n, ft in t[1]:
                parts.append("%s || COALESCE(%s, 'N')" % (
                    qs(json.dumps(n, ensure_ascii=False) + ":"),
                    self.expr(ft, "struct_extract(%s, %s)" % (x, qs(n)), d + 1)))
            return "CASE WHEN %s IS NULL THEN NULL ELSE '{' || %s || '}' END" % (
                x, " || ',' || ".join(parts) if parts else "''")
        if k == "union":
            whens = []
            for n, ft in t[1]:
                whens.append("WHEN %s THEN %s || COALESCE(%s, 'N')" % (
                    qs(n), qs(json.dumps(n, ensure_ascii=False) + "="),
                    self.expr(ft, "union_extract(%s, %s)" % (x, qs(n)), d + 1)))
            return "CASE WHEN %s IS NULL THEN NULL ELSE CASE union_tag(%s) %s END END" % (x, x, " ".join(whens))
        if k == "map":
            v = "__m%d" % d
            # 0.8 names the entries' members k and v
            kk, vv = ("'k'", "'v'") if self.release.startswith("0.8") else ("'key'", "'value'")
            ke = self.expr(t[1], "struct_extract(%s, %s)" % (v, kk), d + 1)
            ve = self.expr(t[2], "struct_extract(%s, %s)" % (v, vv), d + 1)
            return ("CASE WHEN %s IS NULL THEN NULL ELSE '{' || COALESCE(list_aggregate(list_transform("
                    "map_entries(%s), %s -> COALESCE(%s, 'N') || '=' || COALESCE(%s, 'N')), 'string_agg', ','), '')"
                    " || '}' END" % (x, x, v, ke, ve))
        return quote_sql("CAST(%s AS VARCHAR)" % x)

    def legacy(self, t, x, d):
        """The text 0.6-0.8 give CAST(x AS VARCHAR), built by hand in 1.x."""
        if self.release != "1.5.6":
            return "CAST(%s AS VARCHAR)" % x
        return self.legacy_expr(t, x, d)

    def legacy_expr(self, t, x, d):
        k = t[0]
        sub = lambda tt, xx: "COALESCE(%s, 'NULL')" % self.legacy_expr(tt, xx, d + 1)
        if k in ("list", "array"):
            v = "__g%d" % d
            return ("CASE WHEN %s IS NULL THEN NULL ELSE '[' || COALESCE(list_aggregate(list_transform("
                    "%s, %s -> %s), 'string_agg', ', '), '') || ']' END" % (x, x, v, sub(t[1], v)))
        if k == "struct":
            parts = ["%s || %s" % (qs("'" + n + "': "), sub(ft, "struct_extract(%s, %s)" % (x, qs(n))))
                     for n, ft in t[1]]
            return "CASE WHEN %s IS NULL THEN NULL ELSE '{' || %s || '}' END" % (x, " || ', ' || ".join(parts))
        if k == "map":
            v = "__g%d" % d
            return ("CASE WHEN %s IS NULL THEN NULL ELSE '{' || COALESCE(list_aggregate(list_transform("
                    "map_entries(%s), %s -> %s || '=' || %s), 'string_agg', ', '), '') || '}' END" % (
                        x, x, v, sub(t[1], "struct_extract(%s, 'key')" % v),
                        sub(t[2], "struct_extract(%s, 'value')" % v)))
        if k == "union":
            whens = ["WHEN %s THEN %s" % (qs(n), sub(ft, "union_extract(%s, %s)" % (x, qs(n)))) for n, ft in t[1]]
            return "CASE WHEN %s IS NULL THEN NULL ELSE CASE union_tag(%s) %s END END" % (x, x, " ".join(whens))
        return "CAST(%s AS VARCHAR)" % x

    def sqltype(self, t):
        k = t[0]
        if k == "scalar":
            return t[1]
        if k == "decimal":
            return "DECIMAL(%d,%d)" % (t[1], t[2])
        if k == "list":
            return self.sqltype(t[1]) + "[]"
        if k == "array":
            return self.sqltype(t[1]) + "[%d]" % t[2]
        if k in ("struct", "union"):
            return "%s(%s)" % (k.upper(), ", ".join(qi(n) + " " + self.sqltype(ft) for n, ft in t[1]))
        if k == "map":
            return "MAP(%s, %s)" % (self.sqltype(t[1]), self.sqltype(t[2]))
        if k == "enum":
            return "ENUM(%s)" % ", ".join(qs(x) for x in t[1])
        return "VARCHAR"

    def select(self, cols, source):
        """SELECT of canonical texts of cols [(name, tree)] from source."""
        if not cols:
            return "SELECT 1 FROM %s" % source
        return "SELECT %s FROM %s" % (", ".join(
            "COALESCE(%s, 'N')" % self.expr(t, qi(n)) for n, t in cols), source)


# ---------------------------------------------------------------- catalog

def lq(expr):
    """SQL: a VARCHAR[] as one text: "a","b" (NULL for an empty list)."""
    return ("list_aggregate(list_transform(%s, __x -> '\"' || replace(replace(__x, '\\', '\\\\'), '\"', '\\\"') || '\"'),"
            " 'string_agg', ',')" % expr)


def split_lq(text):
    if text is None or text == "":
        return []
    out, cur, i, inq = [], [], 0, False
    while i < len(text):
        c = text[i]
        if not inq:
            if c == '"':
                inq = True
            elif c == ",":
                out.append("".join(cur))
                cur = []
            i += 1
            continue
        if c == "\\" and i + 1 < len(text):
            cur.append(text[i + 1])
            i += 2
            continue
        if c == '"':
            inq = False
            i += 1
            continue
        cur.append(c)
        i += 1
    out.append("".join(cur))
    return out


def both(fa, fb):
    """fa() and fb() at the same time (fb in a thread): each is one
    `duckmig sql` call per file, mostly waiting on its engine process.
    Returns (fa(), fb()); raises what fa raised, else what fb raised."""
    import threading
    out = {}

    def call(key, f):
        try:
            out[key] = (f(), None)
        except BaseException as e:  # SystemExit too: re-raised below
            out[key] = (None, e)

    t = threading.Thread(target=call, args=("b", fb))
    t.start()
    call("a", fa)
    t.join()
    for key in ("a", "b"):
        if out[key][1] is not None:
            raise out[key][1]
    return out["a"][0], out["b"][0]


def storage_version(path):
    """The storage version in a DuckDB file's main header (the magic
    DUCK at byte 8, then a little-endian uint64), or None. Read here,
    not asked of duckmig: only a guess at which catalog queries the
    file's release takes; SELECT version() says which release it is."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[8:12] != b"DUCK":
        return None
    return int.from_bytes(head[12:20], "little")


def catalog_queries(old6):
    dbf = "" if old6 else " AND database_name = current_database()"
    dbw = "" if old6 else " WHERE database_name = current_database()"
    qs_ = {
        "schemas": "SELECT schema_name FROM duckdb_schemas() WHERE NOT internal%s" % dbf,
        "types": ("SELECT schema_name, type_name, logical_type, type_category FROM duckdb_types() "
                  "WHERE NOT internal%s" % dbf),
        "seqs": ("SELECT schema_name, sequence_name, increment_by, min_value, max_value, cycle "
                 "FROM duckdb_sequences() WHERE NOT temporary%s" % dbf),
        "tables": "SELECT schema_name, table_name, sql FROM duckdb_tables() WHERE NOT temporary%s" % dbf,
        "cols": ("SELECT schema_name, table_name, column_name, column_index, column_default, is_nullable, "
                 "data_type FROM duckdb_columns()%s ORDER BY schema_name, table_name, column_index" % dbw),
        "cons": ("SELECT schema_name, table_name, constraint_type, %s, constraint_text FROM duckdb_constraints()%s"
                 % (lq("constraint_column_names"), dbw)),
        "views": "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary%s" % dbf,
        "funcs": ("SELECT schema_name, function_name, function_type, %s FROM duckdb_functions() "
                  "WHERE function_type IN ('macro', 'table_macro')%s" % (lq("parameters"), dbf)),
        "indexes": ("SELECT schema_name, index_name, table_name, is_unique, is_primary FROM duckdb_indexes()"
                    " WHERE true%s" % dbf),
    }
    if not old6:
        qs_["labels"] = ("SELECT schema_name, type_name, %s FROM duckdb_types() WHERE NOT internal AND "
                         "logical_type = 'ENUM'%s" % (lq("labels"), dbf))
    return qs_


def catalog(db):
    # SELECT version() and the catalog queries in one call: the queries
    # differ for 0.6 (no database_name), which storage version 39 in the
    # header announces; should version() say otherwise, they are asked
    # again, chosen by version()
    old6 = storage_version(db.path) == 39
    qs_ = catalog_queries(old6)
    keys = list(qs_)
    got = db.run(["SELECT version()"] + [qs_[k] for k in keys], stop_on_error=True)
    v = got[0]
    if isinstance(v, Err) or not v:
        raise SystemExit("check: %s cannot be read: %s" % (db.path, v))
    rel = v[0][0].lstrip("v")
    db.release = rel
    if rel.startswith("0.6") != old6:
        old6 = rel.startswith("0.6")
        qs_ = catalog_queries(old6)
        keys = list(qs_)
        got = [v] + db.run([qs_[k] for k in keys], stop_on_error=True)
    res = dict(zip(keys, got[1:]))
    for k, r in res.items():
        if isinstance(r, Err):
            raise SystemExit("check: %s: catalog query %s failed: %s" % (db.path, k, r.msg))
    cat = {"release": rel}
    cat["schemas"] = {r[0] for r in res["schemas"]}
    types = {}
    for s, n, logical, tcat in res["types"]:
        types[(s, n)] = {"logical": logical, "enum": None, "schema": s, "name": n}
    cat["seqs"] = {(r[0], r[1]): r[2:] for r in res["seqs"]}
    cat["tables"] = {(r[0], r[1]) for r in res["tables"]}
    cat["table_sql"] = {(r[0], r[1]): r[2] or "" for r in res["tables"]}
    cols = {}
    for s, t, c, idx, dflt, nullable, dt in res["cols"]:
        if (s, t) not in cat["tables"]:
            continue
        cols.setdefault((s, t), []).append({"name": c, "default": dflt, "nullable": nullable, "type": dt})
    if old6:
        # the ENUM labels and the UNION member names, in one call
        enums = [k for k, t in types.items() if t["logical"] == "ENUM"]
        q_enums = ["SELECT %s" % lq("CAST(enum_range(NULL::%s) AS VARCHAR[])" % qi(n)) for s, n in enums]
        todo, q_unions = unions_06(cols)
        got = db.run(q_enums + q_unions) if q_enums or q_unions else []
        lab, members = got[:len(q_enums)], got[len(q_enums):]
        for k, r in zip(enums, lab):
            types[k]["enum"] = split_lq(r[0][0]) if not isinstance(r, Err) and r else ["?error"]
        name_unions_06(todo, members)
    else:
        for s, n, labs in res["labels"]:
            types[(s, n)]["enum"] = split_lq(labs)
    cat["types"] = types
    cat["cols"] = cols
    cons = {}
    for s, t, ct, cn, text in res["cons"]:
        cons.setdefault((s, t), []).append((ct, cn, text))
    cat["cons"] = cons
    cat["views"] = {(r[0], r[1]) for r in res["views"]}
    cat["funcs"] = {(r[0], r[1], r[2]): split_lq(r[3]) for r in res["funcs"]}
    cat["indexes"] = {(r[0], r[1]): (r[2], r[3], r[4]) for r in res["indexes"]}
    return cat


def split_top(text):
    """Split a type list at the commas outside parentheses and quotes."""
    parts, depth, cur, q = [], 0, [], None
    for ch in text:
        if q:
            q = None if ch == q else q
        elif ch in "'\"":
            q = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur).strip())
    return parts


def unions_06(cols):
    """0.6 prints a UNION column's type without its member names
    (UNION(INTEGER, VARCHAR)); its tag is an ENUM of them, which
    enum_range() lists even for a NULL. The columns to ask about and
    the queries that ask (top-level UNION columns; a nested one stays
    unparsed and differs)."""
    todo = [(k, c) for k, cl in cols.items() for c in cl
            if c["type"].startswith("UNION(") and c["type"].endswith(")")]
    qs_ = ["SELECT unnest(enum_range(union_tag(x))) FROM ((SELECT %s AS x FROM %s LIMIT 0) UNION ALL "
           "(SELECT NULL))" % (qi(c["name"]), qn(k[0], k[1])) for k, c in todo]
    return todo, qs_


def name_unions_06(todo, results):
    """Put the member names unions_06's queries gave back into the types."""
    for (k, c), r in zip(todo, results):
        members = split_top(c["type"][len("UNION("):-1])
        if isinstance(r, Err) or len(r) != len(members):
            continue
        c["type"] = "UNION(%s)" % ", ".join("%s %s" % (n[0], t) for n, t in zip(r, members))


_builtin = {}


def builtin_macros(release):
    """The macros a release defines itself (asked of an empty in-memory
    database). Asked once per release and process; with CHECK_CACHE_DIR
    set (gen.t, runseed.py), once per release, helper and engine build
    for every check.py that shares the folder."""
    if release in _builtin:
        return _builtin[release]
    cache = None
    d = os.environ.get("CHECK_CACHE_DIR")
    if d:
        import hashlib
        key = []
        lib = os.path.join(os.environ.get("DUCKMIG_ENGINES", ""), release, "libduckdb.so")
        for f in (helper(), lib):
            try:
                st = os.stat(f)
                key.append("%s:%d:%d" % (os.path.abspath(f), st.st_size, st.st_mtime_ns))
            except OSError:
                key = None
                break
        if key:
            cache = os.path.join(d, "builtin-macros-%s-%s.json" % (
                release, hashlib.sha256("\n".join(key).encode()).hexdigest()[:16]))
            try:
                with open(cache, encoding="utf-8") as f:
                    _builtin[release] = {tuple(x) for x in json.load(f)}
                return _builtin[release]
            except (OSError, ValueError):
                pass
    db = DB(":memory:", engine=release, read_only=False)
    r = db.one("SELECT schema_name, function_name, function_type FROM duckdb_functions() "
               "WHERE function_type IN ('macro', 'table_macro')")
    got = set() if isinstance(r, Err) else {tuple(x) for x in r}
    _builtin[release] = got
    if cache and not isinstance(r, Err):
        try:
            os.makedirs(d, exist_ok=True)
            tmp = "%s.%d.tmp" % (cache, os.getpid())
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(sorted(got), f)
            os.replace(tmp, cache)
        except OSError:
            pass
    return got


# ---------------------------------------------------------------- comparison

class Checker:
    def __init__(self, src, dst, report, marks, max_diffs):
        self.src_path, self.dst_path = src, dst
        self.report = report
        self.marks = marks
        self.max_diffs = max_diffs
        self.diffs = []
        self.skipped = {}
        self.skipped_all = []
        self.notes = []

    def diff(self, what, detail=""):
        self.diffs.append("%s%s" % (what, (": " + detail) if detail else ""))

    def skip(self, kinds, name):
        for k in kinds:
            r = self.skipped.get((k, name))
            if r:
                return r
        return None

    def default_changed(self, table, col):
        """Does the report name this column's DEFAULT (or all of the
        table's computed parts) as computing differently?"""
        r = self.skipped.get(("computed", table))
        if not r:
            return False
        cols = [c for (kd, nm), det in self.skipped_all if kd == "computed" and nm == table
                for c in re.findall(r'DEFAULT of column "((?:[^"]|"")*)"', det or "")]
        return not cols or col in [c.replace('""', '"') for c in cols] or col in cols

    def read_report(self):
        rep = self.report
        items = (rep.get("report") or {}).get("items") or []
        status = rep.get("status")
        for it in items:
            st = it.get("status")
            if st in ("not_carried", "changed"):
                if not (it.get("detail") or "").strip():
                    self.diff("report", "%s %s is %s without a reason" % (it.get("kind"), it.get("name"), st))
                self.skipped[(it.get("kind"), it.get("name"))] = "%s: %s" % (st, it.get("detail"))
                self.skipped_all.append(((it.get("kind"), it.get("name")), it.get("detail")))
            elif st not in ("ok", None):
                self.diff("report", "%s %s has status %s: %s" % (it.get("kind"), it.get("name"), st, it.get("detail")))
        if self.skipped and status == "migrated":
            self.diff("report", "status migrated (exit 0) but %d items not carried or changed" % len(self.skipped))

    def check_marks(self):
        if self.marks and os.path.isdir(self.marks):
            left = sorted(os.listdir(self.marks))
            if left:
                self.diff("INJECTION", "files appeared in the marks folder: %s" % ", ".join(left))

    def run(self):
        self.read_report()
        self.check_marks()
        src = DB(self.src_path, label="SRC")
        dst = DB(self.dst_path, label="DST")
        a, b = both(lambda: catalog(src), lambda: catalog(dst))
        self.a, self.b = a, b
        self.src, self.dst = src, dst
        self.compare_catalog(a, b)
        self.compare_data(a, b)
        self.compare_macros(a, b)
        self.compare_on_copies(a, b)
        return self.diffs

    # -- catalog
    def sets(self, what, kinds, sa, sb, fmt, key=None):
        key = key or fmt
        for x in sorted(sa - sb, key=str):
            r = self.skip(kinds, key(x))
            if not r:
                self.diff("%s missing in DST" % what, fmt(x))
        for x in sorted(sb - sa, key=str):
            self.diff("%s only in DST (extra)" % what, fmt(x))

    def compare_catalog(self, a, b):
        dot = lambda x: "%s.%s" % (x[0], x[1])
        self.sets("schema", ["schema"], a["schemas"], b["schemas"], lambda x: x)
        # user types
        ta = {(s, n.lower()): t for (s, n), t in a["types"].items()}
        tb = {(s, n.lower()): t for (s, n), t in b["types"].items()}
        for k in sorted(set(ta) | set(tb)):
            x, y = ta.get(k), tb.get(k)
            name = "%s.%s" % (k[0], (x or y)["name"])
            if x and not y:
                if not self.skip(["type"], name):
                    self.diff("type missing in DST", name)
            elif y and not x:
                self.diff("type only in DST (extra)", name)
            elif (x["enum"] is None) != (y["enum"] is None):
                self.diff("type kind differs", "%s: %s vs %s" % (name, x["logical"], y["logical"]))
            elif x["enum"] is not None and x["enum"] != y["enum"]:
                if not self.skip(["type"], name):
                    self.diff("ENUM labels differ", "%s: %r vs %r" % (name, x["enum"][:8], y["enum"][:8]))
        # sequences
        self.sets("sequence", ["sequence"], set(a["seqs"]), set(b["seqs"]), dot)
        for k in sorted(set(a["seqs"]) & set(b["seqs"])):
            if a["seqs"][k] != b["seqs"][k] and not self.skip(["sequence"], dot(k)):
                self.diff("sequence settings differ", "%s: %s vs %s" % (dot(k), a["seqs"][k], b["seqs"][k]))
        # tables and their columns
        self.sets("table", ["table"], a["tables"], b["tables"], dot)
        self.sets("view", ["view"], a["views"], b["views"], dot)
        ua = {n for (_, n) in a["types"]}
        ub = {n for (_, n) in b["types"]}
        tmap_a = {n.lower(): t for (_, n), t in a["types"].items()}
        tmap_b = {n.lower(): t for (_, n), t in b["types"].items()}
        self.col_trees = {}
        for k in sorted(a["tables"] & b["tables"]):
            name = dot(k)
            if self.skip(["table"], name):
                continue
            ca, cb = a["cols"].get(k, []), b["cols"].get(k, [])
            na, nb = [c["name"] for c in ca], [c["name"] for c in cb]
            if na != nb:
                self.diff("columns differ", "%s: %r vs %r" % (name, na, nb))
                continue
            trees = []
            for x, y in zip(ca, cb):
                tx = resolve(TypeParser(x["type"], ua, a["release"]).parse(), tmap_a)
                ty = resolve(TypeParser(y["type"], ub, b["release"]).parse(), tmap_b)
                cname = "%s.%s" % (name, x["name"])
                if not same_type(tx, ty):
                    self.diff("column type differs", "%s: %s (%s) vs %s (%s)" % (
                        cname, render(tx), x["type"], render(ty), y["type"]))
                if x["nullable"] != y["nullable"]:
                    self.diff("NOT NULL differs", "%s: nullable %s vs %s" % (cname, x["nullable"], y["nullable"]))
                gen = (generated(a["table_sql"].get(k, ""), x["name"]) and generated(b["table_sql"].get(k, ""), y["name"]))
                if gen:
                    # 1.x shows a generated column's expression as its
                    # default, 0.x nothing: the values are compared as rows
                    x = dict(x, default=None)
                    y = dict(y, default=None)
                if (x["default"] is None) != (y["default"] is None):
                    self.diff("default differs", "%s: %r vs %r" % (cname, x["default"], y["default"]))
                trees.append((x["name"], merge(tx, ty), merge(ty, tx), x["default"], y["default"]))
            self.col_trees[k] = trees
            # constraints
            # 1.x names a column once per mention in a CHECK: compare the set
            norm = lambda lst: sorted((ct, ",".join(sorted(set(split_lq(cn)))) if ct == "CHECK" else (cn or ""),
                                       fk_target(text) if ct == "FOREIGN KEY" else "")
                                      for ct, cn, text in lst)
            xa, xb = norm(a["cons"].get(k, [])), norm(b["cons"].get(k, []))
            # a CHECK the report names as left out ("T CHECK expr") may be
            # missing from DST, as many as are named and no other kind
            named = sum(1 for (kd, nm), _ in self.skipped_all
                        if kd == "constraint" and nm.startswith(name + " CHECK "))
            if named and xa != xb:
                rest = list(xb)
                missing = []
                for c in xa:
                    if c in rest:
                        rest.remove(c)
                    else:
                        missing.append(c)
                if not rest and len(missing) <= named and all(c[0] == "CHECK" for c in missing):
                    xa = xb
            if xa != xb and not self.skip(["constraint"], name):
                self.diff("constraints differ", "%s: %s vs %s" % (name, xa, xb))
        # indexes
        ia = {k: v for k, v in a["indexes"].items() if (k[0], v[0]) in a["tables"]}
        ib = dict(b["indexes"])
        for k in sorted(set(ia) | set(ib)):
            name = dot(k)
            x, y = ia.get(k), ib.get(k)
            if x and not y:
                if not self.skip(["index"], name) and not self.skip(["table"], "%s.%s" % (k[0], x[0])):
                    self.diff("index missing in DST", name)
            elif y and not x:
                self.diff("index only in DST (extra)", name)
            elif x[0].lower() != y[0].lower() or str(x[1]) != str(y[1]):
                self.diff("index differs", "%s: table/unique %s vs %s" % (name, x[:2], y[:2]))
        # macros
        bm = builtin_macros(a["release"]) | builtin_macros(b["release"])
        fa = {k: v for k, v in a["funcs"].items() if k not in bm}
        fb = {k: v for k, v in b["funcs"].items() if k not in bm}
        self.fa, self.fb = fa, fb
        self.sets("macro", ["macro"], set(fa), set(fb), lambda x: "%s.%s (%s)" % x, lambda x: "%s.%s" % x[:2])
        for k in sorted(set(fa) & set(fb)):
            if fa[k] != fb[k] and not self.skip(["macro"], "%s.%s" % k[:2]):
                self.diff("macro parameters differ", "%s.%s: %r vs %r" % (k[0], k[1], fa[k], fb[k]))

    # -- rows
    def compare_data(self, a, b):
        ca = Canon(a["release"], legacy_maps=a["release"] < "0.8")
        cb = Canon(b["release"], legacy_maps=a["release"] < "0.8")
        qa, qb, what, computed = [], [], [], []
        for k, trees in sorted(self.col_trees.items()):
            name = "%s.%s" % k
            if self.skip(["data", "table"], name):
                continue
            src = qn(*k)
            # 0.6.1 casts a MAP to VARCHAR wrongly when rows were deleted
            # (keys of a deleted row), unless the rows are materialized first
            src_a = "(SELECT * FROM %s ORDER BY rowid) AS __t" % src if a["release"].startswith("0.6") else src
            qa.append(ca.select([(n, ta) for n, ta, tb, _, _ in trees], src_a))
            qb.append(cb.select([(n, tb) for n, ta, tb, _, _ in trees], src))
            what.append(("table", name))
            computed.append({i for i, (n, _, _, _, _) in enumerate(trees)
                             if generated(a["table_sql"].get(k, ""), n)})
        # views: their columns and types from DESCRIBE
        views = sorted(a["views"] & b["views"])
        views = [v for v in views if not self.skip(["view", "computed", "meaning"], "%s.%s" % v)]
        da, db = both(lambda: self.src.run(["DESCRIBE SELECT * FROM %s" % qn(*v) for v in views]),
                      lambda: self.dst.run(["DESCRIBE SELECT * FROM %s" % qn(*v) for v in views]))
        ua = {n for (_, n) in a["types"]}
        ub = {n for (_, n) in b["types"]}
        tmap_a = {n.lower(): t for (_, n), t in a["types"].items()}
        tmap_b = {n.lower(): t for (_, n), t in b["types"].items()}
        for v, x, y in zip(views, da, db):
            name = "%s.%s" % v
            if isinstance(x, Err):
                if not isinstance(y, Err):
                    self.notes.append("view %s fails in SRC (%s) but works in DST" % (name, x.msg))
                continue
            if isinstance(y, Err):
                self.diff("view fails in DST", "%s: %s" % (name, y.msg))
                continue
            nx, ny = [r[0] for r in x], [r[0] for r in y]
            if nx != ny:
                self.diff("view columns differ", "%s: %r vs %r" % (name, nx, ny))
                continue
            trees_a, trees_b = [], []
            for rx, ry in zip(x, y):
                tx = resolve(TypeParser(rx[1], ua, a["release"]).parse(), tmap_a)
                ty = resolve(TypeParser(ry[1], ub, b["release"]).parse(), tmap_b)
                if not same_type(tx, ty):
                    self.diff("view column type differs", "%s.%s: %s vs %s" % (name, rx[0], rx[1], ry[1]))
                trees_a.append(merge(tx, ty))
                trees_b.append(merge(ty, tx))
            # columns by position: names may repeat in a view
            pos = lambda n: ["__c%d" % i for i in range(n)]
            alias = "(SELECT * FROM %s) AS __v(%s)" % (qn(*v), ", ".join(pos(len(nx))))
            qa.append(ca.select(list(zip(pos(len(nx)), trees_a)), alias))
            qb.append(cb.select(list(zip(pos(len(nx)), trees_b)), alias))
            what.append(("view", name))
            computed.append(set(range(len(nx))))
        # the macro calls (compare_macros) ride along in the same call
        # per file; DST is asked only the calls that bind in SRC: the
        # others are not compared
        calls = self.macro_calls()
        if calls:
            ra = self.src.run(qa + [c for _, c in calls])
            ma = ra[len(qa):]
            ra = ra[:len(qa)]
            asked = [i for i, x in enumerate(ma) if not isinstance(x, Err)]
            rb = self.dst.run(qb + [calls[i][1] for i in asked])
        else:
            # no macro calls: DST need not wait for SRC
            (ra, rb), ma, asked = both(lambda: self.src.run(qa), lambda: self.dst.run(qb)), [], []
        mb = [None] * len(calls)
        for i, y in zip(asked, rb[len(qb):]):
            mb[i] = y
        rb = rb[:len(qb)]
        self.macro_results = (calls, ma, mb)
        for (kind, name), x, y, comp in zip(what, ra, rb, computed):
            norm = lambda r: tuple(loose(normalize(f)) if i in comp else normalize(f) for i, f in enumerate(r))
            if not isinstance(x, Err):
                x = [norm(r) for r in x]
            if not isinstance(y, Err):
                y = [norm(r) for r in y]
            self.compare_rows("%s %s" % (kind, name), x, y)

    def compare_rows(self, what, x, y):
        if isinstance(x, Err) and isinstance(y, Err):
            self.notes.append("%s: fails on both sides (%s | %s)" % (what, x.msg, y.msg))
            return
        if isinstance(x, Err):
            self.diff("rows of %s cannot be read in SRC" % what, x.msg)
            return
        if isinstance(y, Err):
            self.diff("rows of %s cannot be read in DST" % what, y.msg)
            return
        sx, sy = sorted(x), sorted(y)
        if sx == sy:
            return
        if len(sx) != len(sy):
            self.diff("row count differs", "%s: %d vs %d" % (what, len(sx), len(sy)))
        from collections import Counter
        cx, cy = Counter(sx), Counter(sy)
        only_a = sorted((cx - cy).elements())
        only_b = sorted((cy - cx).elements())
        if only_a or only_b:
            # the first differing column, for the message
            detail = ""
            if only_a and only_b:
                ra, rb = only_a[0], only_b[0]
                for i, (u, v) in enumerate(zip(ra, rb)):
                    if u != v:
                        detail = " (column %d: %s vs %s)" % (i + 1, clip(u), clip(v))
                        break
            self.diff("rows differ", "%s: %d rows only in SRC, %d only in DST; first SRC-only %s; first DST-only %s%s" % (
                what, len(only_a), len(only_b), clip(only_a[:1]), clip(only_b[:1]), detail))

    # -- macros
    def macro_calls(self):
        calls = []  # (name, sql)
        for k in sorted(set(self.fa) & set(self.fb)):
            s, n, kind = k
            mname = "%s.%s" % (s, n)
            if self.skip(["macro", "computed", "meaning"], mname):
                continue
            params = self.fa[k]
            for arity in range(len(params), 0, -1):
                for args in (["1"] * arity, ["'a'"] * arity, ["NULL"] * arity, [str(7 - i) for i in range(arity)]):
                    if kind == "macro":
                        sql = "SELECT CAST(%s(%s) AS VARCHAR)" % (qn(s, n), ", ".join(args))
                    else:
                        sql = "SELECT count(*) FROM %s(%s)" % (qn(s, n), ", ".join(args))
                    calls.append((mname, sql))
                # named defaults
                if arity < len(params):
                    named = ["1"] * arity + ["%s := 3" % qi(p) for p in params[arity:]]
                    if kind == "macro":
                        calls.append((mname, "SELECT CAST(%s(%s) AS VARCHAR)" % (qn(s, n), ", ".join(named))))
        return calls

    def compare_macros(self, a, b):
        # run by compare_data, with the rows
        calls, ra, rb = self.macro_results
        for (m, sql), x, y in zip(calls, ra, rb):
            if isinstance(x, Err):
                continue  # the call does not bind in the source: nothing to compare
            if isinstance(y, Err):
                self.diff("macro call fails in DST", "%s: %s: %s" % (m, sql, y.msg))
            elif [tuple(loose(normalize(f)) for f in r) for r in x] != [tuple(loose(normalize(f)) for f in r) for r in y]:
                self.diff("macro gives a different result", "%s: %s: %s vs %s" % (m, sql, clip(x), clip(y)))

    # -- sequences and defaults, on copies
    def compare_on_copies(self, a, b):
        tmp = tempfile.mkdtemp(prefix="duckmig-check-")
        try:
            cs = copy_db(self.src_path, os.path.join(tmp, "src"))
            cd = copy_db(self.dst_path, os.path.join(tmp, "dst"))
            xa, xb = DB(cs, read_only=False), DB(cd, read_only=False)
            seqs = sorted(set(a["seqs"]) & set(b["seqs"]))
            seqs = [k for k in seqs if not self.skip(["sequence"], "%s.%s" % k)]
            qa, qb, what = [], [], []
            for k in seqs:
                q = "SELECT nextval(%s)" % qs(qn(*k))
                qa += [q, q]
                qb += [q, q]
                what += [("sequence", "%s.%s" % k)] * 2
            ca, cb = Canon(a["release"], a["release"] < "0.8"), Canon(b["release"], a["release"] < "0.8")
            for k, trees in sorted(self.col_trees.items()):
                tname = "%s.%s" % k
                for n, ta, tb, da, db in trees:
                    if da is None or db is None:
                        continue
                    if self.default_changed(tname, n):
                        continue  # named in the report: computes differently
                    qa.append("SELECT COALESCE(%s, 'N') FROM (SELECT (%s) AS __d)" % (ca.expr(ta, "__d"), da))
                    qb.append("SELECT COALESCE(%s, 'N') FROM (SELECT (%s) AS __d)" % (cb.expr(tb, "__d"), db))
                    what.append(("default", "%s.%s.%s (%s | %s)" % (k[0], k[1], n, clip(da), clip(db))))
            if not qa:
                return
            ra, rb = both(lambda: xa.run(qa), lambda: xb.run(qb))
            for (kind, name), x, y in zip(what, ra, rb):
                if isinstance(x, Err):
                    continue
                if not isinstance(y, Err):
                    x = [tuple(normalize(f) for f in r) for r in x]
                    y = [tuple(normalize(f) for f in r) for r in y]
                if isinstance(y, Err):
                    self.diff("%s fails in DST" % kind, "%s: %s" % (name, y.msg))
                elif x != y:
                    self.diff("%s differs" % ("next value of sequence" if kind == "sequence" else "default value"),
                              "%s: %s vs %s" % (name, clip(x), clip(y)))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def generated(table_sql, col):
    """Is col a generated column in this CREATE TABLE text?"""
    if "GENERATED ALWAYS AS" not in table_sql:
        return False
    for n in (qi(col), col):
        i = table_sql.find(n + " ")
        while i >= 0:
            rest = table_sql[i + len(n):]
            j = rest.find(" GENERATED ALWAYS AS")
            k = min([x for x in (rest.find(","), rest.find("DEFAULT")) if x >= 0] or [len(rest)])
            if 0 <= j < k or (0 <= j and rest[:j].count("(") == rest[:j].count(")") and j < 200):
                return True
            i = table_sql.find(n + " ", i + 1)
    return False


def fk_target(text):
    m = re.search(r"REFERENCES\s+(.*?)\s*\(", text or "", re.S)
    if not m:
        return text or ""
    t = m.group(1).replace('"', "").lower()
    return t.split(".")[-1]


def copy_db(path, folder):
    os.makedirs(folder)
    dst = os.path.join(folder, os.path.basename(path))
    shutil.copyfile(path, dst)
    if os.path.exists(path + ".wal"):
        shutil.copyfile(path + ".wal", dst + ".wal")
    return dst


def clip(x, n=160):
    s = repr(x)
    return s if len(s) <= n else s[:n] + "..."


def main(argv):
    args = list(argv)
    marks = None
    max_diffs = 40
    if "--marks" in args:
        k = args.index("--marks")
        marks = args[k + 1]
        del args[k:k + 2]
    if "--max-diffs" in args:
        k = args.index("--max-diffs")
        max_diffs = int(args[k + 1])
        del args[k:k + 2]
    if len(args) != 3:
        sys.stderr.write(__doc__)
        return 2
    src, dst, rep = args
    with open(rep, encoding="utf-8") as f:
        report = json.load(f)
    c = Checker(src, dst, report, marks, max_diffs)
    diffs = c.run()
    for n in c.notes:
        print("note: %s" % n)
    for d in diffs[:max_diffs]:
        print("DIFF %s" % d)
    if len(diffs) > max_diffs:
        print("... and %d more differences" % (len(diffs) - max_diffs))
    if diffs:
        print("check: %d differences" % len(diffs))
        return 1
    print("check: SRC and DST agree (%d objects skipped as named in the report)" % len(c.skipped))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
