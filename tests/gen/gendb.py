#!/usr/bin/env python3
"""gendb.py SEED RELEASE OUTFILE [--marks DIR] [--sql-only]
   gendb.py --replay STMTS.json RELEASE OUTFILE

Build a DuckDB database file with DuckDB RELEASE (0.6.1, 0.7.1, 0.8.1,
1.5.6) from random choices drawn from random.Random(SEED): awkward and
hostile names, every object kind, every column type of the release,
nested values with NULLs at every level, deleted and updated rows, ALTER
TABLE, and sometimes rows left only in a WAL.

Statements go to `$DUCKMIG_HELPER sql --engine RELEASE OUTFILE` as one
argument each (with a marker after each), so that a statement the release
refuses is dropped and the rest still run. What ran is written beside
the file: OUTFILE.sql (readable, copy-pasteable) and OUTFILE.stmts.json
(the exact statements and phases, for --replay and tests/gen/reduce.py).

Injection payloads in names and literals would write files into the
marks folder (--marks DIR, default OUTFILE.marks) or create tables named
pwned_N, if they ever ran as SQL. The folder must be empty after
generation (exit 3 otherwise: `duckmig sql` itself ran one).

Python 3 standard library only.
"""
import json
import os
import random
import subprocess
import sys

RELEASES = ("0.6.1", "0.7.1", "0.8.1", "1.5.6")
MARKER = "@@gendb-ok"


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DUCKMIG_ENGINES", os.path.join(ROOT, "engines"))


def helper():
    h = os.environ.get("DUCKMIG_HELPER")
    if h:
        return h
    root = ROOT
    for p in (os.path.join(root, "build/release/duckmig"), os.path.join(root, "duckmig")):
        if os.access(p, os.X_OK):
            return p
    return "duckmig"


def qi(name):
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def qs(text):
    """Quote a string literal."""
    return "'" + text.replace("'", "''") + "'"


def qn(schema, name):
    return qi(schema) + "." + qi(name)


# ---------------------------------------------------------------- names

AWKWARD = [
    "with space", "it's", 'say "hi"', "semi;colon", "/*", "*/", "a--b", "--",
    "new\nline", "tab\there", "é", "naïve col", "漢字", "🦆", "emoji 🦆 duck",
    "select", "from", "table", "order", "group", "years", "union", "where",
    "default", "check", "index", "primary", "key", "null", "true", "view",
    "macro", "schema", "type", "enum", "struct", "map", "list", "as", "by",
    "MixedCase", "UPPER", "x", "Q", "_", "1starts_digit", "a.b", "back\\slash",
    "$dollar", "per%cent", "{brace}", "[bracket]", "(paren)", ",comma", "'",
    '"', "''", '""', " leading", "trailing ", "main", "pg_catalog", "temp",
    "information_schema", "../up", "/dev/null", "a=b", "a:b", "x\r\ny", "\\x00",
    "ß", "Ωmega", "ünïcödé ñame", "e\u0301", "zero\u200bwidth", "日本語の名前",
    "DROP", "rowid", "oid", "__dbt_tmp", "0", "1e5", "NaN", "?", "$1", ":name",
]


def long_names():
    return ["L" * 130, "long " + "ü" * 70 + " name", "x" * 63 + "y" * 63,
            "a very long name with spaces and punctuation; " * 3]


PAYLOADS = [
    'x"; COPY (SELECT 1) TO \'{M}/m{N}.csv\'; --',
    "*/ COPY (SELECT 1) TO '{M}/m{N}.csv'; /*",
    "'); COPY (SELECT 1) TO '{M}/m{N}.csv'; --",
    "CREATE MACRO main.m(x) AS 1; COPY (SELECT 42) TO '{M}/m{N}.csv';\n",
    'x"); CREATE TABLE pwned_{N}(i INTEGER); --',
    "'; CREATE TABLE pwned_{N} AS SELECT 1; --",
    '"; CREATE VIEW pwned_{N} AS SELECT 1; --',
    "*/; CREATE TABLE pwned_{N}(i INTEGER); /*",
    "x\n); COPY (SELECT 1) TO '{M}/m{N}.csv'; --",
    "x\"\" ; COPY (SELECT 1) TO '{M}/m{N}.csv' ; --",
    "$$; COPY (SELECT 1) TO '{M}/m{N}.csv'; $$",
    "\\'; COPY (SELECT 1) TO '{M}/m{N}.csv'; --",
    "`; COPY (SELECT 1) TO '{M}/m{N}.csv'; --",
    "]; COPY (SELECT 1) TO '{M}/m{N}.csv'; --",
    ")) AS TABLE SELECT 1; COPY (SELECT 1) TO '{M}/m{N}.csv'; --",
    "x' || (SELECT 1) || '; CREATE TABLE pwned_{N}(i INTEGER); --",
    "--\nCOPY (SELECT 1) TO '{M}/m{N}.csv';\n",
    "/* */ CREATE TABLE pwned_{N}(i INTEGER); /* */",
]

WORDS = ["alpha", "beta", "gamma", "delta", "kappa", "omega", "tbl", "col",
         "val", "item", "fact", "dim", "evt", "usr", "ord", "qty", "amt"]


class Names:
    def __init__(self, rng, marks, rel):
        self.rng = rng
        self.marks = marks
        self.rel = rel
        self.n = 0
        self.plain_p = 0.35
        self.awkward = AWKWARD + long_names()

    def payload(self):
        self.n += 1
        return self.rng.choice(PAYLOADS).replace("{M}", self.marks).replace("{N}", str(self.n))

    def raw(self, style=None):
        r = self.rng.random()
        if style == "plain" or r < self.plain_p:
            return self.rng.choice(WORDS) + "_" + str(self.rng.randrange(1000))
        if r < 0.55:
            return self.payload()
        if r < 0.9:
            return self.rng.choice(self.awkward)
        # a mix: awkward word with a payload or a case change
        a = self.rng.choice(self.awkward)
        return self.rng.choice([a.upper(), a.title(), a + " " + self.rng.choice(WORDS), a + a])

    def fresh(self, used, style=None):
        """A name not yet in used (a set of casefolded names)."""
        for _ in range(50):
            n = self.raw(style)
            if n == "":
                continue
            k = n.lower()
            if k not in used:
                used.add(k)
                return n
        n = "n%d_%d" % (len(used), self.rng.randrange(10 ** 6))
        used.add(n.lower())
        return n

    def label(self):
        r = self.rng.random()
        if r < 0.3:
            return self.rng.choice(WORDS) + str(self.rng.randrange(100))
        if r < 0.5:
            return self.payload()
        return self.rng.choice(self.awkward + ["", "a,b", "it''s", "NULL", "null", " "])


# ---------------------------------------------------------------- types

