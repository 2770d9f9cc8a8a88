/*
 * entries.c - the binding of phone-book entries and saved credentials:
 * ctx.entry, create_entry, update_entry, rename_entry, delete_entry,
 * validate_entry_name, credentials, set_credentials, clear_credentials.
 *
 * One schema (entry_fields) for every backend: properties are checked
 * here, before anything is written, and reach the backend as a ras_entry
 * whose .given bits say what was set. A backend that cannot express a
 * property says so with RAS_BAD_ARGUMENT (raised) or an error code.
 */
#include <string.h>

#include "binding.h"
#include "options.h"

static const char *const type_names[] = { "modem", "vpn", "broadband", "direct", NULL };
static const char *const vpn_names[] = { "auto", "pptp", "l2tp", "sstp", "ikev2", NULL };
static const char *const auth_names[] = { "pap", "chap", "mschapv2", "eap", NULL };
static const char *const encryption_names[] = { "none", "optional", "required", "maximum",
                                                NULL };

/* ---------------------------------------------------------------------- */
/* the schema                                                             */

static const ras_field redial_fields[] = {
  { .name = "attempts", .kind = RAS_INTEGER, .offset = offsetof(ras_entry, redial.attempts),
    .min = 0, .max = 999 },
  { .name = "interval", .kind = RAS_SECONDS, .offset = offsetof(ras_entry, redial.interval) },
  { .name = NULL }
};

/* The redial record is read inline into the entry: its offsets are the
 * entry's, so the nested record starts at offset 0. */
static const ras_record redial_record = { .size = sizeof(ras_entry), .fields = redial_fields };

#define ENTRY_FIELD(field, k, b) \
  .name = #field, .kind = (k), .offset = offsetof(ras_entry, field), .bit = (b)

static const ras_field entry_fields[] = {
  { ENTRY_FIELD(name, RAS_STRING, RAS_ENTRY_NAME), .max = RAS_MAX_ENTRY },
  { ENTRY_FIELD(phonebook, RAS_STRING, RAS_ENTRY_PHONEBOOK), .max = RAS_MAX_PATH },
  { ENTRY_FIELD(type, RAS_CHOICE, RAS_ENTRY_TYPE), .choices = type_names },
  { ENTRY_FIELD(device, RAS_STRING, RAS_ENTRY_DEVICE), .max = RAS_MAX_DEVICE_NAME },
  { ENTRY_FIELD(number, RAS_STRING, RAS_ENTRY_NUMBER), .max = RAS_MAX_NUMBER },
  { ENTRY_FIELD(vpn, RAS_CHOICE, RAS_ENTRY_VPN), .choices = vpn_names },
  { ENTRY_FIELD(auth, RAS_CHOICES, RAS_ENTRY_AUTH), .choices = auth_names, .limit = 4 },
  { ENTRY_FIELD(encryption, RAS_CHOICE, RAS_ENTRY_ENCRYPTION), .choices = encryption_names },
  { ENTRY_FIELD(default_gateway, RAS_BOOLEAN, RAS_ENTRY_DEFAULT_GATEWAY) },
  { ENTRY_FIELD(dns, RAS_STRINGS, RAS_ENTRY_DNS), .count = offsetof(ras_entry, ndns),
    .max = RAS_MAX_ADDRESS - 1, .limit = RAS_MAX_DNS },
  { ENTRY_FIELD(use_peer_dns, RAS_BOOLEAN, RAS_ENTRY_USE_PEER_DNS) },
  { ENTRY_FIELD(ipv4, RAS_BOOLEAN, RAS_ENTRY_IPV4) },
  { ENTRY_FIELD(ipv6, RAS_BOOLEAN, RAS_ENTRY_IPV6) },
  { ENTRY_FIELD(idle_disconnect, RAS_SECONDS, RAS_ENTRY_IDLE_DISCONNECT) },
  { .name = "redial", .kind = RAS_RECORD, .offset = 0, .record = &redial_record,
    .bit = RAS_ENTRY_REDIAL },
  { ENTRY_FIELD(username, RAS_STRING, RAS_ENTRY_USERNAME), .max = RAS_MAX_USER },
  { ENTRY_FIELD(pppd_options, RAS_STRINGS, RAS_ENTRY_PPPD_OPTIONS),
    .count = offsetof(ras_entry, npppd_options), .max = RAS_MAX_PPPD_WORD,
    .limit = RAS_MAX_PPPD_OPTIONS },
  { .name = NULL }
};

