/* jsonpath_eval.c - evaluation of a parsed discover filter (semantics in
 * jsonpath.h): collect the values each path yields, compare them pairwise. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/beckn/jsonpath_ast.h"

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