INT_RANGES = {
    "TINYINT": (-128, 127), "SMALLINT": (-32768, 32767),
    "INTEGER": (-2 ** 31, 2 ** 31 - 1), "BIGINT": (-2 ** 63, 2 ** 63 - 1),
    "HUGEINT": (-(2 ** 127) + 1, 2 ** 127 - 1), "UTINYINT": (0, 255),
    "USMALLINT": (0, 65535), "UINTEGER": (0, 2 ** 32 - 1), "UBIGINT": (0, 2 ** 64 - 1),
    "UHUGEINT": (0, 2 ** 128 - 1),
}
SCALARS = ["BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
           "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE",
           "DECIMAL", "VARCHAR", "BLOB", "DATE", "TIME", "TIMESTAMP",
           "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMPTZ",
           "TIMETZ", "INTERVAL", "UUID"]
NEWER_SCALARS = ["BIT", "JSON"]            # 0.7+
LATEST_SCALARS = ["UHUGEINT", "BIGNUM", "TIME_NS"]  # 1.5.6

STRINGS = ["", "plain", "quote ' in it", 'dq " in it', "comma , semi ;",
           "new\nline", "tab\tx", "back\\slash", "é 漢字 🦆", "  spaces  ",
           "NULL", "null", "\\N", "-- not a comment", "/* not a comment */",
           "a" * 300, "[1, 2]", "{'a': 1}", "x=y", "ünïcödé"]


class T:
    """A column type: kind, and for nested kinds their parts."""

    def __init__(self, kind, **kw):
        self.kind = kind
        self.__dict__.update(kw)


def type_sql(t, rel):
    k = t.kind
    if k == "DECIMAL":
        return "DECIMAL(%d,%d)" % (t.w, t.s)
    if k == "ENUM":
        return qn(t.enum["schema"], t.enum["name"]) if rel == "1.5.6" else qi(t.enum["name"])
    if k == "ALIAS":
        return qn(t.alias["schema"], t.alias["name"]) if rel == "1.5.6" else qi(t.alias["name"])
    if k == "LIST":
        return type_sql(t.elem, rel) + "[]"
    if k == "ARRAY":
        return type_sql(t.elem, rel) + "[%d]" % t.n
    if k == "STRUCT":
        return "STRUCT(" + ", ".join(qi(n) + " " + type_sql(ft, rel) for n, ft in t.fields) + ")"
    if k == "UNION":
        return "UNION(" + ", ".join(qi(n) + " " + type_sql(ft, rel) for n, ft in t.fields) + ")"
    if k == "MAP":
        return "MAP(%s, %s)" % (type_sql(t.key, rel), type_sql(t.value, rel))
    return k


def is_nested(t):
    return t.kind in ("LIST", "ARRAY", "STRUCT", "UNION", "MAP") or (
        t.kind == "ALIAS" and is_nested(t.alias["type"]))


def base(t):
    return t.alias["type"] if t.kind == "ALIAS" else t


class Values:
    def __init__(self, rng, names, rel):
        self.rng = rng
        self.names = names
        self.rel = rel

    def lit(self, t, null_p=0.15, depth=0):
        rng = self.rng
        if rng.random() < null_p:
            return "NULL"
        k = t.kind
        rel = self.rel
        if k == "ALIAS":
            return "CAST(%s AS %s)" % (self.lit(t.alias["type"], null_p, depth), type_sql(t, rel))
        if k == "BOOLEAN":
            return rng.choice(["true", "false"])
        if k in INT_RANGES:
            lo, hi = INT_RANGES[k]
            v = rng.choice([lo, hi, 0, 1, -1 if lo < 0 else 2, rng.randint(lo, hi),
                            rng.randint(max(lo, -1000), min(hi, 1000))])
            return "CAST(%s AS %s)" % (qs(str(v)), k)
        if k == "BIGNUM":
            v = rng.choice([0, -1, 10 ** 40 + 7, -(10 ** 60) - 3, rng.randint(-10 ** 50, 10 ** 50)])
            return "CAST(%s AS BIGNUM)" % qs(str(v))
        if k in ("FLOAT", "DOUBLE"):
            specials = ["nan", "inf", "-inf", "-0.0", "0.0", "1.5", "0.1", "-2.75"]
            if k == "FLOAT":
                specials += ["3.4028235e38", "-3.4028235e38", "1.4e-45", "1.1754944e-38"]
            else:
                specials += ["1.7976931348623157e308", "5e-324", "2.2250738585072014e-308",
                             "123456789.125", "1e300", "-1e-300"]
            r = rng.random()
            if r < 0.4:
                v = rng.choice(specials)
            elif r < 0.7:
                v = repr(rng.uniform(-1e6, 1e6))
            else:
                v = repr(rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30))
            return "CAST(%s AS %s)" % (qs(v), k)
        if k == "DECIMAL":
            digits = rng.choice([t.w, t.w, rng.randint(1, t.w)])
            ival = rng.randint(0, 10 ** digits - 1)
            s = str(ival).rjust(t.s + 1, "0")
            txt = (s[:-t.s] + "." + s[-t.s:]) if t.s else s
            if rng.random() < 0.5:
                txt = "-" + txt
            return "CAST(%s AS DECIMAL(%d,%d))" % (qs(txt), t.w, t.s)
        if k in ("VARCHAR", "JSON"):
            if k == "JSON":
                # no CAST(... AS JSON): 0.7/0.8 cannot reopen a file whose
                # stored DEFAULT names the JSON type
                return "%s" % qs(rng.choice(
                    ['{"a": [1, 2, null]}', '"s"', "[]", "null", '{"k\\"q": "é"}', "1.5"]))
            r = rng.random()
            if r < 0.2:
                v = self.names.payload()
            elif r < 0.7:
                v = rng.choice(STRINGS)
            else:
                v = "".join(rng.choice("abcXYZ 09'\",;\n\té漢🦆\\") for _ in range(rng.randint(0, 20)))
            return qs(v)
        if k == "BLOB":
            n = rng.choice([0, 1, 3, 10, 40])
            b = "".join("\\x%02X" % rng.randrange(256) if rng.random() < 0.5 else
                        rng.choice("abc'XYZ") for _ in range(n))
            if rng.random() < 0.3:
                b = "\\x00" + b + "\\x00"
            return "CAST(%s AS BLOB)" % qs(b)
        if k == "BIT":
            return "CAST(%s AS BIT)" % qs("".join(rng.choice("01") for _ in range(rng.randint(1, 40))))
        if k == "DATE":
            return "CAST(%s AS DATE)" % qs(self.date(1, 9999))
        if k in ("TIME", "TIME_NS"):
            return "CAST(%s AS %s)" % (qs(self.time(k == "TIME_NS")), k)
        if k in ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS"):
            return "CAST(%s AS %s)" % (qs(self.date(1, 9999) + " " + self.time()), k)
        if k == "TIMESTAMP_NS":
            return "CAST(%s AS %s)" % (qs(self.date(1678, 2261) + " " + self.time(True)), k)
        if k == "TIMESTAMPTZ":
            return "CAST(%s AS TIMESTAMPTZ)" % qs(self.date(1800, 2200) + " " + self.time() + self.offset())
        if k == "TIMETZ":
            return "CAST(%s AS TIMETZ)" % qs(self.time() + self.offset())
        if k == "INTERVAL":
            parts = [(rng.randint(-20, 20), "years"), (rng.randint(-11, 11), "months"),
                     (rng.randint(-40, 40), "days"), (rng.randint(-30, 30), "hours"),
                     (rng.randint(-1000000, 1000000), "microseconds")]
            txt = " ".join("%d %s" % p for p in parts if rng.random() < 0.6) or "0 seconds"
            return "CAST(%s AS INTERVAL)" % qs(txt)
        if k == "UUID":
            v = rng.choice(["00000000-0000-0000-0000-000000000000",
                            "ffffffff-ffff-ffff-ffff-ffffffffffff",
                            "%032x" % rng.getrandbits(128)])
            if len(v) == 32:
                v = "%s-%s-%s-%s-%s" % (v[:8], v[8:12], v[12:16], v[16:20], v[20:])
            return "CAST(%s AS UUID)" % qs(v)
        if k == "ENUM":
            return "CAST(%s AS %s)" % (qs(rng.choice(t.enum["labels"])), type_sql(t, rel))
        if k in ("LIST", "ARRAY"):
            n = t.n if k == "ARRAY" else rng.choice([0, 0, 1, 2, 3, 5])
            items = [self.lit(t.elem, 0.2, depth + 1) for _ in range(n)]
            return "CAST([%s] AS %s)" % (", ".join(items), type_sql(t, rel))
        if k == "STRUCT":
            return "CAST(struct_pack(%s) AS %s)" % (
                ", ".join("%s := %s" % (qi(n), self.lit(ft, 0.2, depth + 1)) for n, ft in t.fields),
                type_sql(t, rel))
        if k == "UNION":
            n, ft = rng.choice(t.fields)
            return "CAST(union_value(%s := %s) AS %s)" % (qi(n), self.lit(ft, 0.1, depth + 1),
                                                            type_sql(t, rel))
        if k == "MAP":
            n = rng.choice([0, 1, 2, 3])
            keys, seen = [], set()
            for _ in range(n):
                kv = self.lit(t.key, 0.0, depth + 1)
                if kv not in seen:
                    seen.add(kv)
                    keys.append(kv)
            vals = [self.lit(t.value, 0.25, depth + 1) for _ in keys]
            if not keys:
                return "CAST(map([], []) AS %s)" % type_sql(t, rel)
            return "CAST(map([%s], [%s]) AS %s)" % (", ".join(keys), ", ".join(vals), type_sql(t, rel))
        raise ValueError(k)

    def date(self, lo, hi):
        r = self.rng
        y = r.choice([lo, hi, r.randint(lo, hi), r.randint(1960, 2040)])
        return "%04d-%02d-%02d" % (y, r.randint(1, 12), r.randint(1, 28))

    def time(self, ns=False):
        r = self.rng
        frac = r.choice(["", ".%06d" % r.randrange(10 ** 6), ".5", ".999999"])
        if ns and r.random() < 0.5:
            frac = ".%09d" % r.randrange(10 ** 9)
        return "%02d:%02d:%02d%s" % (r.randint(0, 23), r.randint(0, 59), r.randint(0, 59), frac)

    def offset(self):
        return self.rng.choice(["+00", "+05:30", "-08", "+14", "-12:45", ""])


