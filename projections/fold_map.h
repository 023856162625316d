/* Memory for the rebuild's in-memory fold (projections/fold.h): an arena of
 * strings and small records that lives for one rebuild and is freed at once,
 * and a string-keyed hash map (open addressing, linear probing) whose keys
 * and values the caller owns (typically in the arena). Growth keeps the load
 * factor under 1/2; lookups and inserts are O(1) on average. */
#ifndef P2P_FOLD_MAP_H
#define P2P_FOLD_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fold_arena {
    struct fold_arena_chunk *chunks;
    char *next;
    size_t left;
    size_t used; /* bytes handed out, for the log */
};

/* Zeroed, 16-byte aligned memory, or NULL when out of memory. */
void *fold_arena_alloc(struct fold_arena *a, size_t n);
/* A copy of s (NULL stays NULL), or NULL when out of memory (sets *oom). */
char *fold_arena_strdup(struct fold_arena *a, const char *s, bool *oom);
void fold_arena_free(struct fold_arena *a);

struct fold_map {
    const char **keys;
    void **values;
    uint64_t *hashes;
    size_t cap, count;
};

/* The value stored under key, or NULL. */
void *fold_map_get(const struct fold_map *m, const char *key);
/* Stores value under key (the key pointer is kept: it must outlive the map).
 * Returns 0, or -1 when out of memory. Replaces an existing value. */
int fold_map_put(struct fold_map *m, const char *key, void *value);
/* Calls fn for every value, in no particular order; stops at the first
 * nonzero return and returns it. */
int fold_map_each(const struct fold_map *m, int (*fn)(void *value, void *arg), void *arg);
void fold_map_free(struct fold_map *m);

#endif