/* An address as servers are written: IPv4 dotted or IPv6 hex and colons.
 * The backend parses it; this keeps anything else (spaces, quotes,
 * newlines) from ever reaching a file. */
static int address_like(const char *s) {
  int colons = 0, dots = 0;
  if (!*s) return 0;
  for (; *s; s++) {
    if (*s == ':') colons++;
    else if (*s == '.') dots++;
    else if (!strchr("0123456789abcdefABCDEF", *s)) return 0;
  }
  return colons >= 2 || (dots == 3 && !colons);
}

static const char *check_common(const ras_entry *e, const char **field) {
  for (size_t i = 0; i < e->ndns; i++)
    if (!address_like(e->dns[i])) return *field = "dns", "not an IPv4 or IPv6 address";
  if ((e->given & RAS_ENTRY_DNS) && e->ndns && (e->given & RAS_ENTRY_USE_PEER_DNS) &&
      e->use_peer_dns)
    return *field = "use_peer_dns", "cannot be true when dns lists servers";
  if ((e->given & RAS_ENTRY_VPN) && (e->given & RAS_ENTRY_TYPE) && e->type != RAS_TYPE_VPN)
    return *field = "vpn", "needs type \"vpn\"";
  if ((e->given & RAS_ENTRY_NAME) && !e->name[0]) return *field = "name", "empty";
  return NULL;
}

static const char *check_create(const void *rec, const char **field) {
  const ras_entry *e = rec;
  if (!(e->given & RAS_ENTRY_NAME)) return *field = "name", "missing";
  if (!(e->given & RAS_ENTRY_TYPE)) return *field = "type", "missing";
  return check_common(e, field);
}

static const char *check_update(const void *rec, const char **field) {
  const ras_entry *e = rec;
  if (e->given & RAS_ENTRY_NAME) return *field = "name", "use rename_entry to change it";
  if (e->given & RAS_ENTRY_PHONEBOOK)
    return *field = "phonebook", "give the phonebook as update_entry's third argument";
  return check_common(e, field);
}

static const ras_record create_record = {
  .size = sizeof(ras_entry), .fields = entry_fields, .given = offsetof(ras_entry, given),
  .check = check_create
};

static const ras_record update_record = {
  .size = sizeof(ras_entry), .fields = entry_fields, .given = offsetof(ras_entry, given),
  .check = check_update
};

typedef struct credentials_request {
  ras_credentials c;
  unsigned given;
} credentials_request;

#define CRED_FIELD(field, most) \
  { .name = #field, .kind = RAS_STRING, .offset = offsetof(credentials_request, c.field), \
    .max = (most), .bit = 1 }

static const ras_field credentials_fields[] = {
  CRED_FIELD(username, RAS_MAX_USER), CRED_FIELD(password, RAS_MAX_PASSWORD),
  CRED_FIELD(domain, RAS_MAX_DOMAIN), CRED_FIELD(psk, RAS_MAX_PASSWORD),
  { .name = NULL }
};

static const char *check_credentials(const void *rec, const char **field) {
  if (!((const credentials_request *)rec)->given)
    return *field = "username", "nothing to set: give username, password, domain or psk";
  return NULL;
}

static const ras_record credentials_record = {
  .size = sizeof(credentials_request), .fields = credentials_fields,
  .given = offsetof(credentials_request, given), .check = check_credentials
};

/* ---------------------------------------------------------------------- */
/* helpers                                                                */

/* Whether the backend has op; if not, pushes nil, message, 120. */
#define SUPPORTED(L, ctx, op, what) \
  ((ctx)->backend->op ? 0 : bind_push_unsupported((L), (ctx), (what)))

static const char *check_name(lua_State *L, int arg) {
  return opt_check_string(L, arg, RAS_MAX_ENTRY, 0);
}

static const char *opt_phonebook(lua_State *L, int arg) {
  return opt_check_string(L, arg, RAS_MAX_PATH, 1);
}

static int push_result(lua_State *L, int rc, const ras_error *err) {
  if (rc != 0) return bind_push_error_or_raise(L, err);
  lua_pushboolean(L, 1);
  return 1;
}

static void set_string(lua_State *L, const char *key, const char *value) {
  if (!value) return;
  lua_pushstring(L, value);
  lua_setfield(L, -2, key);
}

static void set_boolean(lua_State *L, const char *key, int value) {
  lua_pushboolean(L, value);
  lua_setfield(L, -2, key);
}

