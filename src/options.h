/*
 * options.h - the binding's one reader of Lua tables: ras.open's options
 * (by a backend's schema), and dial and resume parameters (by the binding's
 * own). Part of the binding: it includes Lua, backends never include it.
 */
#ifndef RAS_OPTIONS_H
#define RAS_OPTIONS_H

#include "lua.h"

#include "compat.h"  /* the 5.4 API on 5.1-5.3 and LuaJIT */
#include "schema.h"

/*
 * Reads the table at index t (0 or a nil value: none, so only defaults) by
 * record r and pushes a userdata of r->size bytes holding the result; the
 * userdata's user value anchors every string and array the result points
 * to, so they live as long as it stays on the stack. Each field is read
 * exactly once, with metamethods honoured; the table's own keys are
 * checked raw. Bad input raises an error naming the field, as
 * "bad NOUN 'path' (why)" or "unknown NOUN 'path'" (NOUN: "option",
 * "parameter"), and never shows a value.
 */
void *opt_read(lua_State *L, int t, const ras_record *r, const char *noun);

/*
 * The same for a flat record (strings, booleans, numbers, handlers: no
 * arrays, no nested records) into the caller's struct, with no Lua object
 * made: the values it points to are left on the stack, above t, until the
 * caller pops them. A RAS_HANDLER field holds the value's stack index.
 */
void opt_read_flat(lua_State *L, int t, const ras_record *r, const char *noun, void *out);

/* Checks argument arg (string, no NUL, at most max bytes, or nil when
 * optional) like the readers do; returns it or NULL. */
const char *opt_check_string(lua_State *L, int arg, size_t max, int optional);

/* Seconds argument arg: nil gives def; NaN and negatives raise; huge gives
 * RAS_FOREVER (< 0). */
double opt_check_seconds(lua_State *L, int arg, double def);

#endif
