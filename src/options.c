/*
 * options.c - reads Lua tables into plain C structs by a schema (schema.h).
 *
 * Rules that keep a hostile table from hurting us:
 * - a table's own keys are walked raw (lua_next runs no Lua code), so an
 *   unknown key is found before any metamethod runs;
 * - each field is then read exactly once with lua_getfield (metamethods
 *   honoured), and its value anchored before anything else can run, so a
 *   string we point to cannot be collected while we use it;
 * - arrays grow as they are read (never sized by one traversal and filled
 *   by another that runs Lua code), and are bounded;
 * - every result lives in Lua memory owned by one userdata: an error
 *   anywhere, out of memory included, leaks nothing.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "options.h"
#include "states.h"

#define PATH_MAX_TEXT 160

typedef struct reader {
  lua_State *L;
  int anchor;                   /* stack index of the anchor table; 0: the
                                 * values stay on the stack (flat records) */
  lua_Integer anchored;         /* values in it */
  int kept;                     /* the value just read stays on the stack */
  const char *noun;
  char path[PATH_MAX_TEXT + 8];
  size_t pathlen;
  size_t item;                  /* reading item [item] of an array; 0: none */
} reader;

/* ---------------------------------------------------------------------- */
/* naming the field at fault                                              */

/* Appends a key to the path: `.name` (or `name` first), `[i]` for items.
 * Plain copies: it runs for every field read. */
static size_t path_push(reader *rd, const char *name, size_t len, int item) {
  size_t old = rd->pathlen, room = PATH_MAX_TEXT - rd->pathlen;
  char *p = rd->path + rd->pathlen;
  const char *open = item ? "[" : old ? "." : "";
  size_t open_len = strlen(open), close_len = item ? 1 : 0;
  if (len + open_len + close_len > room) len = room > open_len + close_len ? room - open_len - close_len : 0;
  memcpy(p, open, open_len);
  memcpy(p + open_len, name, len);
  if (item) p[open_len + len] = ']';
  rd->pathlen += open_len + len + close_len;
  rd->path[rd->pathlen] = '\0';
  return old;
}

static void path_pop(reader *rd, size_t old) {
  rd->pathlen = old;
  rd->path[old] = '\0';
}

/* The path of the field at fault; an array item's index is added only
 * here, so that reading a million items formats nothing. */
static const char *fault_path(reader *rd) {
  if (rd->item) {
    char num[24];
    snprintf(num, sizeof num, "%zu", rd->item);
    rd->item = 0;
    path_push(rd, num, strlen(num), 1);
  }
  return rd->path;
}

static int fail(reader *rd, const char *why) {
  const char *path = fault_path(rd);
  return luaL_error(rd->L, "bad %s '%s' (%s)", rd->noun, path, why);
}

static int fail_type(reader *rd, const char *expected, int idx) {
  const char *path = fault_path(rd);
  return luaL_error(rd->L, "bad %s '%s' (%s expected, got %s)", rd->noun, path,
                    expected, luaL_typename(rd->L, idx));
}

/* A key as text for a message: printable bytes only, never a metamethod. */
static void describe_key(lua_State *L, int idx, char *out, size_t size) {
  if (lua_type(L, idx) == LUA_TSTRING) {
    size_t len, j = 0;
    const char *s = lua_tolstring(L, idx, &len);
    for (size_t i = 0; i < len && j + 5 < size; i++) {
      unsigned char ch = (unsigned char)s[i];
      if (ch >= 0x20 && ch < 0x7f && ch != '\'') out[j++] = (char)ch;
      else j += (size_t)snprintf(out + j, size - j, "\\%d", ch);
    }
    out[j] = '\0';
  } else if (lua_isinteger(L, idx)) {
    snprintf(out, size, "%lld", (long long)lua_tointeger(L, idx));
  } else if (lua_type(L, idx) == LUA_TNUMBER) {
    snprintf(out, size, "%.14g", (double)lua_tonumber(L, idx));
  } else if (lua_type(L, idx) == LUA_TBOOLEAN) {
    snprintf(out, size, "%s", lua_toboolean(L, idx) ? "true" : "false");
  } else {
    snprintf(out, size, "<%s>", luaL_typename(L, idx));
  }
}

