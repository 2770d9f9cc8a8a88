/*
 * entries.c - phone-book entries on the simulator: listing, reading,
 * creating, updating, renaming, deleting, validating names, and each
 * entry's saved credentials. Names are checked as pppd's peer files and
 * Windows' phone books would check them, so that scripts behave alike.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * What pppd's peer files and Windows' phone books both accept as an entry
 * name: a file name in a peers directory, a section of a .pbk file. NULL
 * when fine, else why not.
 */
static const char *bad_name(const char *name) {
  if (!name[0]) return "empty";
  if (strlen(name) > RAS_MAX_ENTRY) return "longer than 256 bytes";
  if (name[0] == '.') return "begins with a dot";
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    if (*p < 0x20 || *p == 0x7f) return "contains a control character";
    if (*p == '/' || *p == '\\') return "contains a slash or a backslash";
  }
  return NULL;
}

static int invalid_name(ras_error *err, const char *why) {
  return ras_fail(err, RAS_ERROR_INVALID_NAME, "not a valid entry name (%s)", why);
}

static const size_t entry_texts[] = RAS_ENTRY_TEXTS;

ras_entry_info *sim_entries(ras_instance *s, const char *phonebook, size_t *n,
                            ras_error *err) {
  ras_list l = { .item_size = sizeof(ras_entry_info) };
  ras_entry_info *list;
  const sim_book *b;
  os_mutex_lock(s->lock);
  b = sim_find_book(s, phonebook);
  for (size_t i = 0; b && i < b->n; i++) {
    ras_entry_info *info = ras_list_add(&l);
    if (!info) break;
    ras_list_text(&l, info, offsetof(ras_entry_info, name), b->entries[i]->name);
    ras_list_text(&l, info, offsetof(ras_entry_info, phonebook), b->name);
  }
  os_mutex_unlock(s->lock);
  list = ras_list_finish(&l, entry_texts, 2, n);
  if (!list) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  return list;
}

/* The book phonebook names (NULL: the default one), *i the place of the
 * entry name in it; NULL with *err when there is no such entry. */
static sim_book *locate(sim *s, const char *name, const char *phonebook, size_t *i,
                        ras_error *err) {
  sim_book *book = sim_find_book(s, phonebook);
  int found = 0;
  *i = book ? sim_book_place(book, name, &found) : 0;
  if (found) return book;
  sim_no_entry(err, name, phonebook ? phonebook : s->books[0]->name);
  return NULL;
}

/* The entry name in book (NULL: the default one), or NULL with *err. */
static scenario *lookup(sim *s, const char *name, const char *book, ras_error *err) {
  size_t i;
  sim_book *b = locate(s, name, book, &i, err);
  return b ? b->entries[i] : NULL;
}

static const char **arena_texts(ras_arena *a, const char *const *texts, size_t n) {
  const char **copy = ras_arena_alloc(a, (n ? n : 1) * sizeof *copy);
  for (size_t i = 0; copy && i < n; i++) copy[i] = ras_arena_text(a, texts[i]);
  return copy;
}

int sim_entry(ras_instance *s, const char *name, const char *phonebook, ras_entry *out,
              ras_arena *arena, ras_error *err) {
  scenario *sc;
  int rc = 0;
  os_mutex_lock(s->lock);
  if (!(sc = lookup(s, name, phonebook, err))) rc = err->code;
  else {
    const ras_entry *e = &sc->props;
    *out = *e;
    out->name = ras_arena_text(arena, sc->name);
    out->phonebook = ras_arena_text(arena, sim_find_book(s, phonebook)->name);
    out->device = ras_arena_text(arena, e->device);
    out->number = ras_arena_text(arena, e->number);
    out->username = ras_arena_text(arena, e->username);
    out->dns = arena_texts(arena, e->dns, e->ndns);
    out->pppd_options = arena_texts(arena, e->pppd_options, e->npppd_options);
    out->given |= RAS_ENTRY_NAME | RAS_ENTRY_PHONEBOOK;
  }
  os_mutex_unlock(s->lock);
  return rc;
}

/* A new entry with the default scenario and e's properties; NULL when out
 * of memory. */
static scenario *new_entry(const ras_entry *e) {
  static const ras_entry none = { .given = 0 };
  scenario *sc = calloc(1, sizeof *sc);
  int ok = 1;
  if (!sc) return NULL;
  sc->refs = 1;
  sim_set_defaults(sc);
  sc->name = sim_dup_text(e->name, &ok);
  if (!ok || sim_merge_props(&sc->props, &none, e) != 0) {
    sim_free_scenario(sc);
    return NULL;
  }
  return sc;
}

int sim_create_entry(ras_instance *s, const ras_entry *e, ras_error *err) {
  const char *why = bad_name(e->name);
  scenario *sc;
  sim_book *book;
  int rc = 0;
  if (why) return invalid_name(err, why);
  if (!(sc = new_entry(e))) return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  os_mutex_lock(s->lock);
  book = sim_get_book(s, e->phonebook);
  if (book && sim_book_find(book, e->name))
    rc = ras_fail(err, RAS_ERROR_ALREADY_EXISTS, "the phonebook '%.64s' has an entry '%.64s'",
                  book->name, e->name);
  else if (!book || sim_book_insert(book, sc) != 0)
    rc = ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  if (rc != 0) sim_scenario_unref(sc);
  os_mutex_unlock(s->lock);
  return rc;
}

