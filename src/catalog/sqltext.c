/* sqltext.c - quoting, and a lexer that agrees with DuckDB's (see
 * sqltext.h). */
#include "catalog/sqltext.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/str.h"

/* s between two q, every q inside doubled: the SQL way of quoting */
static char *quote_with(const char *s, char q)
{
    size_t n = strlen(s), extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += s[i] == q;
    char *out = malloc(n + extra + 3);
    if (!out)
        return NULL;
    char *p = out;
    *p++ = q;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == q)
            *p++ = q;
        *p++ = s[i];
    }
    *p++ = q;
    *p = '\0';
    return out;
}

char *dm_sql_ident(const char *s)
{
    return quote_with(s, '"');
}

char *dm_sql_literal(const char *s)
{
    return quote_with(s, '\'');
}

char *dm_sql_qualified(const char *schema, const char *name)
{
    char *s = dm_sql_ident(schema), *n = dm_sql_ident(name);
    char *out = s && n ? dm_fmt("%s.%s", s, n) : NULL;
    free(s);
    free(n);
    return out;
}

/* ---- the lexer --------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

/* identifier characters: letters, _, and every byte of a UTF-8 sequence */
static bool ident_start(char c)
{
    unsigned char u = (unsigned char)c;
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' ||
           u >= 0x80;
}

