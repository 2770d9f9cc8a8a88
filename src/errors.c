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