int sim_update_entry(ras_instance *s, const char *name, const char *phonebook,
                     const ras_entry *changes, ras_error *err) {
  scenario *sc;
  ras_entry merged;
  int rc = 0;
  os_mutex_lock(s->lock);
  if (!(sc = lookup(s, name, phonebook, err))) rc = err->code;
  else if ((changes->given & RAS_ENTRY_VPN) && !(changes->given & RAS_ENTRY_TYPE) &&
           sc->props.type != RAS_TYPE_VPN)
    rc = ras_fail(err, RAS_BAD_ARGUMENT, "bad property 'vpn' (needs type \"vpn\")");
  else if (sim_merge_props(&merged, &sc->props, changes) != 0)
    rc = ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  else {
    sim_free_props(&sc->props);
    sc->props = merged;
  }
  os_mutex_unlock(s->lock);
  return rc;
}

int sim_rename_entry(ras_instance *s, const char *old_name, const char *new_name,
                     const char *phonebook, ras_error *err) {
  const char *why = bad_name(new_name);
  int ok = 1, rc = 0;
  char *copy = why ? NULL : sim_dup_text(new_name, &ok);
  sim_book *book;
  scenario *sc;
  size_t i;
  if (!ok) return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  os_mutex_lock(s->lock);
  if (!(book = locate(s, old_name, phonebook, &i, err))) rc = err->code;
  else if (why) rc = invalid_name(err, why);
  else if (sim_book_find(book, new_name))
    rc = ras_fail(err, RAS_ERROR_ALREADY_EXISTS, "the phonebook '%.64s' has an entry '%.64s'",
                  book->name, new_name);
  else {
    sc = sim_book_take(book, i);     /* room for it stays: the insert cannot fail */
    free(sc->name);
    sc->name = copy;
    copy = NULL;
    sim_book_insert(book, sc);
  }
  os_mutex_unlock(s->lock);
  free(copy);
  return rc;
}

int sim_delete_entry(ras_instance *s, const char *name, const char *phonebook,
                     ras_error *err) {
  sim_book *book;
  int rc = 0;
  size_t i;
  os_mutex_lock(s->lock);
  if (!(book = locate(s, name, phonebook, &i, err))) rc = err->code;
  else sim_scenario_unref(sim_book_take(book, i));   /* its calls keep theirs */
  os_mutex_unlock(s->lock);
  return rc;
}

int sim_validate_entry_name(ras_instance *s, const char *name, const char *phonebook,
                            ras_error *err) {
  const char *why = bad_name(name);
  int rc = 0;
  if (why) return invalid_name(err, why);
  os_mutex_lock(s->lock);
  if (sim_book_find(sim_find_book(s, phonebook), name))
    rc = ras_fail(err, RAS_ERROR_ALREADY_EXISTS, "the phonebook has an entry of that name");
  os_mutex_unlock(s->lock);
  return rc;
}

int sim_credentials(ras_instance *s, const char *entry, const char *phonebook,
                    ras_credentials_info *out, ras_error *err) {
  scenario *sc;
  int rc = 0;
  os_mutex_lock(s->lock);
  if (!(sc = lookup(s, entry, phonebook, err))) rc = err->code;
  else {
    sim_copy_text(out->username, sizeof out->username, sc->saved.user);
    sim_copy_text(out->domain, sizeof out->domain, sc->saved.domain);
    out->saved_password = sc->saved.password != NULL;
    out->saved_psk = sc->saved.psk != NULL;
  }
  os_mutex_unlock(s->lock);
  return rc;
}

int sim_set_credentials(ras_instance *s, const char *entry, const char *phonebook,
                        const ras_credentials *cred, ras_error *err) {
  int ok = 1, rc = 0;
  saved_credentials copy;
  scenario *sc = NULL;
  copy.user = sim_dup_text(cred->username, &ok);
  copy.domain = sim_dup_text(cred->domain, &ok);
  copy.password = sim_dup_text(cred->password, &ok);
  copy.psk = sim_dup_text(cred->psk, &ok);
  if (!ok) rc = ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  os_mutex_lock(s->lock);
  if (rc == 0 && !(sc = lookup(s, entry, phonebook, err))) rc = err->code;
  if (sc) {                      /* what is not given stays as it was */
    sim_replace_text(&sc->saved.user, copy.user);
    sim_replace_text(&sc->saved.domain, copy.domain);
    sim_replace_text(&sc->saved.password, copy.password);
    sim_replace_text(&sc->saved.psk, copy.psk);
    copy = (saved_credentials){ .user = NULL };
  }
  os_mutex_unlock(s->lock);
  sim_forget_saved(&copy);
  return rc;
}

int sim_clear_credentials(ras_instance *s, const char *entry, const char *phonebook,
                          ras_error *err) {
  scenario *sc;
  int rc = 0;
  os_mutex_lock(s->lock);
  if (!(sc = lookup(s, entry, phonebook, err))) rc = err->code;
  else sim_forget_saved(&sc->saved);
  os_mutex_unlock(s->lock);
  return rc;
}
