/*
 * backends.c - every backend compiled in: the one place that selects them.
 * The platform's own comes first (the module's default context opens it
 * when it can), the simulator last (always there).
 */
#include "backend.h"

extern const ras_backend ras_backend_pppd, ras_backend_win32, ras_backend_sim;

const ras_backend *const ras_backends[] = {
#if defined(__linux__)
  &ras_backend_pppd,
#elif defined(_WIN32)
  &ras_backend_win32,
#endif
  &ras_backend_sim,
  NULL
};
