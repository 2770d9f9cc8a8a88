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
  /* 1 (the default): an entry dialled without a password uses the
   * credentials saved for it, if any; 0: never. */
  int saved_credentials;
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

/* ---------------------------------------------------------------------- */
/* phone-book entries and saved credentials (issue 11)                    */

/* The entry properties, one schema for every backend (the binding's
 * entry_fields). .given says which fields hold a value: what create and
 * update were given, what entry() could tell. */
enum {
  RAS_ENTRY_NAME = 1u << 0, RAS_ENTRY_PHONEBOOK = 1u << 1, RAS_ENTRY_TYPE = 1u << 2,
  RAS_ENTRY_DEVICE = 1u << 3, RAS_ENTRY_NUMBER = 1u << 4, RAS_ENTRY_VPN = 1u << 5,
  RAS_ENTRY_AUTH = 1u << 6, RAS_ENTRY_ENCRYPTION = 1u << 7,
  RAS_ENTRY_DEFAULT_GATEWAY = 1u << 8, RAS_ENTRY_DNS = 1u << 9,
  RAS_ENTRY_USE_PEER_DNS = 1u << 10, RAS_ENTRY_IPV4 = 1u << 11, RAS_ENTRY_IPV6 = 1u << 12,
  RAS_ENTRY_IDLE_DISCONNECT = 1u << 13, RAS_ENTRY_REDIAL = 1u << 14,
  RAS_ENTRY_USERNAME = 1u << 15, RAS_ENTRY_PPPD_OPTIONS = 1u << 16
};

/* Choices are stored as their index + 1 (0: not given). */
enum { RAS_TYPE_MODEM = 1, RAS_TYPE_VPN, RAS_TYPE_BROADBAND, RAS_TYPE_DIRECT };
enum { RAS_VPN_AUTO = 1, RAS_VPN_PPTP, RAS_VPN_L2TP, RAS_VPN_SSTP, RAS_VPN_IKEV2 };
enum { RAS_ENCRYPTION_NONE = 1, RAS_ENCRYPTION_OPTIONAL, RAS_ENCRYPTION_REQUIRED,
       RAS_ENCRYPTION_MAXIMUM };
/* Authentication protocols, as a mask (entries) or one bit (projection). */
enum { RAS_AUTH_PAP = 1u << 0, RAS_AUTH_CHAP = 1u << 1, RAS_AUTH_MSCHAPV2 = 1u << 2,
       RAS_AUTH_EAP = 1u << 3 };

#define RAS_MAX_DNS 8           /* dns servers an entry lists */
#define RAS_MAX_ADDRESS 64      /* an address as text (IPv6 with a zone) */
#define RAS_MAX_PPPD_OPTIONS 64 /* extra words of a pppd entry */
#define RAS_MAX_PPPD_WORD 1024

typedef struct ras_entry {
  const char *name, *phonebook;
  int type;                     /* RAS_TYPE_* */
  const char *device, *number;
  int vpn;                      /* RAS_VPN_* */
  unsigned auth;                /* RAS_AUTH_* bits */
  int encryption;               /* RAS_ENCRYPTION_* */
  int default_gateway, use_peer_dns, ipv4, ipv6;   /* booleans */
  const char **dns;             /* addresses, ndns of them */
  size_t ndns;
  double idle_disconnect;       /* seconds; 0: never */
  struct {
    long long attempts;
    double interval;            /* seconds */
  } redial;
  const char *username;
  const char **pppd_options;    /* words, npppd_options of them */
  size_t npppd_options;
  unsigned given;               /* RAS_ENTRY_* bits */
} ras_entry;

/* Saved credentials as they can be read: never a secret. "" is none. */
typedef struct ras_credentials_info {
  char username[RAS_TEXT_BYTES(RAS_MAX_USER)];
  char domain[RAS_TEXT_BYTES(RAS_MAX_DOMAIN)];
  int saved_password, saved_psk;
} ras_credentials_info;

/* What set_credentials changes: only the fields that are not NULL. The
 * binding wipes its C copy of the struct after the call; a backend wipes
 * whatever copies of password and psk it made. */
typedef struct ras_credentials {
  const char *username, *password, *domain, *psk;
} ras_credentials;

/* ---------------------------------------------------------------------- */
/* statistics, projection, devices, watching (issue 12)                   */

