/*
 * stored.c - the SQL a file keeps, cut into pieces by the lexer: a
 * generated column's expression in its table's SQL, a view's query and
 * column aliases, an index's expressions, a macro's parameters, defaults
 * and body in EXPORT's schema.sql. The pieces stay untrusted text: they
 * reach a statement only through catalog/ast.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"
#include "catalog/sqltext.h"
#include "util/log.h"
#include "util/str.h"

/*
 * The generated columns' expressions, which 0.6-0.8 keep only in the
 * table's SQL: the items of CREATE TABLE t(...) follow the columns in
 * order, and a generated one reads "name TYPE GENERATED ALWAYS AS(expr)".
 */
void cat_read_generated(struct dm_cat_table *t)
{
    struct dm_lexer lx;
    char **items = NULL;
    size_t nitems = 0, end = 0;
    bool any = false;
    /* does the SQL say GENERATED anywhere outside quotes at all? */
    dm_lex_init(&lx, t->sql);
    for (struct dm_tok k = dm_lex_next(&lx); k.kind != DM_TOK_END;
         k = dm_lex_next(&lx)) {
        /* text the lexer cannot follow may hide one: read the columns */
        if (k.kind == DM_TOK_BAD) {
            any = true;
            break;
        }
        any |= dm_tok_is_word(t->sql, &k, "GENERATED");
    }
    if (!any)
        return;
    dm_lex_init(&lx, t->sql);
    struct dm_tok open;
    do
        open = dm_lex_next(&lx);
    while (open.kind != DM_TOK_END && open.kind != DM_TOK_BAD &&
           !dm_tok_is(t->sql, &open, "("));
    /* the column items come first; the constraints after them are not
     * needed, and a FOREIGN KEY's table may be rendered bare there */
    if (!t->ncols ||
        !dm_sql_paren_items(t->sql, &open, t->ncols, &items, &nitems, &end) ||
        nitems < t->ncols) {
        cat_problem(&t->problem, "its generated columns cannot be read");
        goto out;
    }
    for (size_t i = 0; i < t->ncols; i++) {
        const char *it = items[i];
        struct dm_lexer il;
        dm_lex_init(&il, it);
        struct dm_tok a = dm_lex_next(&il), b, c;
        while (a.kind != DM_TOK_END && a.kind != DM_TOK_BAD &&
               !dm_tok_is_word(it, &a, "GENERATED"))
            a = dm_lex_next(&il);
        if (a.kind != DM_TOK_WORD)
            continue;
        b = dm_lex_next(&il);
        c = dm_lex_next(&il);
        struct dm_tok paren = dm_lex_next(&il);
        char **inner = NULL;
        size_t ninner = 0, close = 0;
        if (!dm_tok_is_word(it, &b, "ALWAYS") ||
            !dm_tok_is_word(it, &c, "AS") ||
            !dm_sql_paren_list(it, &paren, &inner, &ninner, &close) ||
            ninner != 1) {
            dm_sql_parts_free(inner, ninner);
            cat_problem(&t->problem,
                        "the expression of column \"%s\" cannot be read",
                        t->cols[i].name);
            continue;
        }
        t->cols[i].generated = true;
        t->cols[i].gen_text = inner[0];
        inner[0] = NULL;
        dm_sql_parts_free(inner, ninner);
        free(t->cols[i].default_text);
        t->cols[i].default_text = NULL;
    }
out:
    dm_sql_parts_free(items, nitems);
}

/* ---- views, indexes, macros -------------------------------------------- */

/* Skip "a.b.c" (each part bare or quoted) at the lexer; false if absent. */
static bool skip_qualified(const char *text, struct dm_lexer *lx,
                           struct dm_tok *next)
{
    struct dm_tok t = dm_lex_next(lx);
    if (t.kind != DM_TOK_WORD && t.kind != DM_TOK_QIDENT)
        return false;
    for (;;) {
        *next = dm_lex_next(lx);
        if (!dm_tok_is(text, next, "."))
            return true;
        t = dm_lex_next(lx);
        if (t.kind != DM_TOK_WORD && t.kind != DM_TOK_QIDENT)
            return false;
    }
}

