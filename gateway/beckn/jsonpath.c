/* jsonpath.c - parser of the DEG discover filter subset (grammar in
 * jsonpath.h): a recursive descent over a length-bounded buffer building the
 * fixed array of nodes of jsonpath_ast.h. Evaluation: jsonpath_eval.c. */
#include "gateway/beckn/jsonpath.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/beckn/jsonpath_ast.h"

struct parser {
    const char *s;
    size_t len, pos;
    int depth;
    struct jsonpath_filter *f;
    char *err;
    size_t errlen;
    bool failed;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct parser *p, const char *fmt, ...)
{
    if (p->failed)
        return -1;
    p->failed = true;
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s at offset %zu of the filter expression", what, p->pos);
    return -1;
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static bool peek_is(struct parser *p, const char *tok)
{
    size_t n = strlen(tok);
    return p->len - p->pos >= n && memcmp(p->s + p->pos, tok, n) == 0;
}

static bool accept(struct parser *p, const char *tok)
{
    skip_ws(p);
    if (!peek_is(p, tok))
        return false;
    p->pos += strlen(tok);
    return true;
}

static int expect(struct parser *p, const char *tok)
{
    if (accept(p, tok))
        return 0;
    return fail(p, "expected '%s'", tok);
}

static int new_node(struct parser *p, enum node_kind kind)
{
    if (p->f->count >= JSONPATH_MAX_NODES)
        return fail(p, "expression has more than %d terms", JSONPATH_MAX_NODES);
    int i = p->f->count++;
    memset(&p->f->nodes[i], 0, sizeof p->f->nodes[i]);
    p->f->nodes[i].kind = kind;
    p->f->nodes[i].left = p->f->nodes[i].right = -1;
    return i;
}

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == ':' || c == '$' || c == '-';
}

/* A quoted string with backslash escapes of the quote, backslash, n, t, r, /. */
static int parse_string(struct parser *p, char **out)
{
    char quote = p->s[p->pos++];
    size_t cap = 16, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return fail(p, "out of memory");
    for (;;) {
        if (p->pos >= p->len) {
            free(buf);
            return fail(p, "unterminated string");
        }
        char c = p->s[p->pos++];
        if (c == quote)
            break;
        if (c == '\0') {
            free(buf);
            return fail(p, "NUL byte in string");
        }
        if (c == '\\') {
            if (p->pos >= p->len) {
                free(buf);
                return fail(p, "unterminated escape");
            }
            char e = p->s[p->pos++];
            switch (e) {
            case '\'': case '"': case '\\': case '/': c = e; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            default:
                free(buf);
                return fail(p, "unknown escape \\%c", (e >= 32 && e < 127) ? e : '?');
            }
        }
        if (n + 2 > cap) {
            cap *= 2;
            char *bigger = realloc(buf, cap);
            if (!bigger) {
                free(buf);
                return fail(p, "out of memory");
            }
            buf = bigger;
        }
        buf[n++] = c;
    }
    buf[n] = '\0';
    *out = buf;
    return 0;
}

static int parse_number(struct parser *p, double *out)
{
    size_t start = p->pos;
    if (p->pos < p->len && p->s[p->pos] == '-')
        p->pos++;
    size_t digits = 0;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
        p->pos++, digits++;
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++, digits++;
    }
    if (digits && p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        size_t exp_digits = 0;
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++, exp_digits++;
        if (!exp_digits)
            return fail(p, "exponent without digits");
    }
    char buf[64];
    size_t n = p->pos - start;
    if (!digits || n >= sizeof buf) {
        p->pos = start;
        return fail(p, "malformed number");
    }
    memcpy(buf, p->s + start, n);
    buf[n] = '\0';
    char *end;
    double v = strtod(buf, &end);
    if (*end != '\0' || !isfinite(v)) {
        p->pos = start;
        return fail(p, "malformed number");
    }
    *out = v;
    return 0;
}

static int parse_path(struct parser *p, struct operand *o)
{
    p->pos++; /* '@' */
    o->kind = O_PATH;
    for (;;) {
        char *seg = NULL;
        if (p->pos < p->len && p->s[p->pos] == '.') {
            p->pos++;
            size_t start = p->pos;
            while (p->pos < p->len && key_char(p->s[p->pos]))
                p->pos++;
            if (p->pos == start)
                return fail(p, "expected a key after '.'");
            seg = strndup(p->s + start, p->pos - start);
            if (!seg)
                return fail(p, "out of memory");
        } else if (p->pos < p->len && p->s[p->pos] == '[') {
            p->pos++;
            skip_ws(p);
            if (accept(p, "*")) {
                seg = NULL;
            } else if (p->pos < p->len && (p->s[p->pos] == '\'' || p->s[p->pos] == '"')) {
                if (parse_string(p, &seg))
                    return -1;
            } else {
                return fail(p, "expected a quoted key or '*' after '['");
            }
            if (expect(p, "]")) {
                free(seg);
                return -1;
            }
        } else {
            return 0;
        }
        if (o->nseg >= JSONPATH_MAX_SEGMENTS) {
            free(seg);
            return fail(p, "path longer than %d steps", JSONPATH_MAX_SEGMENTS);
        }
        o->seg[o->nseg++] = seg;
    }
}

