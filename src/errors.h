/*
 * errors.h - how every layer reports a failure: a RAS error code (winerror.h
 * and raserror.h numbers, also on Linux) and a message that never holds a
 * secret. errors.c has the module's own texts for the codes.
 */
#ifndef RAS_ERRORS_H
#define RAS_ERRORS_H

typedef struct ras_error {
  int code;
  char message[256];
} ras_error;

/* The codes the module produces itself. */
enum {
  RAS_ERROR_TOO_MANY_OPEN_FILES = 4,
  RAS_ERROR_ACCESS_DENIED = 5,
  RAS_ERROR_INVALID_HANDLE = 6,
  RAS_ERROR_NOT_ENOUGH_MEMORY = 8,
  RAS_ERROR_INVALID_PARAMETER = 87,
  RAS_ERROR_NOT_SUPPORTED = 120,          /* ERROR_CALL_NOT_IMPLEMENTED */
  RAS_ERROR_INVALID_NAME = 123,
  RAS_ERROR_ALREADY_EXISTS = 183,
  RAS_ERROR_BUFFER_TOO_SMALL = 603,
  RAS_ERROR_CANNOT_FIND_PHONEBOOK_ENTRY = 623,
  RAS_ERROR_PORT_DISCONNECTED = 628,
  RAS_ERROR_REMOTE_DISCONNECTION = 629,
  RAS_ERROR_DEVICE_NOT_READY = 633,
  RAS_ERROR_REQUEST_TIMEOUT = 638,
  RAS_ERROR_PASSWD_EXPIRED = 648,
  RAS_ERROR_FROM_DEVICE = 651,
  RAS_ERROR_NO_ANSWER = 678,
  RAS_ERROR_AUTHENTICATION_FAILURE = 691,
  RAS_ERROR_INTERACTIVE_MODE = 703,
  RAS_ERROR_PPP_TIMEOUT = 718,
  RAS_ERROR_PROJECTION_NOT_COMPLETE = 730,
  RAS_ERROR_PPP_LCP_TERMINATED = 734
};

/*
 * err->code of a layer that finds the caller's input unusable (text that is
 * not UTF-8, a password longer than pppd takes): the binding raises
 * err->message as an error, as it does for its own checks, instead of
 * returning nil, message, code.
 */
#define RAS_BAD_ARGUMENT (-1)

/* Fills *err and returns code; the message is printf-formatted. */
int ras_fail(ras_error *err, int code, const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 3, 4)))
#endif
  ;

/* Fills *err from a C errno value: "what (ENAME: strerror)" with the RAS
 * code that fits (EMFILE/ENFILE 4, ENOMEM/EAGAIN 8, EACCES/EPERM 5). */
int ras_fail_errno(ras_error *err, int errnum, const char *what);

/* The module's own text for an error code, or NULL when it has none. */
const char *ras_error_text(long long code);

/* What kind of failure a code is ("authentication", "line",
 * "configuration", "vpn", "resource", "local") and whether dialling again
 * can cure it (ras.error_info). */
const char *ras_error_kind(long long code, int *retryable);

#endif