/* The text from offset to the end, without a last ';' and blanks. */
static char *cat_rest_of(const char *text, size_t offset)
{
    struct dm_lexer lx;
    size_t end = offset, last_semi = SIZE_MAX;
    dm_lex_init(&lx, text);
    lx.pos = offset;
    for (;;) {
        struct dm_tok t = dm_lex_next(&lx);
        if (t.kind == DM_TOK_END)
            break;
        if (t.kind == DM_TOK_BAD)
            return NULL;
        if (dm_tok_is(text, &t, ";"))
            last_semi = t.start;
        else
            last_semi = SIZE_MAX;
        end = t.start + t.len;
    }
    /* keep a trailing comment out: the body ends at its last token */
    if (last_semi != SIZE_MAX)
        end = last_semi;
    while (offset < end && (text[offset] == ' ' || text[offset] == '\n' ||
                            text[offset] == '\t' || text[offset] == '\r'))
        offset++;
    return strndup(text + offset, end - offset);
}

/* CREATE [OR REPLACE] [TEMP] VIEW [IF NOT EXISTS] name [(a, b)] AS query */
void cat_read_view_sql(struct dm_cat_object *v)
{
    struct dm_lexer lx;
    const char *s = v->sql;
    dm_lex_init(&lx, s);
    struct dm_tok t = dm_lex_next(&lx);
    if (!dm_tok_is_word(s, &t, "CREATE"))
        goto bad;
    t = dm_lex_next(&lx);
    if (dm_tok_is_word(s, &t, "OR")) {
        t = dm_lex_next(&lx);
        if (!dm_tok_is_word(s, &t, "REPLACE"))
            goto bad;
        t = dm_lex_next(&lx);
    }
    if (dm_tok_is_word(s, &t, "TEMP") || dm_tok_is_word(s, &t, "TEMPORARY"))
        goto bad;
    if (!dm_tok_is_word(s, &t, "VIEW"))
        goto bad;
    size_t at = lx.pos;
    t = dm_lex_next(&lx);
    if (dm_tok_is_word(s, &t, "IF")) {
        struct dm_tok n = dm_lex_next(&lx), x = dm_lex_next(&lx);
        if (!dm_tok_is_word(s, &n, "NOT") || !dm_tok_is_word(s, &x, "EXISTS"))
            goto bad;
    } else {
        lx.pos = at;
    }
    if (!skip_qualified(s, &lx, &t))
        goto bad;
    if (dm_tok_is(s, &t, "(")) {
        char **parts = NULL;
        size_t n = 0, end = 0;
        if (!dm_sql_paren_list(s, &t, &parts, &n, &end))
            goto bad;
        for (size_t i = 0; i < n; i++) {
            struct dm_lexer one;
            dm_lex_init(&one, parts[i]);
            struct dm_tok a = dm_lex_next(&one), b = dm_lex_next(&one);
            char *name =
                b.kind == DM_TOK_END ? dm_tok_ident(parts[i], &a) : NULL;
            bool good = name && cat_push_str(&v->parts, &v->nparts, name);
            free(name);
            if (!good) {
                dm_sql_parts_free(parts, n);
                goto bad;
            }
        }
        dm_sql_parts_free(parts, n);
        lx.pos = end;
        t = dm_lex_next(&lx);
    }
    if (!dm_tok_is_word(s, &t, "AS"))
        goto bad;
    v->body = cat_rest_of(s, lx.pos);
    if (v->body && *v->body)
        return;
bad:
    cat_problem(&v->problem, "its definition cannot be read");
}

/* CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON t [USING m] (e, ...)
 * [WHERE p] */
