/*
 * scenario.c - scenarios: what a dial to one entry does, and the entry
 * itself (internal.h). The defaults, the entry properties that updates
 * merge, the copy of a scenario from ras.open's config, freeing. Called
 * with the sim lock held, or before the sim is shared.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* What a dial reports before Connected when its scenario names no states. */
const unsigned char sim_default_states[] = {
  RAS_OpenPort, RAS_PortOpened, RAS_ConnectDevice, RAS_DeviceConnected,
  RAS_AllDevicesConnected, RAS_Authenticate, RAS_AuthNotify,
  RAS_Authenticated, RAS_AuthProject, RAS_Projected
};
const size_t sim_ndefault_states = sizeof sim_default_states;

static void free_texts(const char **texts, size_t n) {
  for (size_t i = 0; texts && i < n; i++) free((char *)texts[i]);
  free((void *)texts);
}

void sim_free_props(ras_entry *e) {
  free((char *)e->device);
  free((char *)e->number);
  free((char *)e->username);
  free_texts(e->dns, e->ndns);
  free_texts(e->pppd_options, e->npppd_options);
  memset(e, 0, sizeof *e);
}

/* Copies of n texts; NULL (and *ok = 0) when out of memory, or for none. */
static const char **dup_texts(const char *const *texts, size_t n, size_t *count, int *ok) {
  const char **copy;
  *count = 0;
  if (!n) return NULL;
  if (!(copy = calloc(n, sizeof *copy))) return *ok = 0, NULL;
  for (size_t i = 0; i < n; i++) copy[i] = sim_dup_text(texts[i], ok);
  *count = n;
  return copy;
}

/*
 * *out = the properties of old with those changes gives over them, every
 * text a new copy: 0, or -1 when out of memory (nothing kept). Servers
 * and use_peer_dns exclude each other, so the one given last wins.
 */
int sim_merge_props(ras_entry *out, const ras_entry *old, const ras_entry *changes) {
  ras_entry m = *old;
  unsigned g = changes->given;
  int ok = 1;
  if (g & RAS_ENTRY_TYPE) m.type = changes->type;
  if (g & RAS_ENTRY_DEVICE) m.device = changes->device;
  if (g & RAS_ENTRY_NUMBER) m.number = changes->number;
  if (g & RAS_ENTRY_VPN) m.vpn = changes->vpn;
  if (g & RAS_ENTRY_AUTH) m.auth = changes->auth;
  if (g & RAS_ENTRY_ENCRYPTION) m.encryption = changes->encryption;
  if (g & RAS_ENTRY_DEFAULT_GATEWAY) m.default_gateway = changes->default_gateway;
  if (g & RAS_ENTRY_DNS) {
    m.dns = changes->dns;
    m.ndns = changes->ndns;
    if (m.ndns && !(g & RAS_ENTRY_USE_PEER_DNS) && (m.given & RAS_ENTRY_USE_PEER_DNS))
      m.use_peer_dns = 0;
  }
  if (g & RAS_ENTRY_USE_PEER_DNS) {
    m.use_peer_dns = changes->use_peer_dns;
    if (m.use_peer_dns && !(g & RAS_ENTRY_DNS)) m.ndns = 0;
  }
  if (g & RAS_ENTRY_IPV4) m.ipv4 = changes->ipv4;
  if (g & RAS_ENTRY_IPV6) m.ipv6 = changes->ipv6;
  /* seconds arrive as RAS_FOREVER when huge: idling forever is never
   * disconnecting (0); a pause that long reads back as the longest one */
  if (g & RAS_ENTRY_IDLE_DISCONNECT)
    m.idle_disconnect = changes->idle_disconnect < 0 ? 0 : changes->idle_disconnect;
  if (g & RAS_ENTRY_REDIAL) {
    m.redial = changes->redial;
    if (m.redial.interval < 0) m.redial.interval = RAS_MAX_SECONDS;
  }
  if (g & RAS_ENTRY_USERNAME) m.username = changes->username;
  if (g & RAS_ENTRY_PPPD_OPTIONS) {
    m.pppd_options = changes->pppd_options;
    m.npppd_options = changes->npppd_options;
  }
  m.given = (m.given | g) & ~(unsigned)(RAS_ENTRY_NAME | RAS_ENTRY_PHONEBOOK);
  /* a type other than vpn has no tunnel: a vpn choice it had goes */
  if ((m.given & RAS_ENTRY_VPN) && (m.given & RAS_ENTRY_TYPE) && m.type != RAS_TYPE_VPN) {
    m.given &= ~(unsigned)RAS_ENTRY_VPN;
    m.vpn = 0;
  }
  *out = m;
  out->name = out->phonebook = NULL;
  out->device = sim_dup_text(m.device, &ok);
  out->number = sim_dup_text(m.number, &ok);
  out->username = sim_dup_text(m.username, &ok);
  out->dns = dup_texts(m.dns, m.ndns, &out->ndns, &ok);
  out->pppd_options = dup_texts(m.pppd_options, m.npppd_options, &out->npppd_options, &ok);
  if (ok) return 0;
  sim_free_props(out);
  return -1;
}

