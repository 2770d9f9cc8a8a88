/*
 * errors.c - the module's own texts for RAS error codes (used where the OS
 * has none, and on Linux), and filling a ras_error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"

/* Paraphrased from the meanings documented for raserror.h. */
static const struct { int code; const char *text; } error_texts[] = {
  { 6, "The connection handle is invalid: the connection no longer exists." },
  { 8, "Not enough memory." },
  { 87, "A parameter is incorrect." },
  { 120, "This function is not supported on this system." },
  { 123, "The name is not valid." },
  { 183, "An entry with this name already exists." },
  { 600, "An operation is pending." },
  { 601, "The port handle is invalid." },
  { 602, "The port is already open." },
  { 603, "The caller's buffer is too small." },
  { 604, "Wrong information was specified." },
  { 606, "The port is not connected." },
  { 608, "The device does not exist." },
  { 615, "The port was not found." },
  { 616, "An asynchronous request is pending." },
  { 617, "The connection is already being disconnected." },
  { 618, "The port is not open." },
  { 619, "A connection to the remote computer could not be established, so the port used for it was closed." },
  { 621, "The phone book file cannot be opened." },
  { 622, "The phone book file cannot be loaded." },
  { 623, "The phone book entry for this connection cannot be found." },
  { 624, "The phone book file cannot be written." },
  { 625, "The phone book contains invalid information." },
  { 628, "The connection was terminated by the remote computer before it could be completed." },
  { 629, "The connection was closed by the remote computer." },
  { 630, "The modem or other connecting device reported a hardware failure." },
  { 631, "The connection was closed by the user." },
  { 632, "The structure size is incorrect." },
  { 633, "The modem or other connecting device is already in use or not configured properly." },
  { 635, "An unknown error occurred." },
  { 636, "The device attached to the port is not the one expected." },
  { 638, "The request timed out: the remote computer did not respond in time." },
  { 645, "An internal authentication error occurred." },
  { 646, "The account is not permitted to log on at this time of day." },
  { 647, "The account is disabled." },
  { 648, "The password for this account has expired." },
  { 649, "The account does not have permission to dial in." },
  { 651, "The modem or other connecting device reported an error." },
  { 652, "The device sent an unrecognized response." },
  { 663, "The device type is unknown." },
  { 665, "The port is not configured for Remote Access." },
  { 666, "The modem or other connecting device is not functioning." },
  { 668, "The connection dropped." },
  { 676, "The line is busy." },
  { 677, "A person, not a modem, answered." },
  { 678, "There was no answer." },
  { 679, "No carrier was detected." },
  { 680, "There was no dial tone." },
  { 691, "Access was denied: the user name or password is not valid for this domain." },
  { 692, "A hardware failure occurred in the port or the attached device." },
  { 703, "The connection needs information from the user, but the application does not allow user interaction." },
  { 704, "The callback number is invalid." },
  { 705, "The authorization state is invalid." },
  { 708, "The account has expired." },
  { 709, "An error occurred while changing the password on the domain." },
  { 711, "The Remote Access Connection Manager service could not start." },
  { 717, "No IP addresses are available in the static pool of the server." },
  { 718, "The connection timed out waiting for a valid response from the remote computer (PPP)." },
  { 719, "The connection was terminated by the remote computer." },
  { 720, "No PPP control protocols were configured or could be negotiated." },
  { 721, "The remote computer did not respond." },
  { 722, "Invalid data was received from the remote computer." },
  { 723, "The phone number, including prefix and suffix, is too long." },
  { 730, "The link's projection is not complete: it has not negotiated its protocols yet." },
  { 731, "The protocol is not configured." },
  { 732, "The computers could not agree on PPP control protocols." },
  { 733, "The remote computer rejected the PPP control protocol." },
  { 734, "The PPP link control protocol was terminated." },
  { 735, "The requested address was rejected by the server." },
  { 736, "The remote computer terminated the control protocol." },
  { 737, "A loopback was detected." },
  { 738, "The server did not assign an address." },
  { 742, "The remote computer does not support the required data encryption type." },
  { 752, "A syntax error was found in the script." },
  { 753, "The connection could not be disconnected because it was created by the multi-protocol router." },
  { 756, "This connection is already being dialled." },
  { 800, "The VPN connection could not be established: the tunnel could not be created." },
  { 807, "The VPN connection was interrupted." },
  { 809, "The VPN server did not respond." },
};

