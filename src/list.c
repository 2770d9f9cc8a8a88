/*
 * list.c - see list.h. While the list grows, a text field holds its
 * text's offset + 1 (both arrays may move); finish makes it a pointer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"

void *ras_list_add(ras_list *l) {
  char *item;
  if (l->failed) return NULL;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    char *items = realloc(l->items, cap * l->item_size);
    if (!items) {
      l->failed = 1;
      return NULL;
    }
    l->items = items;
    l->cap = cap;
  }
  item = l->items + l->n++ * l->item_size;
  memset(item, 0, l->item_size);
  return item;
}

/* A listing names the same entry and phonebook item after item: a text
 * equal to one of the last two kept shares its copy (compared by content,
 * since a backend may pass one buffer with new text each time). */
static size_t recent_text(const ras_list *l, const char *s) {
  for (int i = 0; i < 2; i++)
    if (l->recent[i] && strcmp(l->texts + l->recent[i] - 1, s) == 0) return l->recent[i];
  return 0;
}

void ras_list_text(ras_list *l, void *item, size_t field, const char *s) {
  size_t len;
  uintptr_t at;
  if (l->failed) return;
  if (!s) s = "";
  at = recent_text(l, s);
  if (!at) {
    len = strlen(s) + 1;
    if (l->texts_len + len > l->texts_cap) {
      size_t cap = l->texts_cap ? 2 * l->texts_cap : 256;
      char *texts;
      while (cap < l->texts_len + len) cap *= 2;
      texts = realloc(l->texts, cap);
      if (!texts) {
        l->failed = 1;
        return;
      }
      l->texts = texts;
      l->texts_cap = cap;
    }
    memcpy(l->texts + l->texts_len, s, len);
    at = (uintptr_t)l->texts_len + 1;
    l->texts_len += len;
    l->recent[1] = l->recent[0];
    l->recent[0] = at;
  }
  memcpy((char *)item + field, &at, sizeof at);
}

int ras_list_reserve(ras_list *l, size_t n, size_t texts) {
  char *items = realloc(l->items, (n ? n : 1) * l->item_size);
  char *t = items ? realloc(l->texts, texts ? texts : 1) : NULL;
  if (items) l->items = items;
  if (t) l->texts = t;
  if (!items || !t) return -1;
  if (n > l->cap) l->cap = n;
  if (texts > l->texts_cap) l->texts_cap = texts;
  return 0;
}

/* The items' array grows into the block (no second copy of it). */
void *ras_list_finish(ras_list *l, const size_t *fields, size_t nfields, size_t *n) {
  size_t items_size = l->n * l->item_size;
  char *block = l->failed ? NULL : realloc(l->items, items_size + l->texts_len + 1);
  if (block) {
    char *texts = block + items_size;
    l->items = NULL;
    if (l->texts_len) memcpy(texts, l->texts, l->texts_len);
    texts[l->texts_len] = '\0';
    for (size_t i = 0; i < l->n; i++)
      for (size_t f = 0; f < nfields; f++) {
        char *slot = block + i * l->item_size + fields[f];
        uintptr_t at;
        const char *text;
        memcpy(&at, slot, sizeof at);
        text = at ? texts + (at - 1) : texts + l->texts_len;   /* unset: "" */
        memcpy(slot, &text, sizeof text);
      }
    *n = l->n;
  }
  ras_list_free(l);
  return block;
}

void ras_list_free(ras_list *l) {
  free(l->items);
  free(l->texts);
  l->items = l->texts = NULL;
  l->n = l->cap = l->texts_len = l->texts_cap = 0;
  l->recent[0] = l->recent[1] = 0;
}

/* ---------------------------------------------------------------------- */
/* arenas: one malloc per allocation, chained, freed together              */

struct ras_arena_block {
  struct ras_arena_block *next;
  union { long double d; long long l; void *p; } align[];   /* then the allocation, aligned */
};

void *ras_arena_alloc(ras_arena *a, size_t size) {
  struct ras_arena_block *b;
  if (a->failed || size > SIZE_MAX - sizeof *b) return a->failed = 1, NULL;
  b = malloc(sizeof *b + (size ? size : 1));
  if (!b) return a->failed = 1, NULL;
  b->next = a->blocks;
  a->blocks = b;
  return b->align;
}

char *ras_arena_text(ras_arena *a, const char *s) {
  size_t len;
  char *copy;
  if (!s) return NULL;
  len = strlen(s) + 1;
  copy = ras_arena_alloc(a, len);
  if (copy) memcpy(copy, s, len);
  return copy;
}

void ras_arena_free(ras_arena *a) {
  while (a->blocks) {
    struct ras_arena_block *b = a->blocks;
    a->blocks = b->next;
    free(b);
  }
  a->failed = 0;
}
