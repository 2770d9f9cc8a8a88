#!/bin/bash
# spec/pppd/plugin_smoke.sh - proves build/ras_pppd.so end to end against a
# real pppd server, without the Lua module: build/plugin_peer plays the
# module's half of the protocol. Run inside the sandbox:
#     make check-pppd-plugin     (= spec/pppd/sandbox spec/pppd/plugin_smoke.sh)
# Prints each observed event sequence, then exactly "N passed, N failed".
set -u

repo=${RAS_REPO:-$(cd -- "$(dirname -- "$0")/../.." && pwd)}
build=${RAS_PPPD_BUILD:-$repo/build}
plugin=$build/ras_pppd.so
peer=$build/plugin_peer
server=$repo/spec/pppd/server
work=$(mktemp -d /tmp/ras-smoke.XXXXXX)
password="s3cret-$RANDOM$RANDOM"     # unique: grep-able in /proc
passed=0 failed=0
DIAL_PID=

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }

cleanup() {
	[ -n "$DIAL_PID" ] && kill "$DIAL_PID" 2>/dev/null
	pkill_pppd
	"$server" stop >/dev/null 2>&1
}
trap cleanup EXIT

# ---- dialing through the plugin ----

# dial NAME PEERFILE [plugin_peer options]: events in $work/NAME.ev.
dial() {
	local name=$1 peerfile=$2; shift 2
	"$peer" "$@" -l "$work/$name.log" -- pppd call "$peerfile" nodetach debug \
		plugin "$plugin" ras-fd 3 >"$work/$name.ev" 2>&1 &
	DIAL_PID=$!
}

events() { cut -f2- "$work/$1.ev"; }
has() { events "$1" | grep -qxE -- "$2"; }
event_ms() { awk -F'\t' -v re="^($2)\$" '$2 ~ re { print $1; exit }' "$work/$1.ev"; }
pppd_pid() { events "$1" | awk '$1 == "pid" { print $2; exit }'; }

wait_event() {   # name regex tenths
	local i
	for ((i = 0; i < $3; i++)); do has "$1" "$2" && return 0; sleep 0.1; done
	return 1
}

# Wait for plugin_peer (and so pppd) to finish; kill pppd if it will not.
finish_dial() {   # tenths
	local i pid
	for ((i = 0; i < $1; i++)); do
		kill -0 "$DIAL_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$DIAL_PID" 2>/dev/null; then
		echo "# pppd still running after $(($1 / 10)) s: killing it"
		kill -KILL "$DIAL_PID" 2>/dev/null
	fi
	wait "$DIAL_PID" 2>/dev/null
	DIAL_PID=
}

