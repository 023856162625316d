/* jsonpath.h - the JSONPath filter subset a DEG discover carries
 * (message.filters.expression, beckn.md §7.2), parsed once and evaluated over
 * each catalog item (with its offers).
 *
 * Accepted grammar (whitespace allowed between tokens):
 *   filter  := '$' '[' '?' '(' or ')' ']'
 *   or      := and ( '||' and )*
 *   and     := unary ( '&&' unary )*
 *   unary   := '!' unary | '(' or ')' | operand [ cmpop operand ]
 *   cmpop   := '==' | '!=' | '>=' | '<=' | '>' | '<'
 *   operand := path | 'string' | "string" | number | true | false | null
 *   path    := '@' ( '.' key | '[' string ']' | '[' '*' ']' )*
 *   key     := one or more of [A-Za-z0-9_:$-] (so `beckn:itemAttributes`)
 * A bare operand (no cmpop) is an existence test: true if the path yields a
 * value that is not false or null.
 *
 * Semantics (what a CDS does with the DEG expressions):
 *   - a path yields a set of values: stepping into an array steps into each
 *     element, and an array at the end of the path yields its elements, so
 *     `'net-1' == @.beckn:networkId` means "networkId contains 'net-1'";
 *   - a comparison holds if some pair of yielded values satisfies it; `!=`
 *     holds if both sides yield values and no pair is equal; a path that
 *     yields nothing makes a comparison false;
 *   - numbers compare as numbers; strings that are both RFC 3339 date-times
 *     (with Z or an offset) compare as instants for <, <=, >, >=; other
 *     strings compare for (in)equality only; booleans and null compare for
 *     (in)equality only; mixed types are unequal and unordered.
 * Guarantees: parsing is bounded (expression at most JSONPATH_MAX_TEXT
 * bytes, at most JSONPATH_MAX_NODES nodes, nesting at most
 * JSONPATH_MAX_DEPTH) and never reads past the given length; evaluation never
 * modifies the document and is bounded by the document size times the
 * number of nodes. Fuzzed: tests/fuzz/fuzz_jsonpath.c.
 * Threading: a parsed filter is immutable; evaluate it from any thread. */
#ifndef P2P_BECKN_JSONPATH_H
#define P2P_BECKN_JSONPATH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define JSONPATH_MAX_TEXT 4096
#define JSONPATH_MAX_NODES 256
#define JSONPATH_MAX_DEPTH 32
#define JSONPATH_MAX_SEGMENTS 16

struct jsonpath_filter;

/* Parses text[0..len). Returns 0 and *out (free with jsonpath_free), or -1
 * with a message in err saying what was expected at which byte offset. */
int jsonpath_parse(const char *text, size_t len, struct jsonpath_filter **out, char *err,
                   size_t errlen);

/* True if the filter holds for the JSON value `node` (the `@`). */
bool jsonpath_match(const struct jsonpath_filter *f, const json_t *node);

void jsonpath_free(struct jsonpath_filter *f);

#endif
