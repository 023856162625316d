/* jsonpath_ast.h - the parsed form of a discover filter, shared by the
 * parser (jsonpath.c) and the evaluator (jsonpath_eval.c); not a public
 * interface. Nodes live in one fixed array; children are indices. */
#ifndef P2P_BECKN_JSONPATH_AST_H
#define P2P_BECKN_JSONPATH_AST_H

#include "gateway/beckn/jsonpath.h"

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

#endif