pkill_pppd() {
	local f pid
	for f in "$work"/*.ev; do
		[ -e "$f" ] || continue
		pid=$(awk -F'\t' '$2 ~ /^pid / { split($2, a, " "); print a[2]; exit }' "$f")
		[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	done
}

show() {   # name
	echo "# events $1: $(events "$1" | paste -sd, - | sed 's/,/, /g')"
}

# The expected opening of a successful dial, up to ip-up.
expect_up_sequence() {   # name proto
	local want got
	want=$(printf '%s\n' "device /run/ras-test/ttyS1" "phase 2" "phase 4" "phase 5" \
		"auth-ok $2" "auth-up" "phase 7" "phase 8" "projection ipv4=10.0.0.2,10.0.0.1" \
		"ip-up ppp0 10.0.0.2 10.0.0.1")
	# the pty's speed is whatever socat's pty has
	got=$(events "$1" | sed -n '2,/^ip-up /p' | sed 's/^\(projection .*\) speed=[1-9][0-9]*$/\1/')
	[ "$(events "$1" | head -1 | cut -d' ' -f1)" = pid ] && [ "$got" = "$want" ]
}

secret_hidden() {   # pid
	local pid=$1
	[ -r "/proc/$pid/cmdline" ] && grep -qa -- ras-fd "/proc/$pid/cmdline" &&
		! grep -qaF -- "$password" "/proc/$pid/cmdline" "/proc/$pid/environ"
}

went_down() { has "$1" ip-down && has "$1" link-down; }
no_ip_up() { ! has "$1" "ip-up .*"; }
dead_nonzero() { has "$1" "dead [1-9][0-9]*"; }
exited_before_lcp() { has "$1" "exit 1" && ! has "$1" "phase 4"; }

exit_matches() {   # name: the exit event agrees with pppd's real exit code
	local e w
	e=$(events "$1" | awk '$1 == "exit" { print $2 }')
	w=$(events "$1" | awk '$1 == "wait" && $2 == "exit" { print $3 }')
	[ -n "$e" ] && [ "$e" = "$w" ]
}

# ---- scenarios ----

# Dial, check the way up, ping, secrecy; leave the link up.
bring_up() {   # name auth
	local name=$1 auth=$2 pid
	"$server" start --auth "$auth" --user client --password "$password" >/dev/null ||
		{ not_ok "$name: server start"; "$server" log; return 1; }
	dial "$name" "ras-test-$auth" -u client -p "$password"
	if ! wait_event "$name" "ip-up .*" 100; then
		not_ok "$name: ip-up within 10 s"; show "$name"; return 1
	fi
	echo "# timing $name: ip-up $(event_ms "$name" "ip-up .*") ms after starting pppd"
	check "$name: event sequence up to ip-up" expect_up_sequence "$name" "$auth"
	check "$name: ping 10.0.0.1 across the link" ping -q -c1 -W3 10.0.0.1 >/dev/null
	pid=$(pppd_pid "$name")
	check "$name: password not in /proc/$pid/cmdline or environ" secret_hidden "$pid"
}

# PAP: we hang up ourselves (SIGTERM to pppd).
scenario_client_hangup() {
	local n=pap-hangup
	bring_up $n pap || { finish_dial 1; "$server" stop; return; }
	kill -TERM "$(pppd_pid $n)"
	finish_dial 100
	show $n
	check "$n: signal 15" has $n "signal 15"
	check "$n: ip-down and link-down" went_down $n
	check "$n: dead 5 (SIGTERM)" has $n "dead 5"
	check "$n: exit event = exit code" exit_matches $n
	"$server" stop
}

# CHAP: the server hangs up (SIGTERM to the server pppd).
scenario_server_kill() {
	local n=chap-server-kill
	bring_up $n chap || { finish_dial 1; "$server" stop; return; }
	"$server" kill
	finish_dial 100
	show $n
	check "$n: ip-down and link-down" went_down $n
	check "$n: dead 0 (peer terminated normally)" has $n "dead 0"
	check "$n: exit event = exit code" exit_matches $n
	"$server" stop
}

# MS-CHAPv2: the line drops (socat killed): a hangup.
scenario_line_drop() {
	local n=mschap-v2-drop
	bring_up $n mschap-v2 || { finish_dial 1; "$server" stop; return; }
	"$server" drop
	finish_dial 100
	show $n
	check "$n: link-down" has $n link-down
	check "$n: dead 16 (hangup)" has $n "dead 16"
	"$server" stop
}

# The server pppd dies silently (SIGKILL, line stays up): LCP echo notices.
scenario_dead_peer() {
	local n=pap-dead-peer
	bring_up $n pap || { finish_dial 1; "$server" stop; return; }
	"$server" kill --signal KILL
	finish_dial 150
	show $n
	echo "# timing $n: dead $(( $(event_ms $n "dead .*") - $(event_ms $n "ip-up .*") )) ms after ip-up"
	check "$n: dead 15 (peer not answering echo)" has $n "dead 15"
	"$server" stop
}

scenario_wrong_password() {   # auth
	local n=$1-wrong
	"$server" start --auth "$1" --user client --password "$password" >/dev/null
	dial $n "ras-test-$1" -u client -p "wrong-$password"
	finish_dial 150
	show $n
	check "$n: auth-fail $1" has $n "auth-fail $1"
	check "$n: no ip-up" no_ip_up $n
	check "$n: dead 19 (we failed to authenticate)" has $n "dead 19"
	"$server" stop
}

# ulen > 0 overrides the peer file's user; odd characters survive.
scenario_user_override() {
	local n=pap-user-override pw='p a"s\s w0rd'
	"$server" start --auth pap --user alice --password "$pw" --peer ras-test-override >/dev/null
	sed -i 's/^user .*/user nobody/' /etc/ppp/peers/ras-test-override
	dial $n ras-test-override -u alice -p "$pw"
	check "$n: ip-up as alice despite 'user nobody'" wait_event $n "ip-up .*" 100
	kill -TERM "$(pppd_pid $n)" 2>/dev/null
	finish_dial 50
	show $n
	"$server" stop
}

# plen = 0: we supply nothing and pppd's (empty) secrets files decide.
scenario_no_password() {
	local n=chap-no-password
	"$server" start --auth chap --user client --password "$password" >/dev/null
	dial $n ras-test-chap -u client
	finish_dial 150
	show $n
	check "$n: no ip-up" no_ip_up $n
	check "$n: ends with a non-zero dead status" dead_nonzero $n
	"$server" stop
}

scenario_bad_input() {
	local n=bad-header
	"$server" start --auth pap >/dev/null
	dial $n ras-test-pap -r $'auth 999 1\n'
	finish_dial 50
	show $n
	check "$n: pppd exits 1 before LCP" exited_before_lcp $n
	n=bad-fd
	"$peer" -u client -p x -l "$work/$n.log" -- pppd call ras-test-pap nodetach \
		plugin "$plugin" ras-fd 9 >"$work/$n.ev" 2>&1
	show $n
	check "$n: ras-fd 9 (closed) is an option error (exit 2)" has $n "wait exit 2"
	"$server" stop
}

timed() {   # scenario [args]: runs it, reports its wall time
	local t0=$EPOCHREALTIME
	"$@"
	echo "# $* took $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
}

main() {
	[ -f "$plugin" ] && [ -x "$peer" ] || { echo "build $plugin and $peer first (make check-pppd-plugin)"; exit 2; }
	"$server" stop >/dev/null 2>&1
	timed scenario_client_hangup
	timed scenario_server_kill
	timed scenario_line_drop
	timed scenario_dead_peer
	timed scenario_wrong_password pap
	timed scenario_wrong_password chap
	timed scenario_wrong_password mschap-v2
	timed scenario_user_override
	timed scenario_no_password
	timed scenario_bad_input
	if [ "$failed" -gt 0 ]; then
		echo "# logs of failed run kept in $work (inside the sandbox)"
		for f in "$work"/*.log; do echo "== $f"; tail -n 15 "$f"; done
		"$server" log | tail -n 30
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

main