/* ---------------------------------------------------------------------- */
/* values                                                                 */

/* Keeps the value at the top alive with the result; leaves it in place.
 * Returns where it is kept: its anchor index, or (flat) its stack index. */
static lua_Integer anchor_top(reader *rd) {
  if (!rd->anchor) {            /* flat: it stays where it is */
    rd->kept = 1;
    return lua_gettop(rd->L);
  }
  lua_pushvalue(rd->L, -1);
  lua_rawseti(rd->L, rd->anchor, ++rd->anchored);
  return rd->anchored;
}

static const char *read_string(reader *rd, int idx, long long max) {
  size_t len;
  const char *s;
  char why[64];
  if (lua_type(rd->L, idx) != LUA_TSTRING) fail_type(rd, "string", idx);
  s = lua_tolstring(rd->L, idx, &len);
  if (strlen(s) != len) fail(rd, "contains a NUL byte");
  if (max > 0 && len > (size_t)max) {
    snprintf(why, sizeof why, "longer than %lld bytes", max);
    fail(rd, why);
  }
  return s;
}

static double read_seconds(reader *rd, int idx, unsigned flags) {
  double v;
  if (lua_type(rd->L, idx) != LUA_TNUMBER) fail_type(rd, "number of seconds", idx);
  v = (double)lua_tonumber(rd->L, idx);
  if (isnan(v)) fail(rd, "not a number");
  if (v < 0) fail(rd, "must be >= 0");
  if (v == 0 && (flags & RAS_POSITIVE)) fail(rd, "must be > 0");
  return v >= RAS_MAX_SECONDS ? RAS_FOREVER : v;
}

static long long read_integer(reader *rd, int idx, long long min, long long max) {
  int exact;
  lua_Integer v;
  char why[96];
  if (lua_type(rd->L, idx) != LUA_TNUMBER) fail_type(rd, "integer", idx);
  v = lua_tointegerx(rd->L, idx, &exact);
  if (!exact) fail(rd, "integer expected, got a fraction or a number out of range");
  if (v < min || v > max) {
    snprintf(why, sizeof why, "out of range %lld..%lld", min, max);
    fail(rd, why);
  }
  return (long long)v;
}

static int read_state(reader *rd, int idx, unsigned flags) {
  int state = -1;
  char why[96];
  if (lua_type(rd->L, idx) == LUA_TSTRING) {
    size_t len;
    const char *name = lua_tolstring(rd->L, idx, &len);
    if (strlen(name) == len) state = ras_state_value(name);
  } else if (lua_type(rd->L, idx) == LUA_TNUMBER) {
    int exact;
    lua_Integer v = lua_tointegerx(rd->L, idx, &exact);
    if (exact && v >= 0 && v <= INT32_MAX && ras_state_name((int)v)) state = (int)v;
  } else {
    fail_type(rd, "state name or number", idx);
  }
  if (state < 0) fail(rd, "unknown state");
  if ((flags & RAS_RUNNING_ONLY) && ras_state_group(state) != RAS_GROUP_RUNNING) {
    snprintf(why, sizeof why, "running states only, got %s", ras_state_name(state));
    fail(rd, why);
  }
  return state;
}

/* A name among choices: its index + 1. */
static int read_choice(reader *rd, int idx, const char *const *choices) {
  size_t len;
  const char *s;
  char why[160];
  size_t used = 0;
  if (lua_type(rd->L, idx) != LUA_TSTRING) fail_type(rd, "string", idx);
  s = lua_tolstring(rd->L, idx, &len);
  for (int i = 0; choices[i]; i++)
    if (strlen(choices[i]) == len && memcmp(choices[i], s, len) == 0) return i + 1;
  used = (size_t)snprintf(why, sizeof why, "expected one of");
  for (int i = 0; choices[i] && used < sizeof why; i++)
    used += (size_t)snprintf(why + used, sizeof why - used, "%s \"%s\"", i ? "," : "", choices[i]);
  return fail(rd, why);
}

/* ---------------------------------------------------------------------- */
/* arrays: grown as read, in anchored userdata                            */

typedef void (*item_reader)(reader *rd, int idx, const ras_field *f, void *slot);

