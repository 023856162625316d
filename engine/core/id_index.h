/* A fixed-capacity hash index from string ids to table rows (open addressing,
 * linear probing). Keys live in the tables, not here: the index keeps each
 * row's hash and number and compares ids through a callback. Memory is
 * allocated once by id_index_init; lookups and inserts never allocate.
 * Used only for lookups, never iterated, so its layout cannot influence the
 * engine's decisions. */
#ifndef P2P_ID_INDEX_H
#define P2P_ID_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ID_INDEX_NONE UINT32_MAX

/* Returns the id string of `row` in the table `ctx`. */
typedef const char *(*id_of_row_fn)(const void *ctx, uint32_t row);

struct id_index {
    uint64_t *hashes; /* 0 = empty slot */
    uint32_t *rows;
    uint32_t mask;
    id_of_row_fn id_of;
    const void *ctx;
};

/* Sizes the index for `capacity` rows (load factor <= 0.5). Returns 0 or -1 (no memory). */
int id_index_init(struct id_index *ix, uint32_t capacity, id_of_row_fn id_of, const void *ctx);
void id_index_free(struct id_index *ix);

uint32_t id_index_find(const struct id_index *ix, const char *id);

/* Adds id -> row; the id must not be present yet. */
void id_index_insert(struct id_index *ix, const char *id, uint32_t row);

#endif