static void set_choice(lua_State *L, const char *key, const char *const *names, int value) {
  int n = 0;
  while (names[n]) n++;
  if (value >= 1 && value <= n) set_string(L, key, names[value - 1]);
}

static void set_strings(lua_State *L, const char *key, const char **items, size_t n) {
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring(L, items[i] ? items[i] : "");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, key);
}

/* Pushes the properties the backend could tell. */
static void push_entry(lua_State *L, const ras_entry *e, const char *name,
                       const char *phonebook) {
  unsigned g = e->given;
  lua_createtable(L, 0, 18);
  set_string(L, "name", (g & RAS_ENTRY_NAME) && e->name ? e->name : name);
  set_string(L, "phonebook", (g & RAS_ENTRY_PHONEBOOK) && e->phonebook ? e->phonebook : phonebook);
  if (g & RAS_ENTRY_TYPE) set_choice(L, "type", type_names, e->type);
  if (g & RAS_ENTRY_DEVICE) set_string(L, "device", e->device);
  if (g & RAS_ENTRY_NUMBER) set_string(L, "number", e->number);
  if (g & RAS_ENTRY_VPN) set_choice(L, "vpn", vpn_names, e->vpn);
  if (g & RAS_ENTRY_AUTH) {
    lua_newtable(L);
    for (int i = 0, k = 0; auth_names[i]; i++)
      if (e->auth & (1u << i)) {
        lua_pushstring(L, auth_names[i]);
        lua_rawseti(L, -2, ++k);
      }
    lua_setfield(L, -2, "auth");
  }
  if (g & RAS_ENTRY_ENCRYPTION) set_choice(L, "encryption", encryption_names, e->encryption);
  if (g & RAS_ENTRY_DEFAULT_GATEWAY) set_boolean(L, "default_gateway", e->default_gateway);
  if (g & RAS_ENTRY_DNS) set_strings(L, "dns", e->dns, e->ndns);
  if (g & RAS_ENTRY_USE_PEER_DNS) set_boolean(L, "use_peer_dns", e->use_peer_dns);
  if (g & RAS_ENTRY_IPV4) set_boolean(L, "ipv4", e->ipv4);
  if (g & RAS_ENTRY_IPV6) set_boolean(L, "ipv6", e->ipv6);
  if (g & RAS_ENTRY_IDLE_DISCONNECT) {
    lua_pushnumber(L, e->idle_disconnect);
    lua_setfield(L, -2, "idle_disconnect");
  }
  if (g & RAS_ENTRY_REDIAL) {
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, (lua_Integer)e->redial.attempts);
    lua_setfield(L, -2, "attempts");
    lua_pushnumber(L, e->redial.interval);
    lua_setfield(L, -2, "interval");
    lua_setfield(L, -2, "redial");
  }
  if (g & RAS_ENTRY_USERNAME) set_string(L, "username", e->username);
  if (g & RAS_ENTRY_PPPD_OPTIONS) set_strings(L, "pppd_options", e->pppd_options, e->npppd_options);
}

/* ---------------------------------------------------------------------- */
/* the functions                                                          */

static int ctx_entry(lua_State *L) {
  context *ctx = bind_open_context(L);
  const char *name = check_name(L, 1), *phonebook = opt_phonebook(L, 2);
  ras_entry e;
  ras_error err;
  ras_arena *arena;
  int rc;
  if (SUPPORTED(L, ctx, entry, "reading entries")) return 3;
  lua_settop(L, 2);
  arena = bind_new_arena(L);                    /* 3: freed with the answer */
  memset(&e, 0, sizeof e);
  rc = ctx->backend->entry(ctx->instance, name, phonebook, &e, arena, &err);
  if (rc == 0 && arena->failed)
    rc = ras_fail(&err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  if (rc != 0) {
    ras_arena_free(arena);
    return bind_push_error_or_raise(L, &err);
  }
  push_entry(L, &e, name, phonebook);
  ras_arena_free(arena);
  return 1;
}

static int ctx_create_entry(lua_State *L) {
  context *ctx = bind_open_context(L);
  ras_entry *e;
  ras_error err;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  e = opt_read(L, 1, &create_record, "property");    /* 2: anchors its values */
  if (SUPPORTED(L, ctx, create_entry, "creating entries")) return 3;
  return push_result(L, ctx->backend->create_entry(ctx->instance, e, &err), &err);
}

static int ctx_update_entry(lua_State *L) {
  context *ctx = bind_open_context(L);
  const char *name = check_name(L, 1), *phonebook = opt_phonebook(L, 3);
  ras_entry *e;
  ras_error err;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 3);
  e = opt_read(L, 2, &update_record, "property");
  if (SUPPORTED(L, ctx, update_entry, "changing entries")) return 3;
  return push_result(L, ctx->backend->update_entry(ctx->instance, name, phonebook, e, &err),
                     &err);
}