void cat_read_index_sql(struct dm_cat_object *x)
{
    struct dm_lexer lx;
    const char *s = x->sql;
    dm_lex_init(&lx, s);
    struct dm_tok t = dm_lex_next(&lx);
    if (!dm_tok_is_word(s, &t, "CREATE"))
        goto bad;
    t = dm_lex_next(&lx);
    if (dm_tok_is_word(s, &t, "UNIQUE"))
        t = dm_lex_next(&lx);
    if (!dm_tok_is_word(s, &t, "INDEX"))
        goto bad;
    size_t at = lx.pos;
    t = dm_lex_next(&lx);
    if (dm_tok_is_word(s, &t, "IF")) {
        struct dm_tok n = dm_lex_next(&lx), e = dm_lex_next(&lx);
        if (!dm_tok_is_word(s, &n, "NOT") || !dm_tok_is_word(s, &e, "EXISTS"))
            goto bad;
    } else {
        lx.pos = at;
    }
    t = dm_lex_next(&lx); /* the index's name */
    if (t.kind != DM_TOK_WORD && t.kind != DM_TOK_QIDENT)
        goto bad;
    t = dm_lex_next(&lx);
    if (!dm_tok_is_word(s, &t, "ON") || !skip_qualified(s, &lx, &t))
        goto bad;
    if (dm_tok_is_word(s, &t, "USING")) {
        struct dm_tok m = dm_lex_next(&lx);
        if (m.kind != DM_TOK_WORD && m.kind != DM_TOK_QIDENT)
            goto bad;
        t = dm_lex_next(&lx);
    }
    size_t end = 0;
    if (!dm_sql_paren_list(s, &t, &x->parts, &x->nparts, &end) ||
        x->nparts == 0)
        goto bad;
    lx.pos = end;
    t = dm_lex_next(&lx);
    if (dm_tok_is_word(s, &t, "WHERE")) {
        x->where = cat_rest_of(s, lx.pos);
        return;
    }
    if (t.kind == DM_TOK_END || dm_tok_is(s, &t, ";"))
        return;
bad:
    cat_problem(&x->problem, "its definition cannot be read");
}

/* ---- macros from EXPORT's schema.sql ----------------------------------- */

/*
 * The text from offset up to the ';' that ends the statement (outside
 * quotes, comments and brackets), trimmed; NULL when there is none.
 */
static char *until_semicolon(const char *text, size_t offset)
{
    struct dm_lexer lx;
    int depth = 0;
    dm_lex_init(&lx, text);
    lx.pos = offset;
    for (;;) {
        struct dm_tok t = dm_lex_next(&lx);
        if (t.kind == DM_TOK_END || t.kind == DM_TOK_BAD)
            return NULL;
        if (dm_tok_is(text, &t, "(") || dm_tok_is(text, &t, "[") ||
            dm_tok_is(text, &t, "{"))
            depth++;
        else if (dm_tok_is(text, &t, ")") || dm_tok_is(text, &t, "]") ||
                 dm_tok_is(text, &t, "}"))
            depth--;
        else if (depth == 0 && dm_tok_is(text, &t, ";")) {
            size_t b = offset, e = t.start;
            while (b < e && (text[b] == ' ' || text[b] == '\n'))
                b++;
            while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\n'))
                e--;
            return strndup(text + b, e - b);
        }
        if (depth < 0)
            return NULL;
    }
}

/*
 * 0.6-0.8 write "CREATE MACRO schema.name(p, q := default) AS body;" and
 * "... AS TABLE query;", the schema and name bare, each at the start of a
 * line. Read the pieces of the statement whose '(' is at text[at]: 1 when
 * it is m's, 0 when it is the other kind of macro (a scalar and a table
 * macro may share a name), -1 when it cannot be read.
 */
static int read_macro_stmt(const char *text, size_t at, struct dm_cat_object *m,
                           char **body, char ***names, char ***defaults,
                           size_t *n)
{
    struct dm_lexer lx;
    char **parts = NULL;
    size_t nparts = 0, end = 0;
    *body = NULL;
    *names = *defaults = NULL;
    *n = 0;
    dm_lex_init(&lx, text);
    lx.pos = at;
    struct dm_tok open = dm_lex_next(&lx);
    if (open.start != at ||
        !dm_sql_paren_list(text, &open, &parts, &nparts, &end))
        return -1;
    *names = calloc(nparts ? nparts : 1, sizeof(char *));
    *defaults = calloc(nparts ? nparts : 1, sizeof(char *));
    bool good = *names && *defaults;
    for (size_t i = 0; good && i < nparts; i++) {
        struct dm_lexer pl;
        dm_lex_init(&pl, parts[i]);
        struct dm_tok name = dm_lex_next(&pl), next = dm_lex_next(&pl);
        (*names)[i] = dm_tok_ident(parts[i], &name);
        good = (*names)[i] != NULL;
        if (good && dm_tok_is(parts[i], &next, ":=")) {
            const char *d = parts[i] + pl.pos;
            while (*d == ' ')
                d++;
            (*defaults)[i] = strdup(d);
            good = (*defaults)[i] != NULL;
        } else if (good) {
            good = next.kind == DM_TOK_END;
        }
        (*n)++;
    }
    dm_sql_parts_free(parts, nparts);
    lx.pos = end;
    struct dm_tok as = dm_lex_next(&lx);
    good = good && dm_tok_is_word(text, &as, "AS");
    size_t after = lx.pos;
    struct dm_tok table = dm_lex_next(&lx);
    bool is_table = dm_tok_is_word(text, &table, "TABLE");
    if (good && is_table != m->table_macro)
        return 0;
    if (good)
        *body = until_semicolon(text, is_table ? lx.pos : after);
    return good && *body && **body ? 1 : -1;
}

