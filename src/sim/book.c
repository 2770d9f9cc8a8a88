/*
 * book.c - the simulator's phone books, in memory: each a list of entries
 * (scenarios) sorted by name, found by binary search. [0] is the default
 * one, seeded from the `entries` option; create_entry makes the others.
 * Called with the sim lock held, or before the sim is shared.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void sim_free_book(sim_book *b) {
  if (!b) return;
  for (size_t i = 0; i < b->n; i++) sim_scenario_unref(b->entries[i]);
  free(b->entries);
  free(b->name);
  free(b);
}

sim_book *sim_find_book(sim *s, const char *name) {
  if (!name) return s->books[0];
  for (size_t i = 0; i < s->nbooks; i++)
    if (strcmp(s->books[i]->name, name) == 0) return s->books[i];
  return NULL;
}

/* The book of that name, made when missing; NULL when out of memory. */
sim_book *sim_get_book(sim *s, const char *name) {
  sim_book *b = sim_find_book(s, name), **books;
  int ok = 1;
  if (b) return b;
  books = realloc(s->books, (s->nbooks + 1) * sizeof *books);
  if (!books) return NULL;
  s->books = books;
  if (!(b = calloc(1, sizeof *b)) || !(b->name = sim_dup_text(name, &ok))) {
    free(b);
    return NULL;
  }
  s->books[s->nbooks++] = b;
  return b;
}

/* The index of name in b, or where it would go (*found says which). */
size_t sim_book_place(const sim_book *b, const char *name, int *found) {
  size_t lo = 0, hi = b->n;
  *found = 0;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int cmp = strcmp(b->entries[mid]->name, name);
    if (cmp == 0) return *found = 1, mid;
    if (cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

scenario *sim_book_find(const sim_book *b, const char *name) {
  int found;
  size_t i = b ? sim_book_place(b, name, &found) : 0;
  return b && found ? b->entries[i] : NULL;
}

/* Takes sc (its reference) into b at its place: 0, or -1 out of memory. */
int sim_book_insert(sim_book *b, scenario *sc) {
  int found;
  size_t i = sim_book_place(b, sc->name, &found);
  if (b->n == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 8;
    scenario **entries = realloc(b->entries, cap * sizeof *entries);
    if (!entries) return -1;
    b->entries = entries;
    b->cap = cap;
  }
  memmove(b->entries + i + 1, b->entries + i, (b->n - i) * sizeof *b->entries);
  b->entries[i] = sc;
  b->n++;
  return 0;
}

/* Takes the entry at i out of b; the caller has its reference. */
scenario *sim_book_take(sim_book *b, size_t i) {
  scenario *sc = b->entries[i];
  memmove(b->entries + i, b->entries + i + 1, (b->n - i - 1) * sizeof *b->entries);
  b->n--;
  return sc;
}

/* The error for an entry that is not in the book; returns its code. */
int sim_no_entry(ras_error *err, const char *name, const char *book) {
  return ras_fail(err, RAS_ERROR_CANNOT_FIND_PHONEBOOK_ENTRY,
                  "no entry '%.64s' in the simulator's phonebook '%.64s'", name, book);
}

static int by_name(const void *a, const void *b) {
  return strcmp((*(scenario *const *)a)->name, (*(scenario *const *)b)->name);
}

/* The default phone book, from the entries option; 0 when out of memory. */
int sim_seed_book(sim *s, const sim_config *cf) {
  sim_book *b = calloc(1, sizeof *b);
  int ok = 1;
  if (!b || !(s->books = malloc(sizeof *s->books))) {
    free(b);
    return 0;
  }
  s->books[s->nbooks++] = b;
  b->name = sim_dup_text(cf->phonebook ? cf->phonebook : "sim", &ok);
  b->cap = cf->nentries ? cf->nentries : 1;
  if (!ok || !(b->entries = calloc(b->cap, sizeof *b->entries))) return 0;
  for (size_t i = 0; i < cf->nentries; i++) {
    scenario *sc = calloc(1, sizeof *sc);
    if (!sc) return 0;
    b->entries[b->n++] = sc;
    if (!sim_copy_scenario(sc, &cf->entries[i]) || !sc->name) return 0;
  }
  if (b->n) qsort(b->entries, b->n, sizeof *b->entries, by_name);
  return 1;
}
