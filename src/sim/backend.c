/*
 * backend.c - the simulator backend's table, and a context's opening (a
 * copy of the config, every allocation checked) and closing. What each
 * part does is in internal.h.
 */
#include <stdlib.h>

#include "internal.h"

static void free_sim(sim *s) {
  while (s->calls) {
    ras_call *c = s->calls;
    s->calls = c->next;
    if (c->feed) ras_feed_unref(c->feed);
    sim_free_call(c);
  }
  while (s->watchers) {     /* the binding unwatches first; this is a guard */
    ras_watch *w = s->watchers;
    s->watchers = w->next;
    ras_feed_unref(w->feed);
    free(w);
  }
  for (size_t i = 0; i < s->nactivity; i++)
    if (s->activity[i].sc) sim_scenario_unref(s->activity[i].sc);
  free(s->activity);
  for (size_t i = 0; i < s->ndevices; i++) {
    free((char *)s->devices[i].name);
    free((char *)s->devices[i].type);
  }
  free(s->devices);
  for (size_t i = 0; i < s->nbooks; i++) sim_free_book(s->books[i]);
  free(s->books);
  ras_idmap_free(&s->by_id);
  free(s->heap);
  os_cond_free(s->cond);
  os_mutex_free(s->lock);
  free(s);
}

static void sim_close(ras_instance *s) {
  os_mutex_lock(s->lock);
  s->stopping = 1;
  os_cond_broadcast(s->cond);
  os_mutex_unlock(s->lock);
  if (s->thread) os_thread_join(s->thread);
  free_sim(s);
}

static ras_instance *sim_open(const void *config, ras_error *err) {
  const sim_config *cf = config;
  sim *s = calloc(1, sizeof *s);
  double opened = os_now();
  if (!s) goto out_of_memory;
  s->lock = os_mutex_new();
  s->cond = os_cond_new();
  sim_set_defaults(&s->fallback);
  s->fallback.name = "";
  s->fallback.refs = 1;             /* the sim's own: never freed */
  if (!s->lock || !s->cond || !sim_seed_book(s, cf) || !sim_add_devices(s, cf)) goto out_of_memory;
  for (size_t i = 0; i < cf->nestablished; i++)
    if (sim_add_established(s, cf->established[i], err) != 0) goto failed;
  if (sim_add_activity(s, cf, opened, err) != 0) goto failed;
  if (s->nactivity && sim_ensure_thread(s, err) != 0) goto failed;   /* last: it shares s */
  return s;
out_of_memory:
  ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory for the simulator");
failed:
  if (s) free_sim(s);
  return NULL;
}

const ras_backend ras_backend_sim = {
  .name = "sim",
  .options = &sim_record,
  .open = sim_open,
  .close = sim_close,
  .dial = sim_dial,
  .attach = sim_attach,
  .resume = sim_resume,
  .hangup = sim_hangup,
  .status = sim_status,
  .wait = sim_wait,
  .release = sim_release,
  .connections = sim_connections,
  .entries = sim_entries,
  .entry = sim_entry,
  .create_entry = sim_create_entry,
  .update_entry = sim_update_entry,
  .rename_entry = sim_rename_entry,
  .delete_entry = sim_delete_entry,
  .validate_entry_name = sim_validate_entry_name,
  .credentials = sim_credentials,
  .set_credentials = sim_set_credentials,
  .clear_credentials = sim_clear_credentials,
  .statistics = sim_statistics,
  .projection = sim_projection,
  .devices = sim_devices,
  .watch = sim_watch,
  .unwatch = sim_unwatch,
};