void dm_catalog_add_export(struct dm_catalog *cat, const char *schema_sql)
{
    for (size_t i = 0; i < cat->nmacros; i++) {
        struct dm_cat_object *m = &cat->macros[i];
        char *prefix = dm_fmt("CREATE MACRO %s.%s(", m->schema, m->name);
        size_t found = 0, pl = prefix ? strlen(prefix) : 0;
        char *body = NULL, **names = NULL, **defaults = NULL;
        size_t n = 0;
        /* EXPORT leaves some text unescaped (ENUM labels, schema names),
         * so the file cannot be split as a whole: a macro's statement is
         * read from where its name starts a line, to its ';'. A second
         * place that reads so (inside a label, say) makes it ambiguous,
         * and the macro is refused, never guessed. */
        for (size_t at = 0; prefix && schema_sql[at]; at++) {
            if ((at && schema_sql[at - 1] != '\n') ||
                strncmp(schema_sql + at, prefix, pl) != 0)
                continue;
            char *b = NULL, **nm = NULL, **df = NULL;
            size_t nn = 0;
            int got =
                read_macro_stmt(schema_sql, at + pl - 1, m, &b, &nm, &df, &nn);
            bool good = got == 1;
            /* the other kind of macro of the same name has its own */
            if (got == 0) {
                free(b);
                cat_free_strs(nm, nn);
                cat_free_strs(df, nn);
                continue;
            }
            found++;
            free(body);
            cat_free_strs(names, n);
            cat_free_strs(defaults, n);
            body = b;
            names = nm;
            defaults = df;
            n = nn;
            if (!good) {
                free(body);
                body = NULL;
            }
        }
        /* another macro whose schema.name reads the same ("a.b"."c" and
         * "a"."b.c") would be found too */
        for (size_t k = 0; prefix && k < cat->nmacros; k++) {
            char *other =
                k == i ? NULL
                       : dm_fmt("CREATE MACRO %s.%s(", cat->macros[k].schema,
                                cat->macros[k].name);
            if (other && strcmp(other, prefix) == 0 &&
                cat->macros[k].table_macro == m->table_macro)
                found += 2;
            free(other);
        }
        bool params_match = body && n == m->nparts;
        for (size_t k = 0; params_match && k < n; k++)
            params_match = cat_same(names[k], m->parts[k]);
        if (found != 1 || !params_match) {
            cat_problem(&m->problem,
                        found == 0
                            ? "EXPORT DATABASE does not write its definition"
                        : found > 1 ? "its definition cannot be told from "
                                      "other text in EXPORT DATABASE"
                                    : "its definition in EXPORT DATABASE "
                                      "cannot be read");
        } else {
            cat_free_strs(m->defaults, m->nparts);
            m->defaults = defaults;
            defaults = NULL;
            m->has_defaults = true;
            if (m->table_macro) {
                free(m->body);
                m->body = body;
            } else {
                /* the catalog's body stays; EXPORT's is a second reading
                 * of the same tree, compared by ddl.c */
                free(m->sql);
                m->sql = body;
            }
            body = NULL;
        }
        free(body);
        cat_free_strs(names, n);
        cat_free_strs(defaults, n);
        free(prefix);
    }
}