# ---------------------------------------------------------------- generator

class Gen:
    def __init__(self, seed, rel, marks):
        self.seed = seed
        self.rel = rel
        self.rng = random.Random(seed)
        self.names = Names(self.rng, marks, rel)
        self.vals = Values(self.rng, self.names, rel)
        self.stmts = []  # (phase, sql)
        self.schemas = ["main"]
        self.used = {"schema": {"main", "pg_catalog", "information_schema", "temp"}}
        self.enums = []
        self.aliases = []
        self.seqs = []
        self.tables = []
        self.views = []
        self.macros = []
        self.old = rel != "1.5.6"
        # swarm testing: each seed leaves out some features, so that a
        # bug that every file with feature X hits does not hide the rest
        fr = random.Random(seed * 7919 + 17)
        self.f = {k: fr.random() < p for k, p in (
            ("alias", 0.6), ("macros", 0.75), ("views", 0.8), ("union", 0.6), ("map", 0.7),
            ("nested", 0.85), ("enums", 0.75), ("wal", 0.35), ("range", 0.3), ("generated", 0.6),
            ("fk", 0.6), ("indexes", 0.7), ("alter", 0.5), ("array", 0.3), ("drop", 0.2),
            ("awkward", 0.85), ("defaults", 0.7), ("checks", 0.6), ("sequences", 0.75),
            ("time_ns", 0.3))}
        if not self.f["awkward"]:
            self.names.plain_p = 0.9

    def emit(self, sql, phase="main"):
        self.stmts.append((phase, sql))

    def ns(self, schema):
        """Names used in a schema (tables, views, sequences, types, indexes, macros share none)."""
        return self.used.setdefault(("rel", schema), set())

    def chance(self, p):
        return self.rng.random() < p

    # -- types
    def scalar_pool(self):
        pool = list(SCALARS)
        if self.rel != "0.6.1":
            pool += NEWER_SCALARS
        if self.rel == "1.5.6":
            pool += [x for x in LATEST_SCALARS if x != "TIME_NS" or self.f["time_ns"]]
        return pool

    def rand_type(self, schema, depth=0, key=False):
        rng = self.rng
        if key:
            return T(rng.choice(["VARCHAR", "INTEGER", "BIGINT", "DATE"]))
        r = rng.random()
        if depth < 3 and r < 0.28 and self.f["nested"]:
            return self.nested_type(schema, depth)
        enums = self.usable_enums(schema) if self.f["enums"] else []
        if enums and r < 0.38:
            return T("ENUM", enum=rng.choice(enums))
        # 0.6-0.8: a user type used by a table of another schema makes a
        # file its own release cannot reopen
        aliases = [a for a in self.aliases if self.rel == "1.5.6" or (a["schema"] == "main" and schema == "main")]
        if aliases and r < 0.42 and depth == 0 and self.f["alias"]:
            return T("ALIAS", alias=rng.choice(aliases))
        k = rng.choice(self.scalar_pool())
        if k == "JSON" and depth > 0 and self.rel != "1.5.6":
            # 0.7/0.8 cannot reopen a file with a JSON nested in a column
            # type unless the json extension is loaded
            k = "VARCHAR"
        if k == "DECIMAL":
            w = rng.choice([1, 4, 9, 10, 18, 19, 38, rng.randint(1, 38)])
            return T("DECIMAL", w=w, s=rng.randint(0, w))
        return T(k)

    def nested_type(self, schema, depth):
        rng = self.rng
        kinds = ["LIST", "LIST", "STRUCT"]
        if self.f["map"]:
            kinds.append("MAP")
        if self.rel != "0.6.1" and self.f["union"]:
            kinds.append("UNION")
        if self.rel == "1.5.6" and self.f["array"]:
            kinds.append("ARRAY")
        k = rng.choice(kinds)
        if k == "LIST":
            return T("LIST", elem=self.rand_type(schema, depth + 1))
        if k == "ARRAY":
            return T("ARRAY", elem=self.rand_type(schema, depth + 1), n=rng.randint(1, 4))
        if k == "MAP":
            return T("MAP", key=self.rand_type(schema, depth + 1, key=True),
                     value=self.rand_type(schema, depth + 1))
        used = set()
        n = rng.randint(1, 4)
        fields = []
        for _ in range(n):
            fields.append((self.names.fresh(used), self.rand_type(schema, depth + 1)))
        if k == "UNION":
            # a UNION member may not itself be a UNION in every release
            fields = [(fn, ft if ft.kind != "UNION" else T("INTEGER")) for fn, ft in fields]
            return T("UNION", fields=fields)
        return T("STRUCT", fields=fields)

    def usable_enums(self, schema):
        if self.rel == "1.5.6":
            return self.enums
        if schema != "main":
            # 0.6-0.8 cannot reopen a file in which a table uses an ENUM
            # of another schema (docs/migration.md): not duckmig's to fix
            return []
        return [e for e in self.enums if e["schema"] == "main"]

    # -- objects
    def gen_schemas(self):
        for _ in range(self.rng.choice([0, 1, 1, 2, 3])):
            n = self.names.fresh(self.used["schema"])
            self.emit("CREATE SCHEMA %s" % qi(n))
            self.schemas.append(n)

    def pick_schema(self):
        return self.rng.choice(self.schemas) if self.chance(0.6) else "main"

    def gen_types(self):
        rng = self.rng
        for _ in range(rng.choice([0, 1, 2, 3]) if self.f["enums"] else 0):
            schema = "main" if self.rel == "0.6.1" else self.pick_schema()
            name = self.names.fresh(self.ns(schema))
            while name.lower() in self.BUILTIN_TYPE_NAMES:
                name = self.names.fresh(self.ns(schema))
            if self.chance(0.1):
                labels = ["l%d" % i for i in range(rng.choice([255, 256, 300]))]
            else:
                labels, seen = [], set()
                for _ in range(rng.randint(1, 7)):
                    lab = self.names.label()
                    if lab == "" and self.rel == "0.6.1":
                        continue
                    if lab not in seen:
                        seen.add(lab)
                        labels.append(lab)
                if not labels:
                    labels = ["only"]
            self.emit("CREATE TYPE %s AS ENUM (%s)" % (self.type_name(schema, name), ", ".join(qs(x) for x in labels)))
            self.enums.append({"schema": schema, "name": name, "labels": labels})
        for _ in range(rng.choice([0, 0, 1, 2]) if self.f["alias"] else 0):
            schema = "main" if self.rel == "0.6.1" else self.pick_schema()
            name = self.names.fresh(self.ns(schema))
            while name.lower() in self.BUILTIN_TYPE_NAMES:
                name = self.names.fresh(self.ns(schema))
            t = rng.choice([T("VARCHAR"), T("INTEGER"), T("LIST", elem=T("INTEGER")),
                            T("STRUCT", fields=[(self.names.fresh(set()), T("VARCHAR")),
                                                ("n", T("BIGINT"))]),
                            T("DECIMAL", w=12, s=3)])
            self.emit("CREATE TYPE %s AS %s" % (self.type_name(schema, name), type_sql(t, self.rel)))
            self.aliases.append({"schema": schema, "name": name, "type": t})

    BUILTIN_TYPE_NAMES = {"enum", "map", "list", "struct", "union", "json", "bit", "uuid",
                          "varchar", "integer", "date", "time", "interval", "null", "table", "timestamp"}

    def type_name(self, schema, name):
        # 0.6.1 reads "main"."t" in CREATE TYPE as a type named main
        return qi(name) if self.rel == "0.6.1" else qn(schema, name)

    def gen_sequences(self):
        rng = self.rng
        for _ in range(rng.choice([0, 1, 1, 2, 3]) if self.f["sequences"] else 0):
            # nextval('"s"."n"') cannot name a sequence with a double quote
            schema = self.pick_schema()
            if '"' in schema:
                schema = "main"
            name = self.names.fresh(self.ns(schema))
            while '"' in name:
                name = self.names.fresh(self.ns(schema))
            inc = rng.choice([1, 1, 5, -1, -3, 1000])
            opts = []
            start = rng.choice([1, 100, -50, 2 ** 40])
            if inc < 0:
                opts.append("MAXVALUE %d" % max(start, 1000))
                opts.append("MINVALUE -1000000")
                start = min(start, 1000)
            elif start < 1:
                opts.append("MINVALUE %d" % start)
            if self.chance(0.2):
                if inc > 0:
                    opts.append("MAXVALUE %d" % (start + 20 * inc))
                opts.append("CYCLE")
            self.emit("CREATE SEQUENCE %s START %d INCREMENT BY %d %s" % (
                qn(schema, name), start, inc, " ".join(opts)))
            seq = {"schema": schema, "name": name}
            self.seqs.append(seq)
            for _ in range(rng.choice([0, 1, 3, 7])):
                self.emit("SELECT nextval(%s)" % qs(qn(schema, name)))

    def gen_table(self, empty=False):
        rng = self.rng
        schema = self.pick_schema()
        name = self.names.fresh(self.ns(schema))
        cols = []
        colnames = set()
        ncols = rng.randint(1, 20) if empty else rng.choice([1, 2, 3, 4, 5, 6, 8, 12])
        for _ in range(ncols):
            cname = self.names.fresh(colnames)
            cols.append({"name": cname, "type": self.rand_type(schema), "gen": None})
        tbl = {"schema": schema, "name": name, "cols": cols, "keys": [], "fk": None,
               "rows": 0, "keyrows": []}
        defs = []
        table_cons = []
        # a key column: an integer or varchar column with unique values
        keyable = [c for c in cols if base(c["type"]).kind in
                   ("INTEGER", "BIGINT", "VARCHAR", "SMALLINT", "UBIGINT", "HUGEINT", "DATE")]
        if not empty and (not keyable or self.chance(0.3)) and self.chance(0.7):
            kc = {"name": self.names.fresh(colnames), "type": T(rng.choice(["INTEGER", "BIGINT", "VARCHAR"])),
                  "gen": None}
            cols.insert(rng.randrange(len(cols) + 1), kc)
            keyable.append(kc)
        if keyable and self.chance(0.6):
            kc = rng.choice(keyable)
            kc["key"] = True
            kind = rng.choice(["PRIMARY KEY", "UNIQUE"])
            if self.chance(0.5):
                kc["inline"] = kind
            else:
                table_cons.append("%s (%s)" % (kind, qi(kc["name"])))
            tbl["keys"].append((kind, [kc]))
            if len(keyable) > 1 and self.chance(0.4):
                others = [c for c in keyable if c is not kc]
                k2 = rng.choice(others)
                k2["key2"] = True
                table_cons.append("UNIQUE (%s, %s)" % (qi(kc["name"]), qi(k2["name"])))
        # foreign key to an earlier table of the same schema with a single-column key
        parents = [t for t in self.tables if t["schema"] == schema and t["keys"] and not t.get("dropped")]
        if parents and not empty and self.f["fk"] and self.chance(0.5):
            p = rng.choice(parents)
            kind, pcols = p["keys"][0]
            pc = pcols[0]
            fc = {"name": self.names.fresh(colnames), "type": pc["type"], "gen": None, "fk": (p, pc)}
            cols.append(fc)
            table_cons.append("FOREIGN KEY (%s) REFERENCES %s (%s)" % (
                qi(fc["name"]), qn(p["schema"], p["name"]), qi(pc["name"])))
            tbl["fk"] = (fc, p, pc)
        for c in cols:
            t = c["type"]
            d = qi(c["name"]) + " " + type_sql(t, self.rel)
            bk = base(t).kind
            if c.get("inline"):
                d += " " + c["inline"]
            if self.chance(0.15) and not c.get("key") and not c.get("fk"):
                d += " NOT NULL"
                c["notnull"] = True
            if self.f["defaults"] and self.chance(0.25) and not c.get("key"):
                if bk in ("INTEGER", "BIGINT", "HUGEINT") and self.seqs and self.chance(0.6):
                    s = rng.choice(self.seqs)
                    d += " DEFAULT nextval(%s)" % qs(qn(s["schema"], s["name"]))
                else:
                    d += " DEFAULT " + self.vals.lit(t, 0.1)
            if self.f["checks"] and self.chance(0.15) and bk in ("VARCHAR", "INTEGER", "BIGINT", "DOUBLE", "DATE"):
                if bk == "VARCHAR":
                    d += " CHECK (%s IS NULL OR %s <> %s)" % (qi(c["name"]), qi(c["name"]),
                                                              qs(self.names.payload()))
                else:
                    d += " CHECK (%s IS NULL OR %s = %s)" % (qi(c["name"]), qi(c["name"]), qi(c["name"]))
            defs.append(d)
        # generated columns
        if self.f["generated"]:
            for c in list(cols):
                if self.chance(0.2) and not is_nested(c["type"]) and not c.get("fk"):
                    bk = base(c["type"]).kind
                    gname = self.names.fresh(colnames)
                    if bk in INT_RANGES or bk in ("FLOAT", "DOUBLE", "DECIMAL"):
                        expr, gt = "CAST(%s AS DOUBLE) * 2" % qi(c["name"]), "DOUBLE"
                    elif bk == "VARCHAR":
                        expr, gt = "lower(%s) || %s" % (qi(c["name"]), qs(self.names.payload())), "VARCHAR"
                    else:
                        expr, gt = "%s IS NULL" % qi(c["name"]), "BOOLEAN"
                    if self.chance(0.5):
                        defs.append("%s AS (%s)" % (qi(gname), expr))
                    else:
                        defs.append("%s %s GENERATED ALWAYS AS (%s) VIRTUAL" % (qi(gname), gt, expr))
                    tbl.setdefault("gens", []).append(gname)
                    break
        if self.f["checks"] and self.chance(0.2):
            c = rng.choice(cols)
            table_cons.append("CHECK (%s IS NOT NULL OR %s IS NULL) %s" % (
                qi(c["name"]), qi(c["name"]), self.comment()))
        self.emit("CREATE TABLE %s (%s)" % (qn(schema, name), ", ".join(defs + table_cons)))
        self.tables.append(tbl)
        return tbl

    def gen_alter(self, tbl):
        rng = self.rng
        colnames = {c["name"].lower() for c in tbl["cols"]} | {g.lower() for g in tbl.get("gens", [])}
        r = rng.random()
        tq = qn(tbl["schema"], tbl["name"])
        plain = [c for c in tbl["cols"] if not c.get("key") and not c.get("key2") and not c.get("fk")]
        if r < 0.45:
            c = {"name": self.names.fresh(colnames), "type": self.rand_type(tbl["schema"]), "gen": None}
            d = ""
            if self.chance(0.5):
                d = " DEFAULT " + self.vals.lit(c["type"], 0.0)
            self.emit("ALTER TABLE %s ADD COLUMN %s %s%s" % (tq, qi(c["name"]), type_sql(c["type"], self.rel), d))
            tbl["cols"].append(c)
        elif r < 0.7 and len(plain) > 1 and len(tbl["cols"]) > 1 and not tbl.get("gens"):
            c = rng.choice(plain)
            self.emit("ALTER TABLE %s DROP COLUMN %s" % (tq, qi(c["name"])))
            tbl["cols"].remove(c)
        elif plain and not tbl.get("gens"):
            c = rng.choice(plain)
            new = self.names.fresh(colnames)
            self.emit("ALTER TABLE %s RENAME COLUMN %s TO %s" % (tq, qi(c["name"]), qi(new)))
            c["name"] = new
        elif plain:
            c = rng.choice(plain)
            self.emit("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s" % (tq, qi(c["name"]), self.vals.lit(c["type"], 0.0)))

    def row_value(self, tbl, c, i):
        bk = base(c["type"]).kind
        if c.get("fk"):
            p, pc = c["fk"]
            if p["keyrows"] and self.chance(0.8):
                return self.rng.choice(p["keyrows"])[1]
            return "NULL"
        if c.get("key") or c.get("key2"):
            n = tbl["rows"] + i + 1
            if bk == "VARCHAR":
                v = qs("k%d %s" % (n, self.rng.choice(["", "é", "'q'", "a;b"])))
            elif bk == "DATE":
                v = "CAST('2000-01-01' AS DATE) + %d" % n
            else:
                v = "CAST(%d AS %s)" % (n * 7 - (30 if bk[0] != "U" else 0), bk)
            if c.get("key"):
                tbl["keyrows"].append((tbl["rows"] + i, v))
            return v
        return self.vals.lit(c["type"], 0.0 if c.get("notnull") else 0.15)

    def insert_rows(self, tbl, n, phase="main"):
        if n <= 0:
            return
        cols = tbl["cols"]
        rows = []
        for i in range(n):
            rows.append("(" + ", ".join(self.row_value(tbl, c, i) for c in cols) + ")")
        tbl["rows"] += n
        self.emit("INSERT INTO %s (%s) VALUES %s" % (
            qn(tbl["schema"], tbl["name"]), ", ".join(qi(c["name"]) for c in cols), ", ".join(rows)), phase)

    def insert_range(self, tbl, n):
        """Many rows at once, from range(): crosses vectors and row groups."""
        exprs = []
        for c in tbl["cols"]:
            bk = base(c["type"]).kind
            q = qi(c["name"])
            if c.get("fk"):
                e = "NULL"
            elif c.get("key") or c.get("key2"):
                off = tbl["rows"] + 1000000
                if bk == "VARCHAR":
                    e = "'r' || (range + %d)" % off
                elif bk == "DATE":
                    e = "CAST('1000-01-01' AS DATE) + CAST(range AS INTEGER)"
                else:
                    e = "CAST(range + %d AS %s)" % (off, bk)
            elif bk in INT_RANGES and bk not in ("UHUGEINT",):
                lo, hi = INT_RANGES[bk]
                e = "CAST((range * 7919) %% %d + %d AS %s)" % (min(hi - lo, 10 ** 9), max(lo, -10 ** 6), bk)
                e = "CASE WHEN range %% 17 = 0 THEN NULL ELSE %s END" % e
            elif bk in ("FLOAT", "DOUBLE"):
                e = "CAST(range AS %s) / 7" % bk
            elif bk == "VARCHAR":
                e = "CASE WHEN range %% 13 = 0 THEN NULL ELSE 'v' || range || repeat('x', CAST(range %% 20 AS INTEGER)) END"
            elif bk == "BOOLEAN":
                e = "range % 3 = 0"
            elif bk == "DATE":
                e = "CAST('1990-01-01' AS DATE) + CAST(range % 20000 AS INTEGER)"
            elif bk == "TIMESTAMP":
                e = "CAST('1990-01-01' AS TIMESTAMP) + to_seconds(range * 37)" if self.rel != "0.6.1" else "NULL"
            elif bk == "DECIMAL":
                t = base(c["type"])
                e = "CAST((range %% %d) AS DECIMAL(%d,%d))" % (10 ** max(t.w - t.s, 0) if t.w > t.s else 1, t.w, t.s)
            elif bk == "LIST" and base(base(c["type"]).elem).kind in ("INTEGER", "BIGINT"):
                e = "CASE WHEN range %% 5 = 0 THEN NULL ELSE [CAST(range AS %s), NULL] END" % base(base(c["type"]).elem).kind
            elif c.get("notnull"):
                e = self.vals.lit(c["type"], 0.0)
            else:
                e = "NULL"
            exprs.append(e)
        tbl["rows"] += n
        self.emit("INSERT INTO %s (%s) SELECT %s FROM range(%d)" % (
            qn(tbl["schema"], tbl["name"]), ", ".join(qi(c["name"]) for c in tbl["cols"]),
            ", ".join(exprs), n))

    def gen_rows(self, tbl):
        rng = self.rng
        tq = qn(tbl["schema"], tbl["name"])
        r = rng.random()
        if self.f["range"] and r < 0.2:
            self.insert_range(tbl, rng.choice([3000, 5000, 130000 if self.chance(0.3) else 2049]))
        for _ in range(rng.choice([1, 1, 2, 3])):
            self.insert_rows(tbl, rng.choice([1, 2, 5, 10, 25]))
        if self.chance(0.4):
            m, k = rng.choice([2, 3, 5]), rng.randrange(2)
            self.emit("DELETE FROM %s WHERE rowid %% %d = %d" % (tq, m, k))
            tbl["keyrows"] = [(r, v) for r, v in tbl["keyrows"] if r % m != k]
        if self.chance(0.4):
            upd = [c for c in tbl["cols"] if not c.get("key") and not c.get("key2") and not c.get("fk")]
            if upd:
                c = rng.choice(upd)
                self.emit("UPDATE %s SET %s = %s WHERE rowid %% %d = 1" % (
                    tq, qi(c["name"]), self.vals.lit(c["type"], 0.0 if c.get("notnull") else 0.2),
                    rng.choice([2, 3, 4])))
        if self.chance(0.07):
            self.emit("DELETE FROM %s" % tq)
            tbl["keyrows"] = []

    def gen_index(self):
        rng = self.rng
        cands = [t for t in self.tables if not t.get("dropped")]
        if not cands:
            return
        tbl = rng.choice(cands)
        cols = [c for c in tbl["cols"] if not is_nested(c["type"])]
        if not cols:
            return
        name = self.names.fresh(self.ns(tbl["schema"]))
        r = rng.random()
        unique = ""
        if r < 0.35:
            what = qi(rng.choice(cols)["name"])
        elif r < 0.6 and len(cols) > 1:
            what = ", ".join(qi(c["name"]) for c in rng.sample(cols, 2))
        elif r < 0.8:
            c = rng.choice(cols)
            bk = base(c["type"]).kind
            if bk in INT_RANGES or bk in ("FLOAT", "DOUBLE", "DECIMAL"):
                what = "(CAST(%s AS DOUBLE) + 1)" % qi(c["name"])
            elif bk == "VARCHAR":
                what = "(lower(%s))" % qi(c["name"])
            else:
                what = "(%s IS NULL)" % qi(c["name"])
        else:
            keys = [c for c in tbl["cols"] if c.get("key")]
            if not keys:
                return
            what = qi(keys[0]["name"])
            unique = "UNIQUE "
        self.emit("CREATE %sINDEX %s ON %s (%s)" % (unique, qi(name), qn(tbl["schema"], tbl["name"]), what))

    def comment(self):
        """A comment holding a payload; DuckDB nests /* */ comments, so
        every /* the payload opens is closed again."""
        p = self.names.payload().replace("*/", "* /")
        close = " */" * p.count("/*")
        r = self.rng.random()
        if r < 0.4:
            return "/* " + p + close + " */"
        if r < 0.7:
            return "/* outer /* " + p + close + " */ still comment */"
        return "-- " + p.replace("\n", " ") + "\n"

    def gen_macros(self):
        rng = self.rng
        for _ in range(rng.choice([0, 1, 2, 3, 4]) if self.f["macros"] else 0):
            schema = self.pick_schema()
            name = self.names.fresh(self.used.setdefault(("macro", schema), set()))
            pused = set()
            params = [self.names.fresh(pused) for _ in range(rng.randint(1, 3))]
            defaults = []
            if self.chance(0.4):
                defaults.append((self.names.fresh(pused), rng.choice(["5", "'d'", "NULL", qs(self.names.payload())])))
            plist = ", ".join([qi(p) for p in params] + ["%s := %s" % (qi(d), v) for d, v in defaults])
            a = qi(params[0])
            r = rng.random()
            scalars = [m for m in self.macros if m["kind"] == "scalar"]
            if r < 0.25:
                body = "CAST(%s AS VARCHAR) || %s" % (a, qs(self.names.payload()))
            elif r < 0.45 and scalars:
                m = rng.choice(scalars)
                args = ", ".join(["%s" % a] * m["nreq"])
                body = "%s(%s)" % (qn(m["schema"], m["name"]), args)
            elif r < 0.6 and defaults:
                body = "CAST(%s AS VARCHAR) || CAST(%s AS VARCHAR)" % (a, qi(defaults[0][0]))
            elif r < 0.75:
                body = "CASE WHEN %s IS NULL THEN %s ELSE %s END" % (a, qs(self.names.payload()),
                                                                     "CAST(%s AS VARCHAR)" % a)
            else:
                body = "(%s + 1) %s" % (a, self.comment() if self.chance(0.5) else "")
                body = body.rstrip("\n") + ("\n" if body.endswith("\n") else "")
            self.emit("CREATE MACRO %s(%s) AS %s" % (qn(schema, name), plist, body))
            self.macros.append({"schema": schema, "name": name, "kind": "scalar", "nreq": len(params)})
            # a table macro, sometimes of the same name
            if self.chance(0.5):
                tname = name if self.chance(0.5) else self.names.fresh(self.used[("macro", schema)])
                tabs = [t for t in self.tables if not t.get("dropped")]
                if tabs and self.chance(0.7):
                    t = rng.choice(tabs)
                    c = rng.choice(t["cols"])
                    tbody = "SELECT %s AS %s FROM %s LIMIT 5 + 0 * length(CAST(%s AS VARCHAR))" % (
                        qi(c["name"]) if not is_nested(c["type"]) else "CAST(%s AS VARCHAR)" % qi(c["name"]),
                        qi(self.names.fresh(set())), qn(t["schema"], t["name"]), a)
                else:
                    tbody = "SELECT %s AS %s, %s AS lit" % (a, qi(self.names.fresh(set())), qs(self.names.payload()))
                self.emit("CREATE MACRO %s(%s) AS TABLE %s" % (qn(schema, tname), plist, tbody))
                self.macros.append({"schema": schema, "name": tname, "kind": "table", "nreq": len(params)})

    def view_body(self, schema):
        rng = self.rng
        srcs = [("table", t) for t in self.tables if not t.get("dropped")] + [("view", v) for v in self.views]
        tms = [m for m in self.macros if m["kind"] == "table"]
        sms = [m for m in self.macros if m["kind"] == "scalar" and m["nreq"] == 1]
        alias_used = set()
        r = rng.random()
        if r < 0.15 or not srcs:
            if tms and self.chance(0.5):
                m = rng.choice(tms)
                return "SELECT * FROM %s(%s)" % (qn(m["schema"], m["name"]), ", ".join(["1"] * m["nreq"]))
            return "SELECT %s AS %s, 42 AS %s %s" % (qs(self.names.payload()), qi(self.names.fresh(alias_used)),
                                                     qi(self.names.fresh(alias_used)), self.comment())
        kind, src = rng.choice(srcs)
        if kind == "table":
            cols = [c["name"] for c in src["cols"]]
        else:
            cols = src["cols"]
        sq = qn(src["schema"], src["name"])
        if src["schema"] == "main" and schema == "main" and self.chance(0.3):
            sq = qi(src["name"])
        picked = rng.sample(cols, min(len(cols), rng.randint(1, 3))) if cols else []
        sel = []
        outs = []
        for c in picked:
            o = self.names.fresh(alias_used)
            e = qi(c)
            if sms and self.chance(0.25):
                m = rng.choice(sms)
                e = "%s(%s)" % (qn(m["schema"], m["name"]), e)
            sel.append("%s AS %s" % (e, qi(o)))
            outs.append(o)
        if self.chance(0.3):
            o = self.names.fresh(alias_used)
            sel.append("%s AS %s" % (qs(self.names.payload()), qi(o)))
            outs.append(o)
        if not sel:
            o = self.names.fresh(alias_used)
            sel.append("1 AS %s" % qi(o))
            outs.append(o)
        where = ""
        if self.chance(0.3):
            where = " WHERE %s IS NOT DISTINCT FROM %s OR true" % (qs(self.names.payload()), qs("x"))
        body = "SELECT %s %s FROM %s%s" % (", ".join(sel), self.comment() if self.chance(0.4) else "", sq, where)
        return body, outs

    def gen_views(self):
        rng = self.rng
        for _ in range(rng.choice([0, 1, 2, 3, 4, 5]) if self.f["views"] else 0):
            schema = self.pick_schema()
            name = self.names.fresh(self.ns(schema))
            b = self.view_body(schema)
            if isinstance(b, tuple):
                body, outs = b
            else:
                body, outs = b, []
            collist = ""
            if outs and self.chance(0.2):
                cu = set()
                outs = [self.names.fresh(cu) for _ in outs]
                collist = " (%s)" % ", ".join(qi(o) for o in outs)
            self.emit("CREATE VIEW %s%s AS %s" % (qn(schema, name), collist, body))
            v = {"schema": schema, "name": name, "cols": outs, "body": body, "collist": collist}
            self.views.append(v)
        # a view re-created after the views that read it: it sorts after them
        if len(self.views) > 1 and self.chance(0.5):
            v = self.views[0]
            self.emit("CREATE OR REPLACE VIEW %s%s AS %s" % (qn(v["schema"], v["name"]), v["collist"], v["body"]))

    def gen_wal(self):
        rng = self.rng
        self.emit("CHECKPOINT")
        tabs = [t for t in self.tables if not t.get("dropped")]
        for _ in range(rng.randint(1, 4)):
            if not tabs:
                break
            t = rng.choice(tabs)
            r = rng.random()
            tq = qn(t["schema"], t["name"])
            if r < 0.6:
                self.insert_rows(t, rng.choice([1, 3, 10]), phase="wal")
            elif r < 0.8:
                self.emit("DELETE FROM %s WHERE rowid %% 4 = 2" % tq, "wal")
            else:
                upd = [c for c in t["cols"] if not c.get("key") and not c.get("key2") and not c.get("fk")]
                if upd:
                    c = rng.choice(upd)
                    self.emit("UPDATE %s SET %s = %s" % (tq, qi(c["name"]), self.vals.lit(c["type"], 0.3)), "wal")
        if self.chance(0.3):
            tbl = self.gen_table()
            self.stmts[-1] = ("wal", self.stmts[-1][1])
            self.insert_rows(tbl, 3, phase="wal")
        if self.seqs and self.chance(0.5):
            s = rng.choice(self.seqs)
            self.emit("SELECT nextval(%s)" % qs(qn(s["schema"], s["name"])), "wal")

    def generate(self):
        rng = self.rng
        self.gen_schemas()
        self.gen_types()
        self.gen_sequences()
        ntables = rng.choice([1, 2, 3, 3, 4, 5, 6])
        for _ in range(ntables):
            t = self.gen_table()
            if self.f["alter"] and self.chance(0.3):
                self.gen_alter(t)
            if self.f["indexes"] and self.chance(0.3):
                self.gen_index()
            self.gen_rows(t)
            if self.f["alter"] and self.chance(0.15):
                self.gen_alter(t)
        for _ in range(rng.choice([0, 0, 1, 2])):
            self.gen_table(empty=True)
        if self.chance(0.3):
            self.gen_macros()
            self.gen_views()
        else:
            self.gen_views()
            self.gen_macros()
            if self.chance(0.5):
                self.gen_views()
        for _ in range(rng.choice([0, 1, 2, 3]) if self.f["indexes"] else 0):
            self.gen_index()
        if self.f["drop"] and self.tables:
            t = rng.choice(self.tables)
            self.emit("DROP TABLE %s" % qn(t["schema"], t["name"]))
            t["dropped"] = True
        if self.f["wal"]:
            self.gen_wal()
        return self.stmts