const char *ras_error_text(long long code) {
  for (size_t i = 0; i < sizeof error_texts / sizeof error_texts[0]; i++)
    if (error_texts[i].code == code) return error_texts[i].text;
  return NULL;
}

/* Kinds by code; what is not listed is "local" (retryable) or, from 800
 * on, "vpn". Configuration and most authentication failures repeat on
 * every attempt: only a change by the user cures them. */
static const struct { int code; char kind, retry; } error_kinds[] = {
  { 4, 'r', 1 }, { 8, 'r', 1 }, { 87, 'c', 0 }, { 120, 'c', 0 }, { 123, 'c', 0 },
  { 183, 'c', 0 }, { 602, 'r', 1 }, { 604, 'c', 0 }, { 608, 'c', 0 }, { 615, 'c', 0 },
  { 617, 'r', 1 }, { 619, 'l', 1 }, { 621, 'c', 0 }, { 622, 'c', 0 }, { 623, 'c', 0 },
  { 624, 'c', 0 }, { 625, 'c', 0 }, { 628, 'l', 1 }, { 629, 'l', 1 }, { 630, 'l', 1 },
  { 633, 'r', 1 }, { 638, 'l', 1 }, { 645, 'a', 1 }, { 646, 'a', 0 }, { 647, 'a', 0 },
  { 648, 'a', 0 }, { 649, 'a', 0 }, { 651, 'l', 1 }, { 652, 'l', 1 }, { 663, 'c', 0 },
  { 665, 'c', 0 }, { 666, 'l', 1 }, { 668, 'l', 1 }, { 676, 'l', 1 }, { 677, 'l', 1 },
  { 678, 'l', 1 }, { 679, 'l', 1 }, { 680, 'l', 1 }, { 691, 'a', 0 }, { 692, 'l', 1 },
  { 703, 'a', 0 }, { 704, 'c', 0 }, { 705, 'a', 1 }, { 708, 'a', 0 }, { 709, 'a', 0 },
  { 711, 'r', 1 }, { 717, 'r', 1 }, { 718, 'l', 1 }, { 719, 'l', 1 }, { 720, 'c', 0 },
  { 721, 'l', 1 }, { 722, 'l', 1 }, { 723, 'c', 0 }, { 731, 'c', 0 }, { 732, 'c', 0 },
  { 733, 'c', 0 }, { 734, 'l', 1 }, { 735, 'c', 0 }, { 736, 'l', 1 }, { 737, 'l', 1 },
  { 738, 'c', 0 }, { 742, 'c', 0 }, { 752, 'c', 0 }, { 756, 'r', 1 },
};

const char *ras_error_kind(long long code, int *retryable) {
  *retryable = 1;
  for (size_t i = 0; i < sizeof error_kinds / sizeof error_kinds[0]; i++)
    if (error_kinds[i].code == code) {
      *retryable = error_kinds[i].retry;
      switch (error_kinds[i].kind) {
      case 'a': return "authentication";
      case 'l': return "line";
      case 'c': return "configuration";
      default: return "resource";
      }
    }
  return code >= 800 && code < 900 ? "vpn" : "local";
}

int ras_fail(ras_error *err, int code, const char *fmt, ...) {
  va_list ap;
  err->code = code;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return code;
}

/* The symbolic names scripts and logs grep for; strerror gives the text. */
static const char *errno_name(int errnum) {
  switch (errnum) {
  case EMFILE: return "EMFILE";
  case ENFILE: return "ENFILE";
  case ENOMEM: return "ENOMEM";
  case EAGAIN: return "EAGAIN";
  case EACCES: return "EACCES";
  case EPERM: return "EPERM";
  case ENOENT: return "ENOENT";
  case EINVAL: return "EINVAL";
  default: return NULL;
  }
}

static int errno_code(int errnum) {
  switch (errnum) {
  case EMFILE: case ENFILE: return RAS_ERROR_TOO_MANY_OPEN_FILES;
  case ENOMEM: case EAGAIN: return RAS_ERROR_NOT_ENOUGH_MEMORY;
  case EACCES: case EPERM: return RAS_ERROR_ACCESS_DENIED;
  default: return RAS_ERROR_INVALID_PARAMETER;
  }
}

int ras_fail_errno(ras_error *err, int errnum, const char *what) {
  const char *name = errno_name(errnum);
  if (name) return ras_fail(err, errno_code(errnum), "%s (%s: %s)", what, name, strerror(errnum));
  return ras_fail(err, errno_code(errnum), "%s (error %d: %s)", what, errnum, strerror(errnum));
}
