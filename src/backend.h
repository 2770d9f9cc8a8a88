/*
 * backend.h - the one internal interface every backend implements.
 *
 * A backend knows how to dial, resume, hang up, read the status of and
 * enumerate connections on one platform. It reports every state change by
 * pushing a ras_event onto the connection's feed (feed.h), from any thread.
 * It never sees Lua: its options arrive as a plain config struct that the
 * binding filled by the backend's schema (schema.h).
 *
 * Calls into a backend come only from the Lua thread, and never while the
 * binding holds a queue lock, so a backend may push from inside its own
 * lock.
 */
#ifndef RAS_BACKEND_H
#define RAS_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "feed.h"
#include "list.h"
#include "os.h"
#include "schema.h"
#include "states.h"

/* RAS limits (ras.h), in bytes of UTF-8: the sizes the binding checks. */
#define RAS_MAX_ENTRY 256
#define RAS_MAX_USER 256
#define RAS_MAX_PASSWORD 256
#define RAS_MAX_DOMAIN 15
#define RAS_MAX_NUMBER 128
#define RAS_MAX_PATH 260
#define RAS_MAX_DEVICE_TYPE 16
#define RAS_MAX_DEVICE_NAME 128

/* Text a backend reports back (entry and device names, paths): Windows'
 * limits count UTF-16 units, and one unit can take 3 bytes of UTF-8. */
#define RAS_TEXT_BYTES(units) (3 * (units) + 1)

/* NULL fields are absent. Strings stay valid only during the call. */
typedef struct ras_dial_params {
  const char *entry, *phonebook, *number;
  const char *username, *password, *domain, *callback_number;
  int paused_states;
} ras_dial_params;

typedef struct ras_resume_params {
  const char *username, *password, *new_password, *domain, *callback_number;
} ras_resume_params;

typedef struct ras_status {
  int state;
  int substate;                   /* RASCONNSUBSTATE; 0: none */
  int error;                      /* 0: none */
  char device_type[RAS_TEXT_BYTES(RAS_MAX_DEVICE_TYPE)];
  char device_name[RAS_TEXT_BYTES(RAS_MAX_DEVICE_NAME)];
  char interface[32];             /* "" when unknown */
  char local_address[64];         /* "" when unknown */
  char remote_address[64];
} ras_status;

/* A connection as an enumeration sees it. Texts live in the list's block
 * (list.h): the caller frees items and texts with one free(). */
typedef struct ras_conn_info {
  uint64_t id;                    /* never reused within a context */
  const char *entry;
  const char *phonebook;
} ras_conn_info;

typedef struct ras_entry_info {
  const char *name;
  const char *phonebook;
} ras_entry_info;

/* The text fields, for ras_list_finish. */
#define RAS_CONN_TEXTS { offsetof(ras_conn_info, entry), offsetof(ras_conn_info, phonebook) }
#define RAS_ENTRY_TEXTS { offsetof(ras_entry_info, name), offsetof(ras_entry_info, phonebook) }

/* Each backend file defines its own struct ras_instance (one opened
 * backend: what a context holds) and struct ras_call (one connection). */
typedef struct ras_instance ras_instance;
typedef struct ras_call ras_call;

typedef struct ras_backend {
  const char *name;
  /* What ras.open(name, options) takes; the binding fills a struct of
   * options->size bytes by it and passes it to open(). */
  const ras_record *options;

  /* Returns the opened backend, or NULL with *err filled and nothing left
   * behind. The config's strings are valid only during the call. */
  ras_instance *(*open)(const void *config, ras_error *err);
  /* The context is closed and every call has been released: stop
   * watching, leave established connections up, free what is local. */
  void (*close)(ras_instance *be);

  /* Starts a dial that reports to feed (take a reference on it) and returns
   * at once. Returns 0, or an error code with *err filled and nothing left
   * behind. *id is the connection's enumeration id. */
  int (*dial)(ras_instance *be, ras_feed *feed, const ras_dial_params *p,
              ras_call **call, uint64_t *id, ras_error *err);
  /* Watches a connection seen by connections(): NULL if it is gone. */
  ras_call *(*attach)(ras_instance *be, ras_feed *feed, uint64_t id,
                      ras_error *err);
  /* Continues a dial that is in a paused state. */
  int (*resume)(ras_call *c, const ras_resume_params *p, ras_error *err);
  /* Starts tearing the connection down; returns at once. */
  int (*hangup)(ras_call *c, ras_error *err);
  /* 0 with *st filled, RAS_ERROR_INVALID_HANDLE once the connection is
   * gone, or another error code. */
  int (*status)(ras_call *c, ras_status *st);
  /* Blocks up to `seconds` (never forever) until the status may have
   * changed (teardown). */
  void (*wait)(ras_call *c, double seconds);
  /* The binding is done with c: drop the feed and whatever is local. An
   * established connection stays up. */
  void (*release)(ras_call *c);

  /* One malloc'd block each (list.h: the caller frees it); NULL with *err
   * on failure. */
  ras_conn_info *(*connections)(ras_instance *be, size_t *n, ras_error *err);
  ras_entry_info *(*entries)(ras_instance *be, const char *phonebook,
                             size_t *n, ras_error *err);
  /* Text the OS has for an error code, or NULL (then the module's own). */
  const char *(*error_text)(int code, char *buf, size_t size);
} ras_backend;

/* backends.c: every backend compiled in, the platform's default first and
 * the simulator last; NULL-terminated. The only place that selects them. */
extern const ras_backend *const ras_backends[];

#endif
