/*
 * states.h - RASCONNSTATE values, the RAS error codes the module itself
 * uses, and their names and texts (states.c). No platform header needed.
 */
#ifndef RAS_STATES_H
#define RAS_STATES_H

enum {
  RAS_OpenPort = 0, RAS_PortOpened, RAS_ConnectDevice, RAS_DeviceConnected,
  RAS_AllDevicesConnected, RAS_Authenticate, RAS_AuthNotify, RAS_AuthRetry,
  RAS_AuthCallback, RAS_AuthChangePassword, RAS_AuthProject, RAS_AuthLinkSpeed,
  RAS_AuthAck, RAS_ReAuthenticate, RAS_Authenticated, RAS_PrepareForCallback,
  RAS_WaitForModemReset, RAS_WaitForCallback, RAS_Projected,
  RAS_StartAuthentication, RAS_CallbackComplete, RAS_LogonNetwork,
  RAS_SubEntryConnected, RAS_SubEntryDisconnected, RAS_ApplySettings,
  RAS_PAUSED = 0x1000,
  RAS_Interactive = RAS_PAUSED, RAS_RetryAuthentication, RAS_CallbackSetByCaller,
  RAS_PasswordExpired, RAS_InvokeEapUI,
  RAS_DONE = 0x2000,
  RAS_Connected = RAS_DONE, RAS_Disconnected
};

/* Error codes (winerror.h / raserror.h) that the module produces itself. */
enum {
  RAS_ERROR_INVALID_HANDLE = 6,
  RAS_ERROR_NOT_ENOUGH_MEMORY = 8,
  RAS_ERROR_INVALID_PARAMETER = 87,
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
  RAS_ERROR_PPP_LCP_TERMINATED = 734
};

enum ras_group { RAS_GROUP_RUNNING, RAS_GROUP_PAUSED, RAS_GROUP_TERMINAL };

/* Name of a state ("OpenPort"), or NULL for a value that is not one. */
const char *ras_state_name(int state);
/* State value of a name, or -1. */
int ras_state_value(const char *name);
enum ras_group ras_state_group(int state);
const char *ras_group_name(enum ras_group group);
/* The module's own text for an error code, or NULL when it has none. */
const char *ras_error_text(int code);

/* Iteration over every state, for building ras.states. */
int ras_state_count(void);
int ras_state_at(int i, const char **name);

#endif