static int ctx_rename_entry(lua_State *L) {
  context *ctx = bind_open_context(L);
  const char *old_name = check_name(L, 1), *new_name = check_name(L, 2);
  const char *phonebook = opt_phonebook(L, 3);
  ras_error err;
  luaL_argcheck(L, new_name[0], 2, "empty name");
  if (SUPPORTED(L, ctx, rename_entry, "renaming entries")) return 3;
  return push_result(L, ctx->backend->rename_entry(ctx->instance, old_name, new_name,
                                                   phonebook, &err), &err);
}

static int ctx_delete_entry(lua_State *L) {
  context *ctx = bind_open_context(L);
  const char *name = check_name(L, 1), *phonebook = opt_phonebook(L, 2);
  ras_error err;
  if (SUPPORTED(L, ctx, delete_entry, "deleting entries")) return 3;
  return push_result(L, ctx->backend->delete_entry(ctx->instance, name, phonebook, &err), &err);
}

/* A name that cannot be an entry's is an answer here (nil, msg, 123),
 * not a bad argument: validating names is what the call is for. */
static int ctx_validate_entry_name(lua_State *L) {
  context *ctx = bind_open_context(L);
  const char *phonebook = opt_phonebook(L, 2);
  size_t len;
  const char *name = luaL_checklstring(L, 1, &len);
  ras_error err;
  if (strlen(name) != len || len == 0 || len > RAS_MAX_ENTRY)
    return bind_push_failure(L, ras_error_text(RAS_ERROR_INVALID_NAME), RAS_ERROR_INVALID_NAME);
  if (SUPPORTED(L, ctx, validate_entry_name, "validating entry names")) return 3;
  return push_result(L, ctx->backend->validate_entry_name(ctx->instance, name, phonebook, &err),
                     &err);
}

static int ctx_credentials(lua_State *L) {
  context *ctx = bind_open_context(L);
  const char *name = check_name(L, 1), *phonebook = opt_phonebook(L, 2);
  ras_credentials_info info;
  ras_error err;
  int rc;
  if (SUPPORTED(L, ctx, credentials, "reading credentials")) return 3;
  memset(&info, 0, sizeof info);
  rc = ctx->backend->credentials(ctx->instance, name, phonebook, &info, &err);
  if (rc != 0) return bind_push_error_or_raise(L, &err);
  lua_createtable(L, 0, 4);
  if (info.username[0]) set_string(L, "username", info.username);
  if (info.domain[0]) set_string(L, "domain", info.domain);
  set_boolean(L, "saved_password", info.saved_password);
  set_boolean(L, "saved_psk", info.saved_psk);
  return 1;
}

static int ctx_set_credentials(lua_State *L) {
  context *ctx = bind_open_context(L);
  const char *name = check_name(L, 1), *phonebook = opt_phonebook(L, 3);
  credentials_request *r;
  ras_error err;
  int rc;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 3);
  r = opt_read(L, 2, &credentials_record, "credential");   /* 4 */
  if (SUPPORTED(L, ctx, set_credentials, "saving credentials")) return 3;
  rc = ctx->backend->set_credentials(ctx->instance, name, phonebook, &r->c, &err);
  os_wipe(r, sizeof *r);   /* the pointers to the secrets; Lua owns the strings */
  return push_result(L, rc, &err);
}

static int ctx_clear_credentials(lua_State *L) {
  context *ctx = bind_open_context(L);
  const char *name = check_name(L, 1), *phonebook = opt_phonebook(L, 2);
  ras_error err;
  if (SUPPORTED(L, ctx, clear_credentials, "clearing credentials")) return 3;
  return push_result(L, ctx->backend->clear_credentials(ctx->instance, name, phonebook, &err),
                     &err);
}

const luaL_Reg bind_entry_functions[] = {
  { "entry", ctx_entry }, { "create_entry", ctx_create_entry },
  { "update_entry", ctx_update_entry }, { "rename_entry", ctx_rename_entry },
  { "delete_entry", ctx_delete_entry }, { "validate_entry_name", ctx_validate_entry_name },
  { "credentials", ctx_credentials }, { "set_credentials", ctx_set_credentials },
  { "clear_credentials", ctx_clear_credentials },
  { NULL, NULL }
};