typedef struct ras_statistics {
  unsigned long long bytes_sent, bytes_received, frames_sent, frames_received;
  unsigned long long errors;    /* every kind of error the link counts */
  long long speed;              /* bit/s; < 0: unknown */
  double duration;              /* seconds since Connected; < 0: unknown */
} ras_statistics;

/* What the link negotiated. "" is unknown; has_* say if a part is there. */
typedef struct ras_projection {
  char interface[64];
  int has_ipv4;
  char ipv4_address[RAS_MAX_ADDRESS], ipv4_server_address[RAS_MAX_ADDRESS];
  char dns[RAS_MAX_DNS][RAS_MAX_ADDRESS];
  int ndns;
  int has_ipv6;
  char ipv6_interface_id[32], ipv6_server_interface_id[32];   /* hex, as 01:23:… */
  unsigned auth;                /* one RAS_AUTH_* bit; 0: unknown */
  char encryption[64], compression[64];
} ras_projection;

typedef struct ras_device_info {
  const char *name;
  const char *type;             /* "modem", "vpn", "pppoe", "isdn", "serial",
                                 * or whatever the OS says, as it says it */
} ras_device_info;

#define RAS_DEVICE_TEXTS { offsetof(ras_device_info, name), offsetof(ras_device_info, type) }

/*
 * A watcher reports every connection of the machine coming up and going
 * away, as events on its own feed (feed.h: ras_change_*): first one
 * RAS_CHANGE_INITIAL "connected" for each connection up when watching
 * starts, then changes as they happen, from the OS's own notifications
 * where it has them. Each backend defines its struct ras_watch.
 */
typedef struct ras_watch ras_watch;

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

  /*
   * Entries (issue 11). Every call returns 0, or an error code with *err
   * filled (623 no such entry, 183 exists already, 123 not a valid name;
   * RAS_BAD_ARGUMENT for a property the backend cannot express, naming
   * it). A NULL phonebook is the backend's default one.
   */
  /* Fills *out, with .given bits for what it could tell; its texts and
   * arrays are allocated in *arena (list.h), which the caller frees. */
  int (*entry)(ras_instance *be, const char *name, const char *phonebook, ras_entry *out,
               ras_arena *arena, ras_error *err);
  /* e->name is set; e->phonebook may be NULL. */
  int (*create_entry)(ras_instance *be, const ras_entry *e, ras_error *err);
  /* Changes only the fields whose .given bit is set (never name or
   * phonebook). */
  int (*update_entry)(ras_instance *be, const char *name, const char *phonebook,
                      const ras_entry *changes, ras_error *err);
  int (*rename_entry)(ras_instance *be, const char *old_name, const char *new_name,
                      const char *phonebook, ras_error *err);
  int (*delete_entry)(ras_instance *be, const char *name, const char *phonebook,
                      ras_error *err);
  /* 0 when name is free and valid, else 183 or 123. */
  int (*validate_entry_name)(ras_instance *be, const char *name, const char *phonebook,
                             ras_error *err);
  int (*credentials)(ras_instance *be, const char *entry, const char *phonebook,
                     ras_credentials_info *out, ras_error *err);
  int (*set_credentials)(ras_instance *be, const char *entry, const char *phonebook,
                         const ras_credentials *cred, ras_error *err);
  int (*clear_credentials)(ras_instance *be, const char *entry, const char *phonebook,
                           ras_error *err);

  /* Statistics and projection (issue 12): 0 with *out filled,
   * RAS_ERROR_INVALID_HANDLE once the connection is gone, another code
   * (projection: before the link is projected) with *err filled. */
  int (*statistics)(ras_call *c, ras_statistics *out, ras_error *err);
  int (*projection)(ras_call *c, ras_projection *out, ras_error *err);
  /* One block (list.h, RAS_DEVICE_TEXTS); NULL with *err on failure. */
  ras_device_info *(*devices)(ras_instance *be, size_t *n, ras_error *err);
  /* Starts a watcher that pushes changes onto feed (take a reference);
   * NULL with *err filled. unwatch stops it and drops the reference; no
   * push comes after it returns. */
  ras_watch *(*watch)(ras_instance *be, ras_feed *feed, ras_error *err);
  void (*unwatch)(ras_watch *w);
} ras_backend;

/* backends.c: every backend compiled in, the platform's default first and
 * the simulator last; NULL-terminated. The only place that selects them. */
extern const ras_backend *const ras_backends[];

#endif