void sim_free_scenario(scenario *sc) {
  free(sc->name);
  free(sc->username);
  sim_free_secret(&sc->password);
  if (sc->states != sim_default_states) free(sc->states);
  free(sc->projection);
  sim_free_props(&sc->props);
  sim_forget_saved(&sc->saved);
  free(sc);
}

void sim_forget_saved(saved_credentials *t) {
  sim_free_secret(&t->user);
  sim_free_secret(&t->domain);
  sim_free_secret(&t->password);
  sim_free_secret(&t->psk);
}

void sim_scenario_unref(scenario *sc) {
  if (--sc->refs == 0) sim_free_scenario(sc);
}

void sim_set_defaults(scenario *sc) {
  sc->states = (unsigned char *)sim_default_states;
  sc->nstates = sizeof sim_default_states;
  sc->step = 0.01;
  sc->fail_at = -1;
  sc->drop_after = -1;
  sc->speed = -1;
  sc->frame_size = 1500;
  strcpy(sc->device_type, "modem");
  strcpy(sc->device_name, "Simulated Modem");
}

/* A copy of the projection option, its addresses defaulting to the
 * status ones and the other way round; NULL when out of memory. */
static ras_projection *copy_projection(scenario *sc, const projection_config *cf) {
  ras_projection *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  sim_copy_text(p->interface, sizeof p->interface, cf->interface);
  p->has_ipv4 = cf->has_ipv4 || sc->local_address[0] || sc->remote_address[0];
  sim_copy_text(p->ipv4_address, sizeof p->ipv4_address,
                cf->ipv4.address ? cf->ipv4.address : sc->local_address);
  sim_copy_text(p->ipv4_server_address, sizeof p->ipv4_server_address,
                cf->ipv4.server_address ? cf->ipv4.server_address : sc->remote_address);
  for (size_t i = 0; i < cf->ipv4.ndns && i < RAS_MAX_DNS; i++)
    sim_copy_text(p->dns[p->ndns++], sizeof p->dns[0], cf->ipv4.dns[i]);
  p->has_ipv6 = cf->has_ipv6;
  sim_copy_text(p->ipv6_interface_id, sizeof p->ipv6_interface_id, cf->ipv6.interface_id);
  sim_copy_text(p->ipv6_server_interface_id, sizeof p->ipv6_server_interface_id,
                cf->ipv6.server_interface_id);
  p->auth = cf->auth_protocol ? 1u << (cf->auth_protocol - 1) : 0;
  sim_copy_text(p->encryption, sizeof p->encryption, cf->encryption);
  sim_copy_text(p->compression, sizeof p->compression, cf->compression);
  if (!sc->local_address[0])
    sim_copy_text(sc->local_address, sizeof sc->local_address, p->ipv4_address);
  if (!sc->remote_address[0])
    sim_copy_text(sc->remote_address, sizeof sc->remote_address, p->ipv4_server_address);
  return p;
}

/* A seeded entry: a modem on the scenario's device. 0 when out of memory. */
int sim_copy_scenario(scenario *sc, const scenario_config *cf) {
  int ok = 1;
  sim_set_defaults(sc);
  sc->refs = 1;
  sc->name = sim_dup_text(cf->name, &ok);
  sc->username = sim_dup_text(cf->username, &ok);
  sc->password = sim_dup_text(cf->password, &ok);
  if (cf->has_states) {
    sc->states = malloc(cf->nstates ? cf->nstates : 1);
    if (!sc->states) return 0;
    for (size_t i = 0; i < cf->nstates; i++) sc->states[i] = (unsigned char)cf->states[i];
    sc->nstates = cf->nstates;
  }
  sc->step = cf->step;
  if (cf->has_fail) {
    sc->fail_at = cf->fail.at;
    sc->fail_error = (int)cf->fail.error;
  }
  sc->callback = cf->callback;
  sc->password_expired = cf->password_expired;
  sc->drop_after = cf->drop_after;
  sc->hangup_delay = cf->hangup_delay;
  sc->speed = cf->speed;
  sc->sent_rate = (double)cf->bytes_sent_per_second;
  sc->received_rate = (double)cf->bytes_received_per_second;
  sc->frame_size = (double)cf->frame_size;
  sc->error_rate = (double)cf->errors_per_second;
  sim_copy_text(sc->device_type, sizeof sc->device_type, cf->device_type);
  sim_copy_text(sc->device_name, sizeof sc->device_name, cf->device_name);
  sim_copy_text(sc->local_address, sizeof sc->local_address, cf->local_address);
  sim_copy_text(sc->remote_address, sizeof sc->remote_address, cf->remote_address);
  if (cf->has_projection && !(sc->projection = copy_projection(sc, &cf->projection))) return 0;
  sc->props.type = RAS_TYPE_MODEM;
  sc->props.device = sim_dup_text(sc->device_name, &ok);
  if (sc->props.device) sc->props.given = RAS_ENTRY_TYPE | RAS_ENTRY_DEVICE;
  return ok;
}
