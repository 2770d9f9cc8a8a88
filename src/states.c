/*
 * states.c - names and groups of RASCONNSTATE values.
 */
#include <stddef.h>
#include <string.h>

#include "states.h"

static const struct { int value; const char *name; } state_names[] = {
  { RAS_OpenPort, "OpenPort" },
  { RAS_PortOpened, "PortOpened" },
  { RAS_ConnectDevice, "ConnectDevice" },
  { RAS_DeviceConnected, "DeviceConnected" },
  { RAS_AllDevicesConnected, "AllDevicesConnected" },
  { RAS_Authenticate, "Authenticate" },
  { RAS_AuthNotify, "AuthNotify" },
  { RAS_AuthRetry, "AuthRetry" },
  { RAS_AuthCallback, "AuthCallback" },
  { RAS_AuthChangePassword, "AuthChangePassword" },
  { RAS_AuthProject, "AuthProject" },
  { RAS_AuthLinkSpeed, "AuthLinkSpeed" },
  { RAS_AuthAck, "AuthAck" },
  { RAS_ReAuthenticate, "ReAuthenticate" },
  { RAS_Authenticated, "Authenticated" },
  { RAS_PrepareForCallback, "PrepareForCallback" },
  { RAS_WaitForModemReset, "WaitForModemReset" },
  { RAS_WaitForCallback, "WaitForCallback" },
  { RAS_Projected, "Projected" },
  { RAS_StartAuthentication, "StartAuthentication" },
  { RAS_CallbackComplete, "CallbackComplete" },
  { RAS_LogonNetwork, "LogonNetwork" },
  { RAS_SubEntryConnected, "SubEntryConnected" },
  { RAS_SubEntryDisconnected, "SubEntryDisconnected" },
  { RAS_ApplySettings, "ApplySettings" },
  { RAS_Interactive, "Interactive" },
  { RAS_RetryAuthentication, "RetryAuthentication" },
  { RAS_CallbackSetByCaller, "CallbackSetByCaller" },
  { RAS_PasswordExpired, "PasswordExpired" },
  { RAS_InvokeEapUI, "InvokeEapUI" },
  { RAS_Connected, "Connected" },
  { RAS_Disconnected, "Disconnected" },
};

#define NSTATES (sizeof state_names / sizeof state_names[0])

const char *ras_state_name(int state) {
  if (state >= RAS_OpenPort && state <= RAS_ApplySettings)
    return state_names[state].name;
  for (size_t i = RAS_ApplySettings + 1; i < NSTATES; i++)
    if (state_names[i].value == state) return state_names[i].name;
  return NULL;
}

int ras_state_value(const char *name) {
  for (size_t i = 0; i < NSTATES; i++)
    if (strcmp(state_names[i].name, name) == 0) return state_names[i].value;
  return -1;
}

enum ras_group ras_state_group(int state) {
  if (state & RAS_DONE) return RAS_GROUP_TERMINAL;
  if (state & RAS_PAUSED) return RAS_GROUP_PAUSED;
  return RAS_GROUP_RUNNING;
}

const char *ras_group_name(enum ras_group group) {
  static const char *const names[] = { "running", "paused", "terminal" };
  return names[group];
}

int ras_state_count(void) { return (int)NSTATES; }

int ras_state_at(int i, const char **name) {
  *name = state_names[i].name;
  return state_names[i].value;
}

const char *ras_substate_name(int substate) {
  switch (substate) {
  case RAS_SUB_None: return "None";
  case RAS_SUB_Dormant: return "Dormant";
  case RAS_SUB_Reconnecting: return "Reconnecting";
  case RAS_SUB_Reconnected: return "Reconnected";
  default: return NULL;
  }
}
