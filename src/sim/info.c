/*
 * info.c - what the simulator tells of a connection and the machine: the
 * statistics (grown at the scenario's rates while the link is up), the
 * projection, and the devices option.
 */
#include <stdlib.h>

#include "internal.h"

/* rate × seconds as a counter, saturated rather than wrapped. */
static unsigned long long counted(double rate, double seconds) {
  double v = rate * seconds;
  return v >= 1.8e19 ? ~0ULL : (unsigned long long)v;
}

/* The counters grow at the scenario's rates while the link is up and
 * stand still once it is down; before Connected they are 0. */
int sim_statistics(ras_call *c, ras_statistics *out, ras_error *err) {
  sim *s = c->sim;
  const scenario *sc = c->sc;
  int rc = 0;
  os_mutex_lock(s->lock);
  if (c->phase == GONE) {
    rc = ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
  } else {
    out->speed = sc->speed;
    if (c->connected_at >= 0) {
      double end = c->up ? os_now() : c->ended_at;
      double d = end > c->connected_at ? end - c->connected_at : 0;
      out->duration = d;
      out->bytes_sent = counted(sc->sent_rate, d);
      out->bytes_received = counted(sc->received_rate, d);
      if (sc->frame_size > 0) {
        out->frames_sent = out->bytes_sent / (unsigned long long)sc->frame_size;
        out->frames_received = out->bytes_received / (unsigned long long)sc->frame_size;
      }
      out->errors = counted(sc->error_rate, d);
    }
  }
  os_mutex_unlock(s->lock);
  return rc;
}

int sim_projection(ras_call *c, ras_projection *out, ras_error *err) {
  sim *s = c->sim;
  const scenario *sc = c->sc;
  int rc = 0;
  os_mutex_lock(s->lock);
  if (c->phase == GONE) {
    rc = ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
  } else if (!c->projected) {
    rc = ras_fail(err, RAS_ERROR_PROJECTION_NOT_COMPLETE,
                  "the link is not projected yet (%s)", ras_state_name(c->state));
  } else if (sc->projection) {
    *out = *sc->projection;
  } else if (sc->local_address[0] || sc->remote_address[0]) {
    out->has_ipv4 = 1;
    sim_copy_text(out->ipv4_address, sizeof out->ipv4_address, sc->local_address);
    sim_copy_text(out->ipv4_server_address, sizeof out->ipv4_server_address, sc->remote_address);
  }
  os_mutex_unlock(s->lock);
  return rc;
}

static const size_t device_texts[] = RAS_DEVICE_TEXTS;

ras_device_info *sim_devices(ras_instance *s, size_t *n, ras_error *err) {
  ras_list l = { .item_size = sizeof(ras_device_info) };
  ras_device_info *list;
  for (size_t i = 0; i < s->ndevices; i++) {   /* fixed once open: no lock */
    ras_device_info *info = ras_list_add(&l);
    if (!info) break;
    ras_list_text(&l, info, offsetof(ras_device_info, name), s->devices[i].name);
    ras_list_text(&l, info, offsetof(ras_device_info, type), s->devices[i].type);
  }
  list = ras_list_finish(&l, device_texts, 2, n);
  if (!list) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  return list;
}

int sim_add_devices(sim *s, const sim_config *cf) {
  static const device_config modem = { .name = "Simulated Modem", .type = "modem" };
  const device_config *list = cf->has_devices ? cf->devices : &modem;
  size_t n = cf->has_devices ? cf->ndevices : 1;
  int ok = 1;
  if (!n) return 1;
  if (!(s->devices = calloc(n, sizeof *s->devices))) return 0;
  for (; s->ndevices < n; s->ndevices++) {
    s->devices[s->ndevices].name = sim_dup_text(list[s->ndevices].name, &ok);
    s->devices[s->ndevices].type = sim_dup_text(list[s->ndevices].type, &ok);
  }
  return ok;
}
