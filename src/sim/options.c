/*
 * options.c - the schema the binding reads ras.open's table by, for the
 * simulator: the option and scenario fields, their limits and their checks.
 * The binding fills a sim_config (internal.h); backend.c copies it.
 * (spec/reference_spec.lua reads the field names from here.)
 */
#include "internal.h"

static const ras_field fail_fields[] = {
  { .name = "at", .kind = RAS_STATE, .offset = offsetof(fail_config, at),
    .flags = RAS_REQUIRED | RAS_RUNNING_ONLY },
  { .name = "error", .kind = RAS_INTEGER, .offset = offsetof(fail_config, error),
    .min = 1, .max = 0x7fffffff, .flags = RAS_REQUIRED },
  { .name = NULL }
};

static const ras_record fail_record = { .size = sizeof(fail_config), .fields = fail_fields };

/* (the field first: spec/reference_spec.lua reads the names from here) */
#define TEXT(field, type, most) \
  { .name = #field, .kind = RAS_STRING, .offset = offsetof(type, field), .max = (most) }

static const ras_field ipv4_fields[] = {
  TEXT(address, ipv4_config, RAS_MAX_ADDRESS - 1),
  TEXT(server_address, ipv4_config, RAS_MAX_ADDRESS - 1),
  { .name = "dns", .kind = RAS_STRINGS, .offset = offsetof(ipv4_config, dns),
    .count = offsetof(ipv4_config, ndns), .max = RAS_MAX_ADDRESS - 1, .limit = RAS_MAX_DNS },
  { .name = NULL }
};

static const ras_record ipv4_record = { .size = sizeof(ipv4_config), .fields = ipv4_fields };

static const ras_field ipv6_fields[] = {
  TEXT(interface_id, ipv6_config, 31), TEXT(server_interface_id, ipv6_config, 31),
  { .name = NULL }
};

static const ras_record ipv6_record = { .size = sizeof(ipv6_config), .fields = ipv6_fields };

static const char *const auth_names[] = { "pap", "chap", "mschapv2", "eap", NULL };

#define PC(field) offsetof(projection_config, field)

static const ras_field projection_fields[] = {
  TEXT(interface, projection_config, 63),
  { .name = "ipv4", .kind = RAS_RECORD, .offset = PC(ipv4), .present = PC(has_ipv4),
    .record = &ipv4_record },
  { .name = "ipv6", .kind = RAS_RECORD, .offset = PC(ipv6), .present = PC(has_ipv6),
    .record = &ipv6_record },
  { .name = "auth_protocol", .kind = RAS_CHOICE, .offset = PC(auth_protocol),
    .choices = auth_names },
  TEXT(encryption, projection_config, 63), TEXT(compression, projection_config, 63),
  { .name = NULL }
};

static const ras_record projection_record = {
  .size = sizeof(projection_config), .fields = projection_fields
};

#define SC(field) offsetof(scenario_config, field)
#define SC_TEXT(field, most) TEXT(field, scenario_config, most)
/* counts per second and speeds: up to 10^12 (a terabit link) */
#define SC_RATE(field) \
  { .name = #field, .kind = RAS_INTEGER, .offset = SC(field), .min = 0, .max = 1000000000000LL }

static const ras_field scenario_fields[] = {
  SC_TEXT(username, RAS_MAX_USER), SC_TEXT(password, RAS_MAX_PASSWORD),
  { .name = "states", .kind = RAS_STATES, .offset = SC(states), .count = SC(nstates),
    .present = SC(has_states), .limit = 1 << 24, .flags = RAS_RUNNING_ONLY },
  { .name = "step", .kind = RAS_SECONDS, .offset = SC(step) },
  { .name = "fail", .kind = RAS_RECORD, .offset = SC(fail), .present = SC(has_fail),
    .record = &fail_record },
  { .name = "callback", .kind = RAS_BOOLEAN, .offset = SC(callback) },
  { .name = "password_expired", .kind = RAS_BOOLEAN, .offset = SC(password_expired) },
  { .name = "drop_after", .kind = RAS_SECONDS, .offset = SC(drop_after) },
  { .name = "hangup_delay", .kind = RAS_SECONDS, .offset = SC(hangup_delay) },
  SC_TEXT(device_type, RAS_MAX_DEVICE_TYPE), SC_TEXT(device_name, RAS_MAX_DEVICE_NAME),
  SC_TEXT(local_address, 63), SC_TEXT(remote_address, 63),
  SC_RATE(speed), SC_RATE(bytes_sent_per_second), SC_RATE(bytes_received_per_second),
  SC_RATE(frame_size), SC_RATE(errors_per_second),
  { .name = "projection", .kind = RAS_RECORD, .offset = SC(projection),
    .present = SC(has_projection), .record = &projection_record },
  { .name = NULL }
};

static void scenario_init(void *rec) {
  scenario_config *sc = rec;
  sc->step = 0.01;
  sc->drop_after = RAS_FOREVER;
  sc->fail.at = -1;
  sc->speed = -1;
  sc->frame_size = 1500;
}

/* fail.at must be a state the dial reports, or it never fires. */
static const char *scenario_check(const void *rec, const char **field) {
  const scenario_config *sc = rec;
  const unsigned char *list = sim_default_states;
  size_t n = sim_ndefault_states;
  if (!sc->has_fail) return NULL;
  *field = "fail.at";
  if (sc->has_states) {
    for (size_t i = 0; i < sc->nstates; i++)
      if (sc->states[i] == sc->fail.at) return NULL;
    return "not one of the scenario's states";
  }
  for (size_t i = 0; i < n; i++)
    if (list[i] == sc->fail.at) return NULL;
  return "not one of the scenario's states (the default list)";
}

static const ras_record scenario_record = {
  .size = sizeof(scenario_config), .fields = scenario_fields,
  .key = SC(name), .key_max = RAS_MAX_ENTRY,
  .init = scenario_init, .check = scenario_check
};

static const ras_field activity_fields[] = {
  { .name = "at", .kind = RAS_SECONDS, .offset = offsetof(activity_config, at),
    .flags = RAS_REQUIRED },
  TEXT(dial, activity_config, RAS_MAX_ENTRY), TEXT(hangup, activity_config, RAS_MAX_ENTRY),
  { .name = NULL }
};

static const char *activity_check(const void *rec, const char **field) {
  const activity_config *a = rec;
  *field = "dial";
  if (!a->dial == !a->hangup) return "give one of dial and hangup";
  return NULL;
}

static const ras_record activity_record = {
  .size = sizeof(activity_config), .fields = activity_fields, .check = activity_check
};

static const ras_field device_fields[] = {
  { .name = "name", .kind = RAS_STRING, .offset = offsetof(device_config, name),
    .max = RAS_MAX_DEVICE_NAME, .flags = RAS_REQUIRED },
  { .name = "type", .kind = RAS_STRING, .offset = offsetof(device_config, type),
    .max = RAS_MAX_DEVICE_TYPE, .flags = RAS_REQUIRED },
  { .name = NULL }
};

static const ras_record device_record = { .size = sizeof(device_config), .fields = device_fields };

static const ras_field sim_fields[] = {
  { .name = "phonebook", .kind = RAS_STRING, .offset = offsetof(sim_config, phonebook),
    .max = RAS_MAX_PATH },
  { .name = "entries", .kind = RAS_RECORDS, .offset = offsetof(sim_config, entries),
    .count = offsetof(sim_config, nentries), .limit = 1 << 20, .record = &scenario_record },
  { .name = "established", .kind = RAS_STRINGS, .offset = offsetof(sim_config, established),
    .count = offsetof(sim_config, nestablished), .limit = 1 << 20, .max = RAS_MAX_ENTRY },
  { .name = "activity", .kind = RAS_RECORD_ARRAY, .offset = offsetof(sim_config, activity),
    .count = offsetof(sim_config, nactivity), .limit = 1 << 16, .record = &activity_record },
  { .name = "devices", .kind = RAS_RECORD_ARRAY, .offset = offsetof(sim_config, devices),
    .count = offsetof(sim_config, ndevices), .present = offsetof(sim_config, has_devices),
    .limit = 1 << 12, .record = &device_record },
  { .name = NULL }
};

const ras_record sim_record = { .size = sizeof(sim_config), .fields = sim_fields };
