/*
 * sqltext.h - SQL text as data: the one quoting helper, and a lexer for
 * the SQL a source file keeps.
 *
 * Every identifier and literal duckmig puts in a statement goes through
 * dm_sql_ident() / dm_sql_literal(). The lexer follows the tokenizer of
 * DuckDB's parser (PostgreSQL's scan.l: nested block comments, '' and ""
 * doubling, E'' escapes, dollar quoting) so that duckmig can find the
 * pieces of a stored definition (the body of a view, the expressions of
 * an index, the parameters of a macro). What it finds is never run as it
 * is: every piece is parsed again by a DuckDB release (catalog/ast.h),
 * and what runs is built from that parse.
 */
#ifndef DM_CATALOG_SQLTEXT_H
#define DM_CATALOG_SQLTEXT_H

#include <stdbool.h>
#include <stddef.h>

/* "ident", every " doubled; NULL when out of memory. */
char *dm_sql_ident(const char *s);
/* 'literal', every ' doubled; NULL when out of memory. */
char *dm_sql_literal(const char *s);
/* "schema"."name" */
char *dm_sql_qualified(const char *schema, const char *name);

enum dm_tok_kind {
    DM_TOK_END = 0,
    DM_TOK_WORD,   /* a bare identifier or keyword */
    DM_TOK_QIDENT, /* "quoted identifier" */
    DM_TOK_STRING, /* 'x', E'x', $$x$$, B'', X'', U&'' */
    DM_TOK_NUMBER,
    DM_TOK_PUNCT, /* one of ( ) [ ] , ; . : */
    DM_TOK_OP,    /* an operator: + - * / := :: || ... */
    DM_TOK_PARAM, /* $1, ? */
    DM_TOK_BAD,   /* an unterminated quote or comment */
};

struct dm_tok {
    enum dm_tok_kind kind;
    size_t start, len; /* in the text */
};

struct dm_lexer {
    const char *text;
    size_t pos;
};

void dm_lex_init(struct dm_lexer *lx, const char *text);
/* The next token, skipping blanks and comments. */
struct dm_tok dm_lex_next(struct dm_lexer *lx);

/* Is t the bare word w (case-insensitive)? */
bool dm_tok_is_word(const char *text, const struct dm_tok *t, const char *w);
/* Is t the punctuation or operator op? */
bool dm_tok_is(const char *text, const struct dm_tok *t, const char *op);
/* An identifier token's name (quotes removed, "" undone); NULL when t is
 * not an identifier or out of memory. */
char *dm_tok_ident(const char *text, const struct dm_tok *t);

/*
 * The top-level parts of a parenthesized list that starts at token open
 * ('('): each part's text (trimmed), split at commas outside nested
 * brackets. *end gets the offset just past the closing ')'. False when
 * the list is not closed or out of memory.
 */
bool dm_sql_paren_list(const char *text, const struct dm_tok *open,
                       char ***parts, size_t *nparts, size_t *end);
/* The same, but only the first max items (max > 0): what follows them
 * is not read, so that text a release renders wrongly there (0.x-1.5
 * write a FOREIGN KEY's table bare) cannot hide the items before it. */
bool dm_sql_paren_items(const char *text, const struct dm_tok *open, size_t max,
                        char ***parts, size_t *nparts, size_t *end);
void dm_sql_parts_free(char **parts, size_t n);

/*
 * Split a script into its statements at ';' outside quotes and comments
 * (each trimmed, empty ones dropped). False when out of memory or when a
 * quote or comment is not closed.
 */
bool dm_sql_split(const char *script, char ***stmts, size_t *n);

#endif
