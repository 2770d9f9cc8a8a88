/*
 * list.h - what connections() and entries() answer with: one malloc'd
 * block holding the items and then every text they point to, freed with
 * one free(). A list of 30,000 connections is then as big as its texts,
 * not 30,000 times the longest text a name could have.
 *
 * Built item by item: ras_list_add gives a zeroed item, ras_list_text
 * keeps a copy of a text for one of its fields; ras_list_finish packs
 * items and texts into the final block and points the fields at their
 * texts. Any allocation failure on the way makes finish return NULL.
 */
#ifndef RAS_LIST_H
#define RAS_LIST_H

#include <stddef.h>

typedef struct ras_list {
  char *items;
  size_t item_size, n, cap;
  char *texts;
  size_t texts_len, texts_cap;
  size_t recent[2];             /* offsets + 1 of the last two texts kept */
  int failed;
} ras_list;

/* A zeroed ras_list with item_size set is an empty list. */
void *ras_list_add(ras_list *l);
/* Sets the text field at `field` (a const char * in the item) to a copy of
 * s (NULL: ""); a text equal to one of the last two kept shares its copy. */
void ras_list_text(ras_list *l, void *item, size_t field, const char *s);
/* Room for n items and `texts` bytes of text at once (when the caller
 * knows); 0, or -1 when out of memory (the list stays usable). */
int ras_list_reserve(ras_list *l, size_t n, size_t texts);
/* The block, with *n items; NULL (and the list freed) on failure. */
void *ras_list_finish(ras_list *l, const size_t *fields, size_t nfields, size_t *n);
void ras_list_free(ras_list *l);

/*
 * An arena: where a backend puts the texts and arrays of one answer (an
 * entry's properties) that the binding reads and then frees at once.
 * Allocations fail to NULL and set .failed; ras_arena_free frees all.
 */
typedef struct ras_arena {
  struct ras_arena_block *blocks;
  int failed;
} ras_arena;

void *ras_arena_alloc(ras_arena *a, size_t size);
/* A copy of s (NULL: NULL) in the arena. */
char *ras_arena_text(ras_arena *a, const char *s);
void ras_arena_free(ras_arena *a);

#endif
