/* jsonpath.c - parser and evaluator of the DEG discover filter subset
 * (grammar and semantics in jsonpath.h). The parser is a recursive descent
 * over a length-bounded buffer building a fixed array of nodes; the evaluator
 * collects the values a path yields and compares them pairwise. */
#include "gateway/beckn/jsonpath.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum node_kind { N_OR, N_AND, N_NOT, N_CMP, N_EXISTS };
enum cmp_op { OP_EQ, OP_NE, OP_GE, OP_LE, OP_GT, OP_LT };
enum operand_kind { O_PATH, O_STRING, O_NUMBER, O_TRUE, O_FALSE, O_NULL };

struct operand {
    enum operand_kind kind;
    double number;
    char *string;                        /* O_STRING */
    int nseg;                            /* O_PATH */
    char *seg[JSONPATH_MAX_SEGMENTS];    /* NULL = [*] */
};

struct node {
    enum node_kind kind;
    int left, right;       /* N_OR, N_AND: children; N_NOT: left */
    enum cmp_op op;        /* N_CMP */
    struct operand a, b;   /* N_CMP: a op b; N_EXISTS: a */
};

struct jsonpath_filter {
    int root;
    int count;
    struct node nodes[JSONPATH_MAX_NODES];
};

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

/* ---------------------------------------------------------------- evaluation */

struct values {
    const json_t **v;
    size_t n, cap;
    bool oom;
};

static void push(struct values *vals, const json_t *v)
{
    if (vals->oom)
        return;
    if (vals->n == vals->cap) {
        size_t cap = vals->cap ? vals->cap * 2 : 8;
        const json_t **bigger = realloc(vals->v, cap * sizeof *bigger);
        if (!bigger) {
            vals->oom = true;
            return;
        }
        vals->v = bigger;
        vals->cap = cap;
    }
    vals->v[vals->n++] = v;
}

static void collect(const json_t *node, const struct operand *o, int i, struct values *out)
{
    if (!node)
        return;
    if (i == o->nseg) {
        if (json_is_array(node)) {
            size_t k;
            const json_t *el;
            json_array_foreach(node, k, el)
                push(out, el);
        } else {
            push(out, node);
        }
        return;
    }
    if (json_is_array(node)) {
        /* [*] over an array consumes the step; a key steps into each element */
        int next = o->seg[i] ? i : i + 1;
        size_t k;
        const json_t *el;
        json_array_foreach(node, k, el)
            collect(el, o, next, out);
        return;
    }
    if (!json_is_object(node))
        return;
    if (o->seg[i]) {
        collect(json_object_get(node, o->seg[i]), o, i + 1, out);
        return;
    }
    const char *key;
    const json_t *el;
    json_object_foreach((json_t *)node, key, el)
        collect(el, o, i + 1, out);
}

/* RFC 3339 date-time → (seconds since epoch, nanoseconds). Returns 0 or -1. */
static int rfc3339(const char *s, int64_t *secs, long *nanos)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    for (int i = 0; i < 19; i++) {
        char c = s[i];
        bool ok = shape[i] == 'd' ? (c >= '0' && c <= '9')
                  : shape[i] == 'T' ? (c == 'T' || c == 't')
                                    : c == shape[i];
        if (!ok)
            return -1; /* also stops at the NUL of a shorter string */
    }
#define DIGITS2(i) ((s[i] - '0') * 10 + (s[(i) + 1] - '0'))
    int y = DIGITS2(0) * 100 + DIGITS2(2), mo = DIGITS2(5), d = DIGITS2(8);
    int h = DIGITS2(11), mi = DIGITS2(14), sec = DIGITS2(17);
#undef DIGITS2
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    const char *t = s + 19;
    long ns = 0;
    if (*t == '.') {
        int digits = 0;
        for (t++; *t >= '0' && *t <= '9'; t++, digits++)
            if (digits < 9)
                ns = ns * 10 + (*t - '0');
        if (!digits)
            return -1;
        for (; digits < 9; digits++)
            ns *= 10;
    }
    int64_t offset = 0;
    if (*t == 'Z' || *t == 'z') {
        t++;
    } else if (*t == '+' || *t == '-') {
        for (int i = 1; i <= 5; i++)
            if (i == 3 ? t[i] != ':' : (t[i] < '0' || t[i] > '9'))
                return -1;
        int oh = (t[1] - '0') * 10 + (t[2] - '0'), om = (t[4] - '0') * 10 + (t[5] - '0');
        if (oh > 23 || om > 59)
            return -1;
        offset = (int64_t)(oh * 60 + om) * 60 * (*t == '+' ? 1 : -1);
        t += 6;
    } else {
        return -1;
    }
    if (*t != '\0')
        return -1;
    /* days from civil (Howard Hinnant) */
    int yy = y - (mo <= 2);
    int era = (yy >= 0 ? yy : yy - 399) / 400;
    int yoe = yy - era * 400;
    int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    *secs = days * 86400 + h * 3600 + mi * 60 + sec - offset;
    *nanos = ns;
    return 0;
}

