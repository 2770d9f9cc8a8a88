/*
 * idmap.c - see idmap.h. Open addressing with linear probing; 0 marks a
 * free slot.
 */
#include <stdlib.h>

#include "idmap.h"

struct ras_idmap_slot {
  uint64_t id;
  void *p;
};

/* Ids are small and mostly sequential (a counter, a pid): the low bits
 * themselves spread them, and consecutive ids get consecutive slots, so an
 * enumeration of thousands of connections walks the map in order instead
 * of missing the cache at every id. The high half is folded in for ids
 * that carry something up there. */
static size_t home(const ras_idmap *m, uint64_t id) {
  return (size_t)(id ^ (id >> 32)) & (m->size - 1);
}

/* How far the entry at slot i is from its home. */
static size_t distance(const ras_idmap *m, size_t i, uint64_t id) {
  return (i - home(m, id)) & (m->size - 1);
}

/* Robin Hood order: along a probe, entries never sit closer to home than
 * the ones before them, so a lookup stops at the first entry nearer home
 * than itself and a removal shifts back only the displaced entries after
 * the hole. (With near-identity homes a run of consecutive ids is one long
 * cluster: plain linear probing would scan all of it on every removal.) */
static struct ras_idmap_slot *find(const ras_idmap *m, uint64_t id) {
  if (m->size == 0) return NULL;
  for (size_t i = home(m, id), d = 0;; i = (i + 1) & (m->size - 1), d++) {
    if (m->slots[i].id == id) return &m->slots[i];
    if (m->slots[i].id == 0 || distance(m, i, m->slots[i].id) < d) return NULL;
  }
}

void *ras_idmap_get(const ras_idmap *m, uint64_t id) {
  struct ras_idmap_slot *s = find(m, id);
  return s ? s->p : NULL;
}

static void insert(ras_idmap *m, uint64_t id, void *p) {
  struct ras_idmap_slot e = { .id = id, .p = p };
  for (size_t i = home(m, id), d = 0;; i = (i + 1) & (m->size - 1), d++) {
    struct ras_idmap_slot *s = &m->slots[i];
    size_t resident;
    if (s->id == 0) {
      *s = e;
      break;
    }
    resident = distance(m, i, s->id);
    if (resident < d) {      /* take the nearer-home entry's place */
      struct ras_idmap_slot t = *s;
      *s = e;
      e = t;
      d = resident;
    }
  }
  m->count++;
}

/* Keeps the load at most 3/4: probes stay short with a mixed key. */
int ras_idmap_reserve(ras_idmap *m) {
  struct ras_idmap_slot *old = m->slots;
  size_t old_size = m->size, size;
  if ((m->count + 1) * 4 <= m->size * 3) return 0;
  size = m->size ? m->size * 2 : 16;
  m->slots = calloc(size, sizeof *m->slots);
  if (!m->slots) {
    m->slots = old;
    return -1;
  }
  m->size = size;
  m->count = 0;
  for (size_t i = 0; i < old_size; i++)
    if (old[i].id) insert(m, old[i].id, old[i].p);
  free(old);
  return 0;
}

int ras_idmap_put(ras_idmap *m, uint64_t id, void *p) {
  struct ras_idmap_slot *s = find(m, id);
  if (s) {
    s->p = p;
    return 0;
  }
  if (ras_idmap_reserve(m) != 0) return -1;
  insert(m, id, p);
  return 0;
}

/* Backward-shift deletion: no tombstones, so probes stay short. */
void ras_idmap_remove(ras_idmap *m, uint64_t id) {
  struct ras_idmap_slot *s = find(m, id);
  size_t hole, i;
  if (!s) return;
  hole = (size_t)(s - m->slots);
  m->count--;
  for (i = (hole + 1) & (m->size - 1); m->slots[i].id && distance(m, i, m->slots[i].id) > 0;
       i = (i + 1) & (m->size - 1)) {
    m->slots[hole] = m->slots[i];
    hole = i;
  }
  m->slots[hole].id = 0;
  m->slots[hole].p = NULL;
}

void ras_idmap_free(ras_idmap *m) {
  free(m->slots);
  m->slots = NULL;
  m->size = m->count = 0;
}
