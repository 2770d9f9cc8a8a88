/*
 * pppd_compat.h - the one place where plugin.c meets a pppd version.
 *
 * pppd 2.4 (Debian 12's 2.4.9) and 2.5 (Debian 13's 2.5.2, Fedora, Arch,
 * OpenWrt) differ for a plugin in names only: 2.5 registers notifiers with
 * ppp_add_notify(NF_*, ...) instead of add_notifier(&list, ...), reads
 * pppd's state through accessors (ppp_status(), ppp_ifname(), ppp_devnam())
 * instead of globals, prefixes the option and timer calls with ppp_, moves
 * option_t to options.h, renames chap-new.h to chap.h and the version macro
 * to PPPD_VERSION (from pppdconf.h, which 2.5's pppd.h includes). plugin.c
 * uses only the RAS_* names below; built with -I pointing at either
 * version's include/pppd directory.
 *
 * Each version's pppd refuses a plugin built for another one (it compares
 * the plugin's pppd_version with its own): build it against the headers of
 * the pppd that will load it.
 */
#ifndef RAS_PPPD_COMPAT_H
#define RAS_PPPD_COMPAT_H

#include "pppd.h"

#ifdef PPPD_VERSION /* pppd 2.5.x */

#include <sys/param.h>       /* MAXPATHLEN and */
#include <linux/ppp_defs.h>  /* PPP_PAP, PPP_CHAP: 2.4's pppd.h brought them in */
#include "options.h"
#include "fsm.h"
#include "lcp.h"
#include "ipcp.h"
#include "upap.h"
#include "chap.h"

#define RAS_PPPD_VERSION PPPD_VERSION
/*
 * Our name for authenticating ourselves (CHAP answers with it). 2.5 keeps
 * the declaration in pppd-private.h, which it does not install, but pppd
 * still exports the array (Debian 13's ppp.symbols lists user@Base), and
 * no accessor sets it.
 */
extern char user[MAXNAMELEN];
/* The tty's speed (bit/s): 2.4's pppd.h declares it; 2.5 exports it too
 * (baud_rate@Base) but declares it only in pppd-private.h. */
extern int baud_rate;

#define RAS_STATUS() ((int)ppp_status())
#define RAS_IFNAME() ppp_ifname()
#define RAS_DEVNAM() ppp_devnam()      /* the device option's name (empty with pty) */
#define RAS_TTYNAME() ppp_pppdevnam()  /* the tty pppd runs PPP on (the pty) */
#define RAS_TIMEOUT(fn, arg, s, us) ppp_timeout((fn), (arg), (s), (us))
#define RAS_UNTIMEOUT(fn, arg) ppp_untimeout((fn), (arg))
#define RAS_ADD_OPTIONS(opts) ppp_add_options(opts)
#define RAS_INT_OPTION(s, p) ppp_int_option((s), (p))
#define RAS_OPTION_ERROR ppp_option_error
/* RAS_NOTIFY(NF_PHASE_CHANGE, phasechange, fn): the 2.5 and 2.4 names. */
#define RAS_NOTIFY(nf, list, fn) ppp_add_notify(nf, (fn), NULL)

#else /* pppd 2.4.x */

#include "fsm.h"
#include "lcp.h"
#include "ipcp.h"
#include "upap.h"
#include "chap-new.h"

#define RAS_PPPD_VERSION VERSION
#define RAS_STATUS() (status)
#define RAS_IFNAME() ((const char *)ifname)
#define RAS_DEVNAM() ((const char *)devnam)
#define RAS_TTYNAME() ((const char *)ppp_devnam)
#define RAS_TIMEOUT(fn, arg, s, us) timeout((fn), (arg), (s), (us))
#define RAS_UNTIMEOUT(fn, arg) untimeout((fn), (arg))
#define RAS_ADD_OPTIONS(opts) add_options(opts)
#define RAS_INT_OPTION(s, p) int_option((s), (p))
#define RAS_OPTION_ERROR option_error
#define RAS_NOTIFY(nf, list, fn) add_notifier(&(list), (fn), NULL)

#endif

#endif
