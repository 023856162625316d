#include "engine/core/id_index.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a, 64 bit; never 0 so 0 can mark an empty slot. */
static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ? h : 1;
}

int id_index_init(struct id_index *ix, uint32_t capacity, id_of_row_fn id_of, const void *ctx)
{
    uint32_t slots = 16;
    while (slots < 2 * (uint64_t)capacity && slots < (1u << 31))
        slots <<= 1;
    ix->hashes = calloc(slots, sizeof *ix->hashes);
    ix->rows = calloc(slots, sizeof *ix->rows);
    ix->mask = slots - 1;
    ix->id_of = id_of;
    ix->ctx = ctx;
    if (!ix->hashes || !ix->rows) {
        id_index_free(ix);
        return -1;
    }
    return 0;
}

void id_index_free(struct id_index *ix)
{
    free(ix->hashes);
    free(ix->rows);
    ix->hashes = NULL;
    ix->rows = NULL;
}

uint32_t id_index_find(const struct id_index *ix, const char *id)
{
    uint64_t h = hash_id(id);
    for (uint32_t i = (uint32_t)h & ix->mask;; i = (i + 1) & ix->mask) {
        if (ix->hashes[i] == 0)
            return ID_INDEX_NONE;
        if (ix->hashes[i] == h && strcmp(ix->id_of(ix->ctx, ix->rows[i]), id) == 0)
            return ix->rows[i];
    }
}

void id_index_insert(struct id_index *ix, const char *id, uint32_t row)
{
    uint64_t h = hash_id(id);
    uint32_t i = (uint32_t)h & ix->mask;
    while (ix->hashes[i] != 0)
        i = (i + 1) & ix->mask;
    ix->hashes[i] = h;
    ix->rows[i] = row;
}
