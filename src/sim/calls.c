/*
 * calls.c - the simulator's connections: dial, attach, resume, hang-up,
 * status, wait, release and the connections listing. A call lives in a
 * doubly linked list indexed by id; the thread (thread.c) plays it, and
 * frees it once it is gone and released.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The texts a dial or a resume gives the call, copied before its lock. */
typedef struct given {
  char *user, *password, *number;
} given;

static void free_given(given *g) {
  sim_free_secret(&g->user);
  sim_free_secret(&g->password);
  sim_free_secret(&g->number);
}

/* 0, or -1 (nothing kept) when out of memory. */
static int copy_given(given *g, const char *user, const char *password, const char *number) {
  int ok = 1;
  g->user = sim_dup_text(user, &ok);
  g->password = sim_dup_text(password, &ok);
  g->number = sim_dup_text(number, &ok);
  if (ok) return 0;
  free_given(g);
  return -1;
}

/* The call list (sim lock held): doubly linked and indexed by id, so that
 * attach and release cost O(1) however many calls there are. */
int sim_add_call(sim *s, ras_call *c) {
  if (s->ncalls == s->heap_size) {
    size_t size = s->heap_size ? 2 * s->heap_size : 16;
    ras_call **heap = realloc(s->heap, size * sizeof *heap);
    if (!heap) return -1;
    s->heap = heap;
    s->heap_size = size;
  }
  if (ras_idmap_put(&s->by_id, c->id, c) != 0) return -1;
  s->ncalls++;
  c->prev = NULL;
  c->next = s->calls;
  if (s->calls) s->calls->prev = c;
  s->calls = c;
  return 0;
}

void sim_unlink_call(sim *s, ras_call *c) {
  sim_heap_remove(s, c);
  s->ncalls--;
  if (c->prev) c->prev->next = c->next;
  else s->calls = c->next;
  if (c->next) c->next->prev = c->prev;
  ras_idmap_remove(&s->by_id, c->id);
}

void sim_free_call(ras_call *c) {
  sim_free_secret(&c->username);
  sim_free_secret(&c->password);
  sim_free_secret(&c->callback_number);
  sim_scenario_unref(c->sc);
  os_wipe(c, sizeof *c);
  free(c);
}

ras_call *sim_new_call(sim *s, scenario *sc, const sim_book *book) {
  ras_call *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->sim = s;
  c->sc = sc;
  sc->refs++;
  c->book = book;
  c->id = ++s->next_id;
  c->connected_at = c->ended_at = -1;
  return c;
}

/* The saved credentials a dial without a password uses, and the entry's
 * default user name when the dial gives none: copies into g (lock held).
 * 0, or -1 when out of memory (g keeps what it had). */
static int use_entry_credentials(given *g, const scenario *sc, int saved) {
  int ok = 1;
  const char *user = NULL;
  char *password = NULL, *copy;
  if (saved && !g->password && sc->saved.password)
    password = sim_dup_text(sc->saved.password, &ok);
  if (saved && !g->password && sc->saved.user) user = sc->saved.user;
  else if (sc->props.given & RAS_ENTRY_USERNAME) user = sc->props.username;
  copy = g->user ? NULL : sim_dup_text(user, &ok);
  if (!ok) {
    sim_free_secret(&password);
    sim_free_secret(&copy);
    return -1;
  }
  if (password) g->password = password;
  if (copy) g->user = copy;
  return 0;
}

int sim_dial(ras_instance *s, ras_feed *feed, const ras_dial_params *p,
             ras_call **out, uint64_t *id, ras_error *err) {
  given g;
  sim_book *book;
  scenario *sc;
  ras_call *c = NULL;
  if (copy_given(&g, p->username, p->password, p->callback_number) != 0)
    return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  os_mutex_lock(s->lock);
  book = sim_find_book(s, p->phonebook);
  sc = !p->entry ? (book ? &s->fallback : NULL) : sim_book_find(book, p->entry);
  if (!sc) {
    os_mutex_unlock(s->lock);
    free_given(&g);
    return sim_no_entry(err, p->entry ? p->entry : "",
                        p->phonebook ? p->phonebook : s->books[0]->name);
  }
  if (use_entry_credentials(&g, sc, p->saved_credentials) == 0) c = sim_new_call(s, sc, book);
  if (c) {
    c->username = g.user;         /* the call owns them from here */
    c->password = g.password;
    c->callback_number = g.number;
  }
  if (!c || sim_ensure_thread(s, err) != 0 || sim_add_call(s, c) != 0) {
    os_mutex_unlock(s->lock);
    if (c) sim_free_call(c);
    else free_given(&g);
    if (!c || s->thread) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
    return err->code;
  }
  c->paused_states = p->paused_states;
  c->phase = RUNNING;
  sim_set_due(c, os_now());
  ras_feed_ref(feed);
  c->feed = feed;
  *id = c->id;
  if (s->sleeping) os_cond_broadcast(s->cond);  /* news for the thread */
  os_mutex_unlock(s->lock);
  *out = c;
  return 0;
}