static bool ident_cont(char c)
{
    return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static bool op_char(char c)
{
    return c && strchr("~!@#^&|`?+-*/%<>=", c) != NULL;
}

void dm_lex_init(struct dm_lexer *lx, const char *text)
{
    lx->text = text;
    lx->pos = 0;
}

/* Skip blanks and comments from p; returns the new position, or SIZE_MAX
 * at an unterminated block comment. Block comments nest. */
static size_t skip_blank(const char *s, size_t p)
{
    for (;;) {
        while (is_space(s[p]))
            p++;
        if (s[p] == '-' && s[p + 1] == '-') {
            while (s[p] && s[p] != '\n' && s[p] != '\r')
                p++;
            continue;
        }
        if (s[p] == '/' && s[p + 1] == '*') {
            size_t depth = 1;
            p += 2;
            while (depth) {
                if (!s[p])
                    return SIZE_MAX;
                if (s[p] == '/' && s[p + 1] == '*') {
                    depth++;
                    p += 2;
                } else if (s[p] == '*' && s[p + 1] == '/') {
                    depth--;
                    p += 2;
                } else {
                    p++;
                }
            }
            continue;
        }
        return p;
    }
}

/* A quoted run from s[p] (the opening quote q); backslash escapes when
 * escapes. Returns the position after the closing quote, or SIZE_MAX. */
static size_t skip_quoted(const char *s, size_t p, char q, bool escapes)
{
    p++;
    for (;;) {
        if (!s[p])
            return SIZE_MAX;
        if (escapes && s[p] == '\\' && s[p + 1]) {
            p += 2;
            continue;
        }
        if (s[p] == q) {
            if (s[p + 1] == q) {
                p += 2;
                continue;
            }
            return p + 1;
        }
        p++;
    }
}

/* $tag$ at s[p]: the length of the delimiter, or 0 when it is not one */
static size_t dollar_tag(const char *s, size_t p)
{
    size_t q = p + 1;
    if (s[q] == '$')
        return 2;
    if (!ident_start(s[q]))
        return 0;
    while (s[q] && s[q] != '$') {
        if (!ident_start(s[q]) && !(s[q] >= '0' && s[q] <= '9'))
            return 0;
        q++;
    }
    return s[q] == '$' ? q - p + 1 : 0;
}

struct dm_tok dm_lex_next(struct dm_lexer *lx)
{
    const char *s = lx->text;
    struct dm_tok t = {DM_TOK_END, 0, 0};
    size_t p = skip_blank(s, lx->pos);
    if (p == SIZE_MAX) {
        t.kind = DM_TOK_BAD;
        t.start = lx->pos;
        t.len = strlen(s + lx->pos);
        lx->pos += t.len;
        return t;
    }
    t.start = p;
    char c = s[p];
    size_t end = p;
    if (!c) {
        lx->pos = p;
        return t;
    }
    /* prefixed strings: E'..' (escapes), B'..', X'..', N'..', U&'..',
     * and U&".." identifiers */
    char lc = (char)(c | 0x20);
    if ((lc == 'e' || lc == 'b' || lc == 'x' || lc == 'n') &&
        s[p + 1] == '\'') {
        t.kind = DM_TOK_STRING;
        end = skip_quoted(s, p + 1, '\'', lc == 'e');
    } else if (lc == 'u' && s[p + 1] == '&' &&
               (s[p + 2] == '\'' || s[p + 2] == '"')) {
        t.kind = s[p + 2] == '"' ? DM_TOK_QIDENT : DM_TOK_STRING;
        end = skip_quoted(s, p + 2, s[p + 2], false);
    } else if (c == '\'') {
        t.kind = DM_TOK_STRING;
        end = skip_quoted(s, p, '\'', false);
    } else if (c == '"') {
        t.kind = DM_TOK_QIDENT;
        end = skip_quoted(s, p, '"', false);
    } else if (c == '$' && s[p + 1] >= '0' && s[p + 1] <= '9') {
        t.kind = DM_TOK_PARAM;
        end = p + 1;
        while (s[end] >= '0' && s[end] <= '9')
            end++;
    } else if (c == '$' && dollar_tag(s, p)) {
        size_t n = dollar_tag(s, p);
        const char *close = NULL;
        for (size_t q = p + n; s[q] && !close; q++)
            if (s[q] == '$' && strncmp(s + q, s + p, n) == 0)
                close = s + q;
        t.kind = DM_TOK_STRING;
        end = close ? (size_t)(close - s) + n : SIZE_MAX;
    } else if (ident_start(c)) {
        t.kind = DM_TOK_WORD;
        while (ident_cont(s[end]))
            end++;
    } else if ((c >= '0' && c <= '9') ||
               (c == '.' && s[p + 1] >= '0' && s[p + 1] <= '9')) {
        t.kind = DM_TOK_NUMBER;
        while ((s[end] >= '0' && s[end] <= '9') || s[end] == '.' ||
               s[end] == '_' || ident_start(s[end]) ||
               ((s[end] == '+' || s[end] == '-') &&
                (s[end - 1] == 'e' || s[end - 1] == 'E')))
            end++;
    } else if (c == ':' && (s[p + 1] == '=' || s[p + 1] == ':')) {
        t.kind = DM_TOK_OP;
        end = p + 2;
    } else if (strchr("()[],;.:{}", c)) {
        t.kind = DM_TOK_PUNCT;
        end = p + 1;
    } else if (op_char(c)) {
        /* an operator ends where a comment starts */
        t.kind = DM_TOK_OP;
        while (op_char(s[end]) &&
               !(end > p && ((s[end] == '-' && s[end + 1] == '-') ||
                             (s[end] == '/' && s[end + 1] == '*'))))
            end++;
    } else {
        t.kind = DM_TOK_OP; /* a character DuckDB would refuse */
        end = p + 1;
    }
    if (end == SIZE_MAX) {
        t.kind = DM_TOK_BAD;
        end = p + strlen(s + p);
    }
    t.len = end - p;
    lx->pos = end;
    return t;
}

bool dm_tok_is_word(const char *text, const struct dm_tok *t, const char *w)
{
    return t->kind == DM_TOK_WORD && t->len == strlen(w) &&
           strncasecmp(text + t->start, w, t->len) == 0;
}

bool dm_tok_is(const char *text, const struct dm_tok *t, const char *op)
{
    return (t->kind == DM_TOK_PUNCT || t->kind == DM_TOK_OP) &&
           t->len == strlen(op) && strncmp(text + t->start, op, t->len) == 0;
}

char *dm_tok_ident(const char *text, const struct dm_tok *t)
{
    if (t->kind == DM_TOK_WORD)
        return strndup(text + t->start, t->len);
    if (t->kind != DM_TOK_QIDENT || text[t->start] != '"' || t->len < 2)
        return NULL;
    char *out = malloc(t->len);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = t->start + 1; i + 1 < t->start + t->len; i++) {
        out[o++] = text[i];
        if (text[i] == '"')
            i++;
    }
    out[o] = '\0';
    return out;
}

