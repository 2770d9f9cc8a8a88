/*
 * schema.h - how a backend describes the options it takes, as plain data.
 *
 * The binding (options.c) is the only code that reads Lua values: it walks
 * a backend's schema, validates the options table against it (known keys,
 * types, lengths, NUL bytes, integer ranges, seconds) and fills the
 * backend's own config struct, which open() then receives. No backend sees
 * a lua_State.
 *
 * Strings and arrays in a filled config belong to the binding and stay
 * valid only during open(): a backend copies what it keeps.
 */
#ifndef RAS_SCHEMA_H
#define RAS_SCHEMA_H

#include <stddef.h>

/* Seconds at or above this read as "forever" (RAS_FOREVER): no OS clock
 * takes a deadline that far, and no wait needs one. */
#define RAS_MAX_SECONDS 1e9
#define RAS_FOREVER (-1.0)

typedef enum ras_kind {
  RAS_STRING,    /* const char *: at most .max bytes, no NUL; NULL if absent */
  RAS_BOOLEAN,   /* int: 0 or 1 */
  RAS_SECONDS,   /* double >= 0 (> 0 with RAS_POSITIVE); huge: RAS_FOREVER */
  RAS_INTEGER,   /* long long in [.min, .max] */
  RAS_STATE,     /* int: a RASCONNSTATE by name or number (RAS_RUNNING_ONLY) */
  RAS_STRINGS,   /* const char **: an array of strings, count at .count */
  RAS_STATES,    /* int *: an array of states, count at .count */
  RAS_RECORD,    /* a nested table read with .record into the struct at
                  * .offset (inline); .present (an int) tells if it was given */
  RAS_RECORDS,   /* a table of records keyed by name: an array of
                  * .record->size structs at .offset, count at .count; each
                  * record's key string goes to .record->key */
  RAS_HANDLER,   /* binding only: a function or coroutine (dial's on_state) */
  RAS_CHOICE,    /* int: one of .choices by name, stored as its index + 1 */
  RAS_CHOICES,   /* unsigned: an array of .choices names, bit i for choice i */
  RAS_RECORD_ARRAY /* an array t[1], t[2], … of tables read with .record: an
                  * array of .record->size structs at .offset, count at
                  * .count (at most .limit) */
} ras_kind;

enum {
  RAS_REQUIRED = 1,      /* a record without this field is an error */
  RAS_POSITIVE = 2,      /* RAS_SECONDS: 0 is an error too */
  RAS_RUNNING_ONLY = 4   /* RAS_STATE(S): paused and terminal states refused */
};

struct ras_record;

typedef struct ras_field {
  const char *name;
  ras_kind kind;
  size_t offset;                 /* of the value in the struct */
  size_t count;                  /* arrays: offset of their size_t count */
  size_t present;                /* RECORD(_ARRAY), STRINGS, STATES: offset of an
                                  * int set to 1 when given; 0: none */
  long long min, max;            /* INTEGER: range; STRING(S): max bytes */
  size_t limit;                  /* arrays: most items */
  unsigned flags;
  const struct ras_record *record;
  const char *const *choices;    /* CHOICE(S): the names, NULL-terminated */
  unsigned bit;                  /* set in the record's .given mask when the
                                  * field is given; 0: none */
} ras_field;

typedef struct ras_record {
  size_t size;
  const ras_field *fields;       /* ends with a field whose name is NULL */
  size_t key;                    /* RAS_RECORDS: offset of the key string */
  size_t key_max;                /* its most bytes */
  size_t given;                  /* offset of an unsigned mask that collects
                                  * the .bit of every field given; 0: none
                                  * (so the mask never comes first) */
  /* Sets the defaults before the fields are read; may be NULL. */
  void (*init)(void *rec);
  /* Checks across fields once all are read: NULL when fine, else the
   * message, with *field set to the name of the field at fault. */
  const char *(*check)(const void *rec, const char **field);
} ras_record;

#endif