static void read_record(reader *rd, int t, const ras_record *r, char *base);

static void string_item(reader *rd, int idx, const ras_field *f, void *slot) {
  *(const char **)slot = read_string(rd, idx, f->max);
  anchor_top(rd);
}

static void state_item(reader *rd, int idx, const ras_field *f, void *slot) {
  *(int *)slot = read_state(rd, idx, f->flags);
}

/* An array of choice names into a mask: read with read_array's rules
 * (bounded, metamethods honoured once) into ints, then folded. */
static void choice_item(reader *rd, int idx, const ras_field *f, void *slot) {
  *(int *)slot = read_choice(rd, idx, f->choices);
}

/* An item that is a record: its fields' paths go below "[i]" (formatted
 * per item: record arrays are short). Each item starts zeroed. */
static void record_item(reader *rd, int idx, const ras_field *f, void *slot) {
  char num[24];
  size_t old;
  if (!lua_istable(rd->L, idx)) fail_type(rd, "table", idx);
  snprintf(num, sizeof num, "%zu", rd->item);
  rd->item = 0;
  old = path_push(rd, num, strlen(num), 1);
  memset(slot, 0, f->record->size);
  read_record(rd, idx, f->record, slot);
  path_pop(rd, old);
}

/* Reads t[1], t[2], … (metamethods honoured) up to the first nil. */
static void read_array(reader *rd, int t, const ras_field *f, char *base,
                       size_t item_size, item_reader read_item) {
  lua_State *L = rd->L;
  size_t cap = 0, n = 0;
  char *items = NULL;
  if (!lua_istable(L, t)) fail_type(rd, "table", t);
  for (;;) {
    char num[40];
    if (lua_geti(L, t, (lua_Integer)n + 1) == LUA_TNIL) {
      lua_pop(L, 1);
      break;
    }
    if (n == f->limit) {
      snprintf(num, sizeof num, "more than %zu items", f->limit);
      fail(rd, num);
    }
    if (n == cap) {   /* grow: a new block, the old one left to the GC */
      char *bigger;
      cap = cap ? cap * 2 : 8;
      if (cap > f->limit) cap = f->limit;
      bigger = lua_newuserdatauv(L, cap * item_size, 0);
      if (n) memcpy(bigger, items, n * item_size);
      items = bigger;
      anchor_top(rd);
      lua_pop(L, 1);
    }
    rd->item = n + 1;
    read_item(rd, lua_gettop(L), f, items + n * item_size);
    rd->item = 0;
    lua_pop(L, 1);
    n++;
  }
  memcpy(base + f->offset, &items, sizeof items);
  memcpy(base + f->count, &n, sizeof n);
}

/* ---------------------------------------------------------------------- */
/* records                                                                */

/* The index of r's field named key, or -1. */
static int field_index(const ras_record *r, const char *key, size_t len) {
  if (!r) return -1;
  for (const ras_field *f = r->fields; f->name; f++)
    if (f->name[0] == key[0] && strlen(f->name) == len && memcmp(f->name, key, len) == 0)
      return (int)(f - r->fields);
  return -1;
}

/* Every field, for a table whose metatable may answer for absent keys. */
#define ALL_FIELDS (~(uint64_t)0)

/*
 * Raises for the first key of t that the record does not know (raw walk).
 * Returns the fields present: bit i for field i. A table with a metatable
 * (or a record of over 64 fields) has them all, since __index may answer
 * for keys the walk did not see; a plain table needs no lua_getfield for
 * its absent fields, which a dial's dozen mostly are.
 */
static uint64_t check_keys(reader *rd, int t, const ras_record *r) {
  lua_State *L = rd->L;
  uint64_t present = 0;
  int plain = !lua_getmetatable(L, t);
  if (!plain) lua_pop(L, 1);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    size_t len;
    const char *key;
    int i;
    lua_pop(L, 1);
    key = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    i = key ? field_index(r, key, len) : -1;
    if (i < 0) {
      char text[80];
      describe_key(L, lua_gettop(L), text, sizeof text);
      path_push(rd, text, strlen(text), 0);
      luaL_error(L, "unknown %s '%s'", rd->noun, rd->path);
    }
    present |= i < 64 ? (uint64_t)1 << i : ALL_FIELDS;
  }
  return plain ? present : ALL_FIELDS;
}