# ---------------------------------------------------------------- running

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


def run_phase(db, rel, stmts, pre, log):
    """Run stmts (list of (index, sql)) on db, one argument each; drop
    the ones that fail and go on. Returns the indexes that ran."""
    ok = []
    i = 0
    h = helper()
    while i < len(stmts):
        args, size, j = [], 0, i
        while j < len(stmts) and (size < 400000 and j - i < 400):
            idx, sql = stmts[j]
            args += [sql, "SELECT '%s %d'" % (MARKER, idx)]
            size += len(sql.encode()) + 40
            j += 1
        cmd = [h, "sql", "--no-header", "--engine", rel, db] + pre + args
        try:
            p = run_retry(cmd, timeout=600)
            out, err, rc = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), p.returncode
        except subprocess.TimeoutExpired:
            out, err, rc = "", "timeout", -1
        done = set()
        for line in out.split("\n"):
            if line.startswith(MARKER + " "):
                done.add(int(line.split()[1]))
        k = i
        while k < j and stmts[k][0] in done:
            ok.append(stmts[k][0])
            k += 1
        if rc == 0 and k == j:
            i = j
            continue
        if "is not installed" in err or "usage:" in err:
            raise SystemExit("gendb: %s" % err.strip())
        if k < j:
            # stmts[k] failed (or killed the worker): drop it
            log.append((stmts[k][0], err.strip().split("\n")[0][:300] + "  <<< " +
                        stmts[k][1][:200].replace("\n", "\\n")))
            i = k + 1
        else:
            log.append((-1, "rc %d after all statements: %s" % (rc, err.strip()[:300])))
            i = j
    return ok


