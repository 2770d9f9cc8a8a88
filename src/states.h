/*
 * states.h - RASCONNSTATE and RASCONNSUBSTATE values and their names
 * (states.c). No platform header needed.
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

/* RASCONNSUBSTATE: what a connected link is doing. */
enum {
  RAS_SUB_None = 0, RAS_SUB_Dormant = 1, RAS_SUB_Reconnecting = 2,
  RAS_SUB_Reconnected = 0x2000
};

enum ras_group { RAS_GROUP_RUNNING, RAS_GROUP_PAUSED, RAS_GROUP_TERMINAL };

/* Name of a state ("OpenPort"), or NULL for a value that is not one. */
const char *ras_state_name(int state);
/* State value of a name, or -1. */
int ras_state_value(const char *name);
enum ras_group ras_state_group(int state);
const char *ras_group_name(enum ras_group group);

/* Name of a substate ("Reconnecting"), or NULL for an unknown value. */
const char *ras_substate_name(int substate);

/* Iteration over every state, for building ras.states. */
int ras_state_count(void);
int ras_state_at(int i, const char **name);

#endif