/* A table of records keyed by name: its pairs are collected raw first, so
 * that no Lua code runs between counting and filling. */
static void read_records(reader *rd, int t, const ras_field *f, char *base) {
  lua_State *L = rd->L;
  const ras_record *r = f->record;
  size_t n = 0;
  char *items;
  int pairs;
  if (!lua_istable(L, t)) fail_type(rd, "table", t);
  lua_newtable(L);
  pairs = lua_gettop(L);
  anchor_top(rd);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    if (n == f->limit) fail(rd, "too many entries");
    lua_pushvalue(L, -2);
    lua_rawseti(L, pairs, (lua_Integer)(2 * n + 1));
    lua_rawseti(L, pairs, (lua_Integer)(2 * n + 2));
    n++;
  }
  items = lua_newuserdatauv(L, n ? n * r->size : 1, 0);
  memset(items, 0, n ? n * r->size : 1);
  anchor_top(rd);
  lua_pop(L, 1);
  for (size_t i = 0; i < n; i++) {
    char *item = items + i * r->size;
    const char *key;
    char text[80];
    size_t old;
    lua_rawgeti(L, pairs, (lua_Integer)(2 * i + 1));
    if (lua_type(L, -1) != LUA_TSTRING) fail(rd, "must be keyed by name");
    describe_key(L, -1, text, sizeof text);
    old = path_push(rd, text, strlen(text), 0);
    key = read_string(rd, -1, (long long)r->key_max);
    memcpy(item + r->key, &key, sizeof key);
    lua_rawgeti(L, pairs, (lua_Integer)(2 * i + 2));
    if (!lua_istable(L, -1)) fail_type(rd, "table", -1);
    read_record(rd, lua_gettop(L), r, item);
    path_pop(rd, old);
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  memcpy(base + f->offset, &items, sizeof items);
  memcpy(base + f->count, &n, sizeof n);
}

/* Reads one present field (its value at the top of the stack). */
static void read_field(reader *rd, const ras_field *f, char *base) {
  lua_State *L = rd->L;
  int v = lua_gettop(L);
  switch (f->kind) {
  case RAS_STRING: {
    const char *s = read_string(rd, v, f->max);
    memcpy(base + f->offset, &s, sizeof s);
    anchor_top(rd);
    break;
  }
  case RAS_BOOLEAN:
    if (!lua_isboolean(L, v)) fail_type(rd, "boolean", v);
    *(int *)(base + f->offset) = lua_toboolean(L, v);
    break;
  case RAS_SECONDS: *(double *)(base + f->offset) = read_seconds(rd, v, f->flags); break;
  case RAS_INTEGER: *(long long *)(base + f->offset) = read_integer(rd, v, f->min, f->max); break;
  case RAS_STATE: *(int *)(base + f->offset) = read_state(rd, v, f->flags); break;
  case RAS_STRINGS:
    read_array(rd, v, f, base, sizeof(const char *), string_item);
    if (f->present) *(int *)(base + f->present) = 1;
    break;
  case RAS_STATES:
    read_array(rd, v, f, base, sizeof(int), state_item);
    if (f->present) *(int *)(base + f->present) = 1;
    break;
  case RAS_RECORD:
    if (!lua_istable(L, v)) fail_type(rd, "table", v);
    read_record(rd, v, f->record, base + f->offset);
    if (f->present) *(int *)(base + f->present) = 1;
    break;
  case RAS_RECORDS: read_records(rd, v, f, base); break;
  case RAS_RECORD_ARRAY:
    read_array(rd, v, f, base, f->record->size, record_item);
    if (f->present) *(int *)(base + f->present) = 1;
    break;
  case RAS_CHOICE: *(int *)(base + f->offset) = read_choice(rd, v, f->choices); break;
  case RAS_CHOICES: {
    ras_field items = *f;
    int *picked;
    size_t n;
    unsigned mask = 0;
    char scratch[sizeof(int *) + sizeof(size_t)];
    items.offset = 0;
    items.count = sizeof(int *);
    read_array(rd, v, &items, scratch, sizeof(int), choice_item);
    memcpy(&picked, scratch, sizeof picked);
    memcpy(&n, scratch + sizeof(int *), sizeof n);
    for (size_t i = 0; i < n; i++) mask |= 1u << (picked[i] - 1);
    *(unsigned *)(base + f->offset) = mask;
    if (f->present) *(int *)(base + f->present) = 1;
    break;
  }
  case RAS_HANDLER:
    if (!lua_isfunction(L, v) && !lua_isthread(L, v))
      fail_type(rd, "function or coroutine", v);
    *(int *)(base + f->offset) = (int)anchor_top(rd);
    break;
  }
}