static char *trimmed(const char *s, size_t b, size_t e)
{
    while (b < e && is_space(s[b]))
        b++;
    while (e > b && is_space(s[e - 1]))
        e--;
    return strndup(s + b, e - b);
}

static bool push(char ***v, size_t *n, char *s)
{
    if (!s)
        return false;
    char **p = realloc(*v, (*n + 1) * sizeof(char *));
    if (!p) {
        free(s);
        return false;
    }
    *v = p;
    (*v)[(*n)++] = s;
    return true;
}

void dm_sql_parts_free(char **parts, size_t n)
{
    for (size_t i = 0; parts && i < n; i++)
        free(parts[i]);
    free(parts);
}

bool dm_sql_paren_list(const char *text, const struct dm_tok *open,
                       char ***parts, size_t *nparts, size_t *end)
{
    return dm_sql_paren_items(text, open, 0, parts, nparts, end);
}

bool dm_sql_paren_items(const char *text, const struct dm_tok *open, size_t max,
                        char ***parts, size_t *nparts, size_t *end)
{
    struct dm_lexer lx;
    size_t depth = 0, from = open->start + 1;
    *parts = NULL;
    *nparts = 0;
    if (!dm_tok_is(text, open, "("))
        return false;
    dm_lex_init(&lx, text);
    lx.pos = open->start + 1;
    for (;;) {
        struct dm_tok t = dm_lex_next(&lx);
        if (t.kind == DM_TOK_END || t.kind == DM_TOK_BAD)
            break;
        if (dm_tok_is(text, &t, "(") || dm_tok_is(text, &t, "[") ||
            dm_tok_is(text, &t, "{")) {
            depth++;
        } else if (dm_tok_is(text, &t, ")") || dm_tok_is(text, &t, "]") ||
                   dm_tok_is(text, &t, "}")) {
            if (depth == 0) {
                if (!dm_tok_is(text, &t, ")"))
                    break;
                char *last = trimmed(text, from, t.start);
                bool empty = last && !*last && *nparts == 0;
                if (empty)
                    free(last);
                else if (!push(parts, nparts, last))
                    break;
                *end = t.start + 1;
                return true;
            }
            depth--;
        } else if (depth == 0 && dm_tok_is(text, &t, ",")) {
            if (!push(parts, nparts, trimmed(text, from, t.start)))
                break;
            from = t.start + 1;
            if (max && *nparts == max) {
                *end = t.start;
                return true;
            }
        }
    }
    dm_sql_parts_free(*parts, *nparts);
    *parts = NULL;
    *nparts = 0;
    return false;
}

bool dm_sql_split(const char *script, char ***stmts, size_t *n)
{
    struct dm_lexer lx;
    size_t from = 0;
    *stmts = NULL;
    *n = 0;
    dm_lex_init(&lx, script);
    for (;;) {
        struct dm_tok t = dm_lex_next(&lx);
        if (t.kind == DM_TOK_BAD)
            goto bad;
        bool stop = t.kind == DM_TOK_END;
        if (stop || dm_tok_is(script, &t, ";")) {
            char *s = trimmed(script, from, stop ? strlen(script) : t.start);
            if (!s)
                goto bad;
            if (!*s)
                free(s);
            else if (!push(stmts, n, s))
                goto bad;
            if (stop)
                return true;
            from = t.start + 1;
        }
    }
bad:
    dm_sql_parts_free(*stmts, *n);
    *stmts = NULL;
    *n = 0;
    return false;
}
