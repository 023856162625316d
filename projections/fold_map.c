/* Arena and hash map of the rebuild's fold (projections/fold_map.h). */
#include "projections/fold_map.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE (8u << 20)

struct fold_arena_chunk {
    struct fold_arena_chunk *next;
};

void *fold_arena_alloc(struct fold_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n > a->left) {
        size_t size = n > CHUNK_SIZE / 4 ? n + 16 : CHUNK_SIZE;
        struct fold_arena_chunk *c = malloc(sizeof(struct fold_arena_chunk) + 16 + size);
        if (!c)
            return NULL;
        c->next = a->chunks;
        a->chunks = c;
        uintptr_t start = ((uintptr_t)(c + 1) + 15) & ~(uintptr_t)15;
        a->next = (char *)start;
        a->left = size;
    }
    void *p = a->next;
    a->next += n;
    a->left -= n;
    a->used += n;
    memset(p, 0, n);
    return p;
}

char *fold_arena_strdup(struct fold_arena *a, const char *s, bool *oom)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = fold_arena_alloc(a, n);
    if (!p) {
        *oom = true;
        return NULL;
    }
    memcpy(p, s, n);
    return p;
}

void fold_arena_free(struct fold_arena *a)
{
    while (a->chunks) {
        struct fold_arena_chunk *next = a->chunks->next;
        free(a->chunks);
        a->chunks = next;
    }
    memset(a, 0, sizeof *a);
}

/* FNV-1a, never 0 (0 marks an empty slot). */
static uint64_t hash_of(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ? h : 1;
}

static size_t find(const struct fold_map *m, const char *key, uint64_t h)
{
    size_t i = (size_t)h & (m->cap - 1);
    while (m->hashes[i] && (m->hashes[i] != h || strcmp(m->keys[i], key) != 0))
        i = (i + 1) & (m->cap - 1);
    return i;
}

void *fold_map_get(const struct fold_map *m, const char *key)
{
    if (!m->cap || !key)
        return NULL;
    size_t i = find(m, key, hash_of(key));
    return m->hashes[i] ? m->values[i] : NULL;
}

static int grow(struct fold_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    struct fold_map n = {.keys = calloc(cap, sizeof *n.keys),
                         .values = calloc(cap, sizeof *n.values),
                         .hashes = calloc(cap, sizeof *n.hashes),
                         .cap = cap,
                         .count = m->count};
    if (!n.keys || !n.values || !n.hashes) {
        fold_map_free(&n);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->hashes[i]) {
            size_t j = find(&n, m->keys[i], m->hashes[i]);
            n.hashes[j] = m->hashes[i];
            n.keys[j] = m->keys[i];
            n.values[j] = m->values[i];
        }
    fold_map_free(m);
    *m = n;
    return 0;
}

int fold_map_put(struct fold_map *m, const char *key, void *value)
{
    if ((m->count + 1) * 2 > m->cap && grow(m))
        return -1;
    uint64_t h = hash_of(key);
    size_t i = find(m, key, h);
    if (!m->hashes[i]) {
        m->hashes[i] = h;
        m->keys[i] = key;
        m->count++;
    }
    m->values[i] = value;
    return 0;
}

int fold_map_each(const struct fold_map *m, int (*fn)(void *value, void *arg), void *arg)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->hashes[i]) {
            int rc = fn(m->values[i], arg);
            if (rc)
                return rc;
        }
    return 0;
}

void fold_map_free(struct fold_map *m)
{
    free(m->keys);
    free(m->values);
    free(m->hashes);
    memset(m, 0, sizeof *m);
}
