/*
 * text.c - the simulator's copies of texts. A dial's password, an entry's
 * saved credentials and the like are secrets: they are wiped before they
 * are freed, so that a freed block does not keep them.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void sim_free_secret(char **text) {
  if (*text) os_wipe(*text, strlen(*text));
  free(*text);
  *text = NULL;
}

/* A copy of s (NULL when s is); NULL and *ok = 0 when out of memory. */
char *sim_dup_text(const char *s, int *ok) {
  size_t size;
  char *copy;
  if (!s) return NULL;
  size = strlen(s) + 1;
  copy = malloc(size);
  if (copy) memcpy(copy, s, size);
  else *ok = 0;
  return copy;
}

/* Copies src (when given), cut to fit: the binding has checked lengths. */
void sim_copy_text(char *dst, size_t size, const char *src) {
  size_t len;
  if (!src) return;
  len = strlen(src);
  if (len >= size) len = size - 1;
  memcpy(dst, src, len);
  dst[len] = '\0';
}

/* Replaces *slot with the copy when there is one (given at all). */
void sim_replace_text(char **slot, char *copy) {
  if (!copy) return;
  sim_free_secret(slot);
  *slot = copy;
}