def build(db, rel, stmts, log):
    """stmts: list of (phase, sql). Returns list of (phase, sql) that ran."""
    for f in (db, db + ".wal"):
        if os.path.exists(f):
            os.remove(f)
    main = [(i, s) for i, (ph, s) in enumerate(stmts) if ph == "main"]
    wal = [(i, s) for i, (ph, s) in enumerate(stmts) if ph == "wal"]
    ran = set(run_phase(db, rel, main, [], log))
    if wal:
        pre = ["PRAGMA disable_checkpoint_on_shutdown"]
        if rel != "0.6.1":
            pre.append("SET wal_autocheckpoint='1GB'")
        ran |= set(run_phase(db, rel, wal, pre, log))
    return [stmts[i] for i in sorted(ran)]


def write_sql(path, rel, ran, seed, features=None):
    with open(path + ".sql", "w", encoding="utf-8") as f:
        f.write("-- gendb.py seed %s, DuckDB %s: the statements that ran, in order.\n" % (seed, rel))
        if features:
            f.write("-- features: %s\n" % " ".join(k for k, v in sorted(features.items()) if v))
        f.write("-- Replay exactly: tests/gen/gendb.py --replay %s.stmts.json %s NEW.duckdb\n" %
                (os.path.basename(path), rel))
        phase = "main"
        for ph, sql in ran:
            if ph != phase:
                f.write("-- phase wal: run in a new session that starts with\n"
                        "-- PRAGMA disable_checkpoint_on_shutdown; so these stay in the .wal\n")
                phase = ph
            f.write(sql + ";\n")
    with open(path + ".stmts.json", "w", encoding="utf-8") as f:
        json.dump({"seed": seed, "release": rel, "stmts": [list(x) for x in ran]}, f, ensure_ascii=False, indent=0)