/* -2 unordered, else -1/0/1. */
static int order_values(const json_t *a, const json_t *b, bool equality_only)
{
    if (json_is_number(a) && json_is_number(b)) {
        double x = json_number_value(a), y = json_number_value(b);
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (json_is_string(a) && json_is_string(b)) {
        const char *x = json_string_value(a), *y = json_string_value(b);
        int64_t xs, ys;
        long xn, yn;
        if (rfc3339(x, &xs, &xn) == 0 && rfc3339(y, &ys, &yn) == 0) {
            if (xs != ys)
                return xs < ys ? -1 : 1;
            return xn < yn ? -1 : xn > yn ? 1 : 0;
        }
        if (!equality_only)
            return -2;
        return json_string_length(a) == json_string_length(b) &&
                       memcmp(x, y, json_string_length(a)) == 0
                   ? 0
                   : 1;
    }
    if (!equality_only)
        return -2;
    if (json_is_boolean(a) && json_is_boolean(b))
        return json_is_true(a) == json_is_true(b) ? 0 : 1;
    if (json_is_null(a) && json_is_null(b))
        return 0;
    return 1;
}

static bool holds(enum cmp_op op, const json_t *a, const json_t *b)
{
    int c = order_values(a, b, op == OP_EQ || op == OP_NE);
    switch (op) {
    case OP_EQ: return c == 0;
    case OP_NE: return c != 0;
    case OP_GE: return c == 0 || c == 1;
    case OP_LE: return c == 0 || c == -1;
    case OP_GT: return c == 1;
    case OP_LT: return c == -1;
    }
    return false;
}

/* The literal operand as a JSON value (a new reference), or the collected values. */
static json_t *literal(const struct operand *o)
{
    switch (o->kind) {
    case O_STRING: return json_string(o->string);
    case O_NUMBER: return json_real(o->number);
    case O_TRUE: return json_true();
    case O_FALSE: return json_false();
    case O_NULL: return json_null();
    case O_PATH: break;
    }
    return NULL;
}

static void operand_values(const json_t *at, const struct operand *o, struct values *vals,
                           json_t **owned)
{
    *owned = NULL;
    if (o->kind == O_PATH) {
        collect(at, o, 0, vals);
        return;
    }
    *owned = literal(o);
    if (*owned)
        push(vals, *owned);
    else
        vals->oom = true;
}

static bool eval_cmp(const struct node *n, const json_t *at)
{
    struct values a = {0}, b = {0};
    json_t *own_a, *own_b;
    operand_values(at, &n->a, &a, &own_a);
    operand_values(at, &n->b, &b, &own_b);
    bool result = false;
    if (!a.oom && !b.oom && a.n && b.n) {
        if (n->op == OP_NE) {
            result = true;
            for (size_t i = 0; i < a.n && result; i++)
                for (size_t j = 0; j < b.n && result; j++)
                    if (holds(OP_EQ, a.v[i], b.v[j]))
                        result = false;
        } else {
            for (size_t i = 0; i < a.n && !result; i++)
                for (size_t j = 0; j < b.n && !result; j++)
                    result = holds(n->op, a.v[i], b.v[j]);
        }
    }
    free(a.v);
    free(b.v);
    json_decref(own_a);
    json_decref(own_b);
    return result;
}

static bool eval_exists(const struct node *n, const json_t *at)
{
    struct values a = {0};
    collect(at, &n->a, 0, &a);
    bool result = false;
    for (size_t i = 0; i < a.n && !a.oom && !result; i++)
        result = !json_is_false(a.v[i]) && !json_is_null(a.v[i]);
    free(a.v);
    return result;
}

static bool eval(const struct jsonpath_filter *f, int i, const json_t *at)
{
    const struct node *n = &f->nodes[i];
    switch (n->kind) {
    case N_OR: return eval(f, n->left, at) || eval(f, n->right, at);
    case N_AND: return eval(f, n->left, at) && eval(f, n->right, at);
    case N_NOT: return !eval(f, n->left, at);
    case N_CMP: return eval_cmp(n, at);
    case N_EXISTS: return eval_exists(n, at);
    }
    return false;
}

bool jsonpath_match(const struct jsonpath_filter *f, const json_t *node)
{
    return f && node && eval(f, f->root, node);
}
