/* text.c - outside text made safe for terminals, logs and JSON (text.h). */
#include "util/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

/*
 * The length of the well-formed UTF-8 sequence at p (1 to 4) and its code
 * point, or 0 when p does not start one: overlong forms, surrogates and
 * code points above U+10FFFF are refused, as jansson refuses them.
 */
static size_t utf8_seq(const unsigned char *p, uint32_t *cp)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        v = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        v = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0; /* also stops at the NUL */
        v = (v << 6) | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

bool dm_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t cp;
    while (*p) {
        size_t n = utf8_seq(p, &cp);
        if (!n)
            return false;
        p += n;
    }
    return true;
}

/* The escaped form of s into b (see text.h). */
static void escape_into(struct dm_sbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp = 0;
        size_t n = utf8_seq(p, &cp);
        char hex[8];
        if (n == 1 && cp == '\n') {
            dm_sbuf_add(b, "\\n");
        } else if (n == 1 && cp == '\t') {
            dm_sbuf_add(b, "\\t");
        } else if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
            /* a control, a C1 control (each of its bytes), or a byte
             * that is not UTF-8 */
            size_t k = n ? n : 1;
            for (size_t i = 0; i < k; i++) {
                snprintf(hex, sizeof(hex), "\\x%02x", p[i]);
                dm_sbuf_add(b, hex);
            }
            n = k;
        } else {
            dm_sbuf_addn(b, (const char *)p, n);
        }
        p += n;
    }
}

char *dm_escape(const char *s)
{
    struct dm_sbuf b = DM_SBUF_INIT;
    escape_into(&b, s ? s : "(null)");
    return dm_sbuf_take(&b);
}

void dm_fputs_escaped(const char *s, FILE *f)
{
    char *e = dm_escape(s);
    if (e)
        fputs(e, f);
    else
        fputs("(out of memory)", f);
    free(e);
}

char *dm_utf8_lossy(const char *s)
{
    struct dm_sbuf b = DM_SBUF_INIT;
    const unsigned char *p = (const unsigned char *)s;
    dm_sbuf_add(&b, "");
    while (*p) {
        uint32_t cp;
        size_t n = utf8_seq(p, &cp);
        if (n) {
            dm_sbuf_addn(&b, (const char *)p, n);
            p += n;
        } else {
            dm_sbuf_add(&b, "\xef\xbf\xbd"); /* U+FFFD */
            p++;
        }
    }
    return dm_sbuf_take(&b);
}

json_t *dm_json_text(const char *s, bool *lossy)
{
    if (lossy)
        *lossy = false;
    if (!s)
        return json_null();
    if (dm_utf8_valid(s))
        return json_string(s);
    if (lossy)
        *lossy = true;
    char *fixed = dm_utf8_lossy(s);
    json_t *j = fixed ? json_string(fixed) : NULL;
    free(fixed);
    return j;
}

bool dm_json_set_name(json_t *obj, const char *field, const char *s)
{
    bool lossy = false;
    json_object_set_new(obj, field, dm_json_text(s, &lossy));
    if (!lossy)
        return true;
    char *name = dm_fmt("%s_escaped", field), *esc = dm_escape(s);
    if (name && esc)
        json_object_set_new(obj, name, json_string(esc));
    json_object_set_new(obj, "invalid_utf8", json_true());
    free(name);
    free(esc);
    return false;
}
