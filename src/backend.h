/*
 * backend.h - the one internal interface every backend implements.
 *
 * A backend knows how to dial, resume, hang up, read the status of and
 * enumerate connections on one platform. It reports every state change by
 * pushing a ras_event onto the connection's ras_link (queue.h), from any
 * thread. It never touches Lua, except in open(), which reads its options.
 *
 * Calls into a backend come only from the Lua thread, and never while the
 * core holds a queue lock, so a backend may push from inside its own lock.
 */
#ifndef RAS_BACKEND_H
#define RAS_BACKEND_H

#include <stdint.h>
#include <stddef.h>

#include "queue.h"
#include "states.h"

/* RAS limits (ras.h): the sizes the Lua side validates against. */
#define RAS_MAX_ENTRY 256
#define RAS_MAX_USER 256
#define RAS_MAX_PASSWORD 256
#define RAS_MAX_DOMAIN 15
#define RAS_MAX_NUMBER 128
#define RAS_MAX_PATH 260
#define RAS_MAX_DEVICE_TYPE 16
#define RAS_MAX_DEVICE_NAME 128

struct lua_State;

typedef struct ras_error {
  int code;
  char message[256];  /* never contains a password */
} ras_error;

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
  int error;                      /* 0: none */
  char device_type[RAS_MAX_DEVICE_TYPE + 1];
  char device_name[RAS_MAX_DEVICE_NAME + 1];
  char interface[32];             /* "" when unknown */
  char local_address[64];         /* "" when unknown */
  char remote_address[64];
} ras_status;

/* A connection as an enumeration sees it. */
typedef struct ras_conn_info {
  uint64_t id;                    /* stable while the connection exists */
  char entry[RAS_MAX_ENTRY + 1];
  char phonebook[RAS_MAX_PATH + 1];
} ras_conn_info;

typedef struct ras_entry_info {
  char name[RAS_MAX_ENTRY + 1];
  char phonebook[RAS_MAX_PATH + 1];
} ras_entry_info;

/* Each backend file defines its own struct ras_call. */
typedef struct ras_call ras_call;

typedef struct ras_backend {
  const char *name;

  /* Reads ras.open()'s options (the table at index `options`, or none when
   * 0) and returns the backend's state, or NULL with *err filled. */
  void *(*open)(struct lua_State *L, int options, ras_error *err);
  /* The Lua context is gone and every call has been released: stop
   * watching, leave established connections up, free what is local. */
  void (*close)(void *be);

  /* Starts a dial that reports to link (take a reference on it) and returns
   * at once. Returns 0, or an error code with *err filled and nothing left
   * behind. *id is the connection's enumeration id. */
  int (*dial)(void *be, ras_link *link, const ras_dial_params *p,
              ras_call **call, uint64_t *id, ras_error *err);
  /* Watches a connection seen by connections(): NULL if it is gone. */
  ras_call *(*attach)(void *be, ras_link *link, uint64_t id, ras_error *err);
  /* Continues a dial that is in a paused state. */
  int (*resume)(ras_call *c, const ras_resume_params *p, ras_error *err);
  /* Starts tearing the connection down; returns at once. */
  int (*hangup)(ras_call *c, ras_error *err);
  /* 0 with *st filled, RAS_ERROR_INVALID_HANDLE once the connection is
   * gone, or another error code. */
  int (*status)(ras_call *c, ras_status *st);
  /* Blocks up to `seconds` until the status may have changed (teardown). */
  void (*wait)(ras_call *c, double seconds);
  /* The Lua side is done with c: drop the link and whatever is local. An
   * established connection stays up. */
  void (*release)(ras_call *c);

  /* malloc'd arrays (the caller frees them); NULL with *err on failure. */
  ras_conn_info *(*connections)(void *be, size_t *n, ras_error *err);
  ras_entry_info *(*entries)(void *be, const char *phonebook, size_t *n,
                             ras_error *err);
  /* Text the OS has for an error code, or NULL (then the module's table). */
  const char *(*error_text)(int code, char *buf, size_t size);
} ras_backend;

extern const ras_backend ras_backend_sim;

/* For open(): pushes a guard that frees `state` with free_state if a Lua
 * error unwinds past it; ras_guard_release (guard at the top) disarms and
 * pops it. */
void *ras_guard_push(struct lua_State *L, void *state, void (*free_state)(void *));
void ras_guard_release(struct lua_State *L, void *guard);
/* Pushes options[name], or nil where there are no options (0). */
int ras_option(struct lua_State *L, int options, const char *name);

/* err->code of a backend that finds the caller's input unusable (text that
 * is not UTF-8, a password longer than pppd takes): the core raises
 * err->message as an error, as it does for its own checks, instead of
 * returning nil, message, code. */
#define RAS_BAD_ARGUMENT (-1)

/* Fills *err; the message is printf-formatted and never holds a secret. */
int ras_fail(ras_error *err, int code, const char *fmt, ...);

#endif