ras_call *sim_attach(ras_instance *s, ras_feed *feed, uint64_t id,
                     ras_error *err) {
  ras_call *c;
  os_mutex_lock(s->lock);
  c = ras_idmap_get(&s->by_id, id);
  if (c && c->phase != GONE && c->phase != PENDING && !c->feed) {
    ras_feed_ref(feed);
    c->feed = feed;
    c->released = 0;
  } else {
    ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
    c = NULL;
  }
  os_mutex_unlock(s->lock);
  return c;
}

int sim_resume(ras_call *c, const ras_resume_params *p, ras_error *err) {
  sim *s = c->sim;
  given g;
  int rc = 0;
  if (copy_given(&g, p->username, p->password, p->callback_number) != 0)
    return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  os_mutex_lock(s->lock);
  if (c->phase != PAUSED) {
    rc = ras_fail(err, RAS_ERROR_INVALID_PARAMETER,
                  "the connection is not in a paused state (%s)",
                  ras_state_name(c->state));
    free_given(&g);
  } else {
    sim_replace_text(&c->username, g.user);
    sim_replace_text(&c->password, g.password);
    sim_replace_text(&c->callback_number, g.number);
    if (p->new_password) c->password_changed = 1;
    sim_insert_resume(c);
    c->phase = RUNNING;
    sim_set_due(c, c->sc->step < 0 ? -1 : os_now() + c->sc->step);
    if (s->sleeping) os_cond_broadcast(s->cond);  /* news for the thread */
  }
  os_mutex_unlock(s->lock);
  return rc;
}

int sim_hangup(ras_call *c, ras_error *err) {
  sim *s = c->sim;
  double delay = c->sc->hangup_delay;
  os_mutex_lock(s->lock);
  if (c->phase != TEARDOWN && c->phase != GONE) {
    c->state = RAS_Disconnected;
    sim_bring_down(c, os_now());
    if (delay != 0 && sim_ensure_thread(s, err) == 0) {
      c->phase = TEARDOWN;
      sim_set_due(c, delay < 0 ? -1 : os_now() + delay);
    } else {
      c->phase = GONE;
      sim_set_due(c, -1);
    }
    if (s->sleeping) os_cond_broadcast(s->cond);  /* news for the thread */
  }
  os_mutex_unlock(s->lock);
  return 0;
}

int sim_status(ras_call *c, ras_status *st) {
  sim *s = c->sim;
  const scenario *sc = c->sc;
  int rc = 0;
  os_mutex_lock(s->lock);
  if (c->phase == GONE) rc = RAS_ERROR_INVALID_HANDLE;
  else {
    st->state = c->state;
    st->error = c->error;
    sim_copy_text(st->device_type, sizeof st->device_type, sc->device_type);
    sim_copy_text(st->device_name, sizeof st->device_name, sc->device_name);
    if (c->projected) {
      sim_copy_text(st->local_address, sizeof st->local_address, sc->local_address);
      sim_copy_text(st->remote_address, sizeof st->remote_address, sc->remote_address);
    }
  }
  os_mutex_unlock(s->lock);
  return rc;
}

void sim_wait(ras_call *c, double seconds) {
  sim *s = c->sim;
  os_mutex_lock(s->lock);
  if (c->phase != GONE) os_cond_wait(s->cond, s->lock, seconds);
  os_mutex_unlock(s->lock);
}

void sim_release(ras_call *c) {
  sim *s = c->sim;
  ras_feed *feed;
  os_mutex_lock(s->lock);
  feed = c->feed;
  c->feed = NULL;
  c->released = 1;
  if (c->phase == GONE) {
    sim_unlink_call(s, c);
    sim_free_call(c);
  }
  os_mutex_unlock(s->lock);
  if (feed) ras_feed_unref(feed);
}

static const size_t conn_texts[] = RAS_CONN_TEXTS;

ras_conn_info *sim_connections(ras_instance *s, size_t *n, ras_error *err) {
  ras_list l = { .item_size = sizeof(ras_conn_info) };
  ras_conn_info *list;
  os_mutex_lock(s->lock);
  ras_list_reserve(&l, s->ncalls, s->ncalls * 16);
  for (ras_call *c = s->calls; c; c = c->next) {
    ras_conn_info *info;
    if (c->phase == GONE || c->phase == PENDING || !(info = ras_list_add(&l))) continue;
    info->id = c->id;
    ras_list_text(&l, info, offsetof(ras_conn_info, entry), c->sc->name);
    ras_list_text(&l, info, offsetof(ras_conn_info, phonebook), c->book->name);
  }
  os_mutex_unlock(s->lock);
  list = ras_list_finish(&l, conn_texts, 2, n);
  if (!list) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  return list;
}
