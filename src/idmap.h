/*
 * idmap.h - a map from 64-bit ids to pointers (open addressing, linear
 * probing, backward-shift deletion), so that finding a connection by its
 * enumeration id costs O(1) however many are alive. No Lua, no locking:
 * the owner locks.
 */
#ifndef RAS_IDMAP_H
#define RAS_IDMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct ras_idmap {
  struct ras_idmap_slot *slots;
  size_t size, count;             /* size: 0 or a power of two */
} ras_idmap;

/* A zeroed ras_idmap is empty and valid. */
void *ras_idmap_get(const ras_idmap *m, uint64_t id);
/* Makes sure one more put cannot fail; 0, or -1 when out of memory. */
int ras_idmap_reserve(ras_idmap *m);
/* Sets id (never 0) to p, replacing; -1 when out of memory. */
int ras_idmap_put(ras_idmap *m, uint64_t id, void *p);
void ras_idmap_remove(ras_idmap *m, uint64_t id);
void ras_idmap_free(ras_idmap *m);

#endif