def unescape(field):
    """A field of `duckmig sql` output: backslash escapes undone."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 1 < len(field):
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}.get(field[i + 1], field[i:i + 2]))
            i += 2
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def self_read(db, rel):
    """Can the release read every value of the file it wrote? (Some files
    old releases write crash them when read back: not duckmig's to fix.)
    Returns the error, or None."""
    base = [helper(), "sql", "--no-header", "--read-only", "--engine", rel, db]
    p = run_retry(base + ["SELECT schema_name, table_name, column_name FROM duckdb_columns() "
                          "ORDER BY schema_name, table_name, column_index"])
    if p.returncode != 0:
        return p.stderr.decode("utf-8", "replace").strip()[:300]
    tables = {}
    for line in p.stdout.decode("utf-8", "replace").split("\n"):
        if not line:
            continue
        f = [unescape(x) for x in line.split("\t")]
        if len(f) == 3:
            tables.setdefault((f[0], f[1]), []).append(f[2])
    qs_ = ["SELECT count(*), %s FROM %s" % (
        ", ".join("max(length(CAST(%s AS VARCHAR)))" % qi(c) for c in cols), qn(*k)) for k, cols in tables.items()]
    for i in range(0, len(qs_), 50):
        p = run_retry(base + qs_[i:i + 50])
        if p.returncode != 0:
            return p.stderr.decode("utf-8", "replace").strip()[:300]
    return None


def marks_left(marks):
    return sorted(os.listdir(marks)) if os.path.isdir(marks) else []


def main(argv):
    args = list(argv)
    marks = None
    sql_only = False
    replay = None
    if "--marks" in args:
        k = args.index("--marks")
        marks = args[k + 1]
        del args[k:k + 2]
    if "--sql-only" in args:
        args.remove("--sql-only")
        sql_only = True
    if "--replay" in args:
        k = args.index("--replay")
        replay = args[k + 1]
        del args[k:k + 2]
        args.insert(0, "replay")
    if len(args) != 3 or args[1] not in RELEASES:
        sys.stderr.write(__doc__)
        return 2
    seed, rel, out = args
    out = os.path.abspath(out)
    if marks is None:
        marks = out + ".marks"
    marks = os.path.abspath(marks)
    os.makedirs(marks, exist_ok=True)
    if replay:
        with open(replay, encoding="utf-8") as f:
            stmts = [tuple(x) for x in json.load(f)["stmts"]]
        features = None
    else:
        gen = Gen(int(seed), rel, marks)
        stmts = gen.generate()
        features = gen.f
    if sql_only:
        for ph, s in stmts:
            print(s + ";" + ("  -- wal" if ph == "wal" else ""))
        return 0
    log = []
    ran = build(out, rel, stmts, log)
    write_sql(out, rel, ran, seed, features)
    with open(out + ".gendb.log", "w", encoding="utf-8") as f:
        for idx, e in log:
            f.write("dropped %d: %s\n" % (idx, e))
    sys.stderr.write("gendb: seed %s %s: %d statements ran, %d dropped%s\n" % (
        seed, rel, len(ran), len(stmts) - len(ran), ", WAL left" if os.path.exists(out + ".wal") else ""))
    bad = self_read(out, rel)
    if bad:
        sys.stderr.write("gendb: DuckDB %s cannot read back the file it wrote (not duckmig's): %s\n" % (rel, bad))
        return 4
    left = marks_left(marks)
    if left:
        sys.stderr.write("gendb: an injection ran while the file was built (duckmig sql): %s\n" % left)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