static int parse_operand(struct parser *p, struct operand *o)
{
    skip_ws(p);
    if (p->pos >= p->len)
        return fail(p, "expected a path, string or number but the expression ended");
    char c = p->s[p->pos];
    if (c == '@')
        return parse_path(p, o);
    if (c == '\'' || c == '"') {
        o->kind = O_STRING;
        return parse_string(p, &o->string);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        o->kind = O_NUMBER;
        return parse_number(p, &o->number);
    }
    if (accept(p, "true"))
        return o->kind = O_TRUE, 0;
    if (accept(p, "false"))
        return o->kind = O_FALSE, 0;
    if (accept(p, "null"))
        return o->kind = O_NULL, 0;
    return fail(p, "expected a path (@...), a quoted string or a number");
}

static bool parse_cmp_op(struct parser *p, enum cmp_op *op)
{
    static const struct { const char *tok; enum cmp_op op; } ops[] = {
        {"==", OP_EQ}, {"!=", OP_NE}, {">=", OP_GE}, {"<=", OP_LE}, {">", OP_GT}, {"<", OP_LT}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (accept(p, ops[i].tok)) {
            *op = ops[i].op;
            return true;
        }
    return false;
}

static int parse_or(struct parser *p);

static int parse_unary(struct parser *p)
{
    if (++p->depth > JSONPATH_MAX_DEPTH)
        return fail(p, "nesting deeper than %d", JSONPATH_MAX_DEPTH);
    int result;
    skip_ws(p);
    if (peek_is(p, "!") && !peek_is(p, "!=")) {
        p->pos++;
        int n = new_node(p, N_NOT);
        int child = n < 0 ? -1 : parse_unary(p);
        if (child < 0)
            result = -1;
        else
            p->f->nodes[n].left = child, result = n;
    } else if (accept(p, "(")) {
        int inner = parse_or(p);
        result = inner < 0 || expect(p, ")") ? -1 : inner;
    } else {
        int n = new_node(p, N_EXISTS);
        if (n < 0 || parse_operand(p, &p->f->nodes[n].a)) {
            result = -1;
        } else {
            struct node *node = &p->f->nodes[n];
            if (parse_cmp_op(p, &node->op)) {
                node->kind = N_CMP;
                result = parse_operand(p, &node->b) ? -1 : n;
            } else if (node->a.kind != O_PATH) {
                result = fail(p, "expected a comparison operator (==, !=, >=, <=, >, <)");
            } else {
                result = n;
            }
        }
    }
    p->depth--;
    return result;
}

static int parse_binary(struct parser *p, enum node_kind kind, const char *tok,
                        int (*operand)(struct parser *))
{
    int left = operand(p);
    while (left >= 0 && accept(p, tok)) {
        int n = new_node(p, kind);
        int right = n < 0 ? -1 : operand(p);
        if (right < 0)
            return -1;
        p->f->nodes[n].left = left;
        p->f->nodes[n].right = right;
        left = n;
    }
    return left;
}

static int parse_and(struct parser *p) { return parse_binary(p, N_AND, "&&", parse_unary); }
static int parse_or(struct parser *p) { return parse_binary(p, N_OR, "||", parse_and); }

static void free_operand(struct operand *o)
{
    free(o->string);
    for (int i = 0; i < o->nseg; i++)
        free(o->seg[i]);
}

void jsonpath_free(struct jsonpath_filter *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->count; i++) {
        free_operand(&f->nodes[i].a);
        free_operand(&f->nodes[i].b);
    }
    free(f);
}

int jsonpath_parse(const char *text, size_t len, struct jsonpath_filter **out, char *err,
                   size_t errlen)
{
    *out = NULL;
    if (!text || len == 0) {
        snprintf(err, errlen, "the filter expression is empty");
        return -1;
    }
    if (len > JSONPATH_MAX_TEXT) {
        snprintf(err, errlen, "the filter expression is longer than %d bytes", JSONPATH_MAX_TEXT);
        return -1;
    }
    struct jsonpath_filter *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct parser p = {.s = text, .len = len, .f = f, .err = err, .errlen = errlen};
    int root = -1;
    if (!expect(&p, "$") && !expect(&p, "[") && !expect(&p, "?") && !expect(&p, "(")) {
        root = parse_or(&p);
        if (root >= 0 && (expect(&p, ")") || expect(&p, "]")))
            root = -1;
        skip_ws(&p);
        if (root >= 0 && p.pos != p.len)
            root = fail(&p, "unexpected text after the filter");
    }
    if (root < 0) {
        if (!p.failed)
            fail(&p, "malformed filter");
        jsonpath_free(f);
        return -1;
    }
    f->root = root;
    *out = f;
    return 0;
}