static void read_record(reader *rd, int t, const ras_record *r, char *base) {
  lua_State *L = rd->L;
  const char *why, *field = NULL;
  uint64_t present;
  if (r && r->init) r->init(base);
  if (!t) return;
  present = check_keys(rd, t, r);
  for (const ras_field *f = r ? r->fields : NULL; f && f->name; f++) {
    size_t i = (size_t)(f - r->fields), old;
    if (i < 64 && !(present >> i & 1)) {     /* absent from a plain table */
      if (f->flags & RAS_REQUIRED) {
        old = path_push(rd, f->name, strlen(f->name), 0);
        fail(rd, "missing");
        path_pop(rd, old);
      }
      continue;
    }
    old = path_push(rd, f->name, strlen(f->name), 0);
    luaL_checkstack(L, 8, "nested options");
    if (lua_getfield(L, t, f->name) == LUA_TNIL) {
      if (f->flags & RAS_REQUIRED) fail(rd, "missing");
    } else {
      read_field(rd, f, base);
      if (f->bit && r->given) *(unsigned *)(base + r->given) |= f->bit;
    }
    if (!rd->kept) lua_settop(L, lua_gettop(L) - 1);
    rd->kept = 0;
    path_pop(rd, old);
  }
  if (r && r->check && (why = r->check(base, &field)) != NULL) {
    size_t old = path_push(rd, field ? field : "?", strlen(field ? field : "?"), 0);
    fail(rd, why);
    path_pop(rd, old);
  }
}

/* ---------------------------------------------------------------------- */
/* entry points                                                           */

void *opt_read(lua_State *L, int t, const ras_record *r, const char *noun) {
  reader rd = { .L = L, .noun = noun };
  void *result;
  if (t) t = lua_absindex(L, t);
  if (t && lua_isnil(L, t)) t = 0;
  if (t) luaL_checktype(L, t, LUA_TTABLE);
  result = lua_newuserdatauv(L, r && r->size ? r->size : 1, 1);
  memset(result, 0, r && r->size ? r->size : 1);
  lua_newtable(L);
  rd.anchor = lua_gettop(L);
  read_record(&rd, t, r, result);
  lua_setiuservalue(L, -2, 1);
  return result;
}

void opt_read_flat(lua_State *L, int t, const ras_record *r, const char *noun, void *out) {
  reader rd = { .L = L, .noun = noun };
  memset(out, 0, r->size);
  read_record(&rd, lua_absindex(L, t), r, out);
}


const char *opt_check_string(lua_State *L, int arg, size_t max, int optional) {
  size_t len;
  const char *s;
  if (optional && lua_isnoneornil(L, arg)) return NULL;
  if (lua_type(L, arg) != LUA_TSTRING) luaL_typeerror(L, arg, "string");
  s = lua_tolstring(L, arg, &len);
  if (strlen(s) != len) luaL_argerror(L, arg, "contains a NUL byte");
  if (len > max) luaL_argerror(L, arg, lua_pushfstring(L, "longer than %d bytes", (int)max));
  return s;
}

double opt_check_seconds(lua_State *L, int arg, double def) {
  double v;
  if (lua_isnoneornil(L, arg)) return def;
  v = (double)luaL_checknumber(L, arg);
  luaL_argcheck(L, !isnan(v), arg, "timeout is not a number");
  luaL_argcheck(L, v >= 0, arg, "timeout must be >= 0");
  return v >= RAS_MAX_SECONDS ? RAS_FOREVER : v;
}
