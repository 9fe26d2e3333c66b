#!/usr/bin/env bash
# Runs a command (the end-to-end specs) inside a private desktop: Xvfb, a private D-Bus session
# bus, and on it a notification server and a StatusNotifierWatcher (the stubs in stubs/).
#
#   tests/e2e/run.sh cargo test -p tasktray-e2e -- --include-ignored --test-threads=1
#
# It builds tasktray, tasktray-shim, taskctl and fake-claude first (TASKTRAY_E2E_BUILD=0 skips that),
# exports what the specs need (TASKTRAY_E2E=1, DISPLAY, DBUS_SESSION_BUS_ADDRESS, the stubs'
# record files, the tools' paths), runs the command, and tears everything down however it
# ends: every process it started carries TASKTRAY_E2E_RUN=<id> and is killed if still alive.
# Every wait polls with a deadline; the whole run has an outer timeout (TASKTRAY_E2E_TIMEOUT
# seconds, default 1200).
# Logs and records are left in target/e2e/run/, the specs' screenshots and app logs in
# target/e2e/<spec>/.
#
# Options (environment):
#   TASKTRAY_E2E_TIMEOUT=SECS      outer timeout of the run (default 1200)
#   TASKTRAY_E2E_BUILD=0           do not build the binaries first
#   TASKTRAY_E2E_NOTIFY_HANG=1     start notifyd with --hang (specs can also switch it)
#   TASKTRAY_E2E_RUN_DIR=DIR       the stubs' records and logs (default target/e2e/run; emptied
#                                  first): give each of two runs at once its own, with
#                                  TASKTRAY_E2E_ARTIFACTS for the specs' screenshots and logs
#   TASKTRAY_E2E_SHARED_DRIVER=1   also start one tauri-driver on 127.0.0.1:4444, for ad-hoc
#                                  WebDriver clients (the Rust specs start their own, per spec,
#                                  because the app inherits the driver's environment)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
python=${TASKTRAY_E2E_PYTHON:-/usr/bin/python3}

say() { echo "run.sh: $*" >&2; }
die() { say "$*"; exit 2; }

now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }

# wait_for SECONDS WHAT COMMAND...: polls COMMAND until it succeeds; fails after SECONDS.
wait_for() {
    local deadline=$(( $(now_ms) + $1 * 1000 )) what=$2
    shift 2
    until "$@"; do
        if (( $(now_ms) >= deadline )); then
            say "timed out waiting for $what"
            return 1
        fi
        sleep 0.02
    done
}

# Live processes (not zombies) whose environment holds TASKTRAY_E2E_RUN=<this run>, except
# this shell.
marked_pids() {
    local dir pid state rest
    for dir in /proc/[0-9]*; do
        pid=${dir#/proc/}
        [[ $pid == "$$" ]] && continue
        grep -qzx "TASKTRAY_E2E_RUN=$TASKTRAY_E2E_RUN" "$dir/environ" 2>/dev/null || continue
        read -r rest < "$dir/stat" 2>/dev/null || continue
        state=${rest##*) }
        [[ ${state:0:1} == Z ]] && continue
        echo "$pid"
    done
}

no_marked_pids() { [[ -z $(marked_pids) ]]; }

# Kills every process of this run still alive: SIGTERM, a grace of 5 s, SIGKILL.
kill_leftovers() {
    local pids
    pids=$(marked_pids)
    [[ -z $pids ]] && return 0
    say "stopping leftover processes:"
    for pid in $pids; do
        say "  $pid $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null || true)"
    done
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    if ! wait_for 5 "leftovers to exit" no_marked_pids 2>/dev/null; then
        # shellcheck disable=SC2046
        kill -KILL $(marked_pids) 2>/dev/null || true
    fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
# Inside the private session bus: the stubs, then the command.
if [[ ${1:-} == --inside-bus ]]; then
    shift
    run_dir=$TASKTRAY_E2E_RUN_DIR
    stub_pids=()
    cleanup_inside() {
        local status=$?
        trap - EXIT INT TERM HUP
        for pid in "${stub_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
        for pid in "${stub_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
        exit "$status"
    }
    trap cleanup_inside EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP

    export TASKTRAY_E2E_NOTIFY_RECORD=$run_dir/notifications.jsonl
    export TASKTRAY_E2E_SNI_RECORD=$run_dir/sni.jsonl
    : > "$TASKTRAY_E2E_NOTIFY_RECORD"
    : > "$TASKTRAY_E2E_SNI_RECORD"
    hang=()
    [[ ${TASKTRAY_E2E_NOTIFY_HANG:-0} == 1 ]] && hang=(--hang)
    "$python" "$here/stubs/notifyd.py" --record "$TASKTRAY_E2E_NOTIFY_RECORD" \
        --ready "$run_dir/notifyd.ready" "${hang[@]}" > "$run_dir/notifyd.log" 2>&1 &
    stub_pids+=($!)
    "$python" "$here/stubs/sni_watcher.py" --record "$TASKTRAY_E2E_SNI_RECORD" \
        --ready "$run_dir/sni_watcher.ready" > "$run_dir/sni_watcher.log" 2>&1 &
    stub_pids+=($!)
    stubs_ready() {
        local pid
        for pid in "${stub_pids[@]}"; do
            kill -0 "$pid" 2>/dev/null || die "a stub exited; see $run_dir/*.log"
        done
        [[ -e $run_dir/notifyd.ready && -e $run_dir/sni_watcher.ready ]]
    }
    wait_for 10 "the notification and tray stubs" stubs_ready

    if [[ ${TASKTRAY_E2E_SHARED_DRIVER:-0} == 1 ]]; then
        port_open 4444 && die "port 4444 is taken; is another tauri-driver running?"
        "$TASKTRAY_E2E_TAURI_DRIVER" --port 4444 --native-port 4445 \
            > "$run_dir/tauri-driver.log" 2>&1 &
        stub_pids=("$!" "${stub_pids[@]}")
        wait_for 10 "tauri-driver on port 4444" port_open 4444
        wait_for 10 "WebKitWebDriver on port 4445" port_open 4445
    fi

    export TASKTRAY_E2E=1
    say "DISPLAY=$DISPLAY, bus $DBUS_SESSION_BUS_ADDRESS; running: $*"
    # In the foreground: a background job of a non-interactive shell starts with SIGINT and
    # SIGQUIT ignored, and every process under it (the app, the task shims, the agents) would
    # inherit that. The outer timeout signals the whole process group, the command included.
    set +e
    "$@"
    status=$?
    set -e
    exit "$status"
fi

# ---------------------------------------------------------------------------------------------
# Outside: checks, build, Xvfb, then this script again inside dbus-run-session, with a timeout.
[[ $# -gt 0 ]] || die "usage: tests/e2e/run.sh COMMAND [ARGS...]
  e.g. tests/e2e/run.sh cargo test -p tasktray-e2e -- --include-ignored --test-threads=1"

need() { command -v "$1" > /dev/null || die "$1 is missing: $2"; }
need Xvfb "apt-get install xvfb"
need dbus-run-session "apt-get install dbus"
need dbus-send "apt-get install dbus"
need xdpyinfo "apt-get install x11-utils"
need xwininfo "apt-get install x11-utils"
need WebKitWebDriver "apt-get install webkit2gtk-driver"
need timeout "coreutils"
"$python" -c 'import dbus_next' 2> /dev/null ||
    die "$python cannot import dbus_next: apt-get install python3-dbus-next (or set TASKTRAY_E2E_PYTHON)"
tauri_driver=${TASKTRAY_E2E_TAURI_DRIVER:-$(command -v tauri-driver || echo "$HOME/.cargo/bin/tauri-driver")}
[[ -x $tauri_driver ]] || die "tauri-driver is missing: cargo install tauri-driver --locked"
export TASKTRAY_E2E_TAURI_DRIVER=$tauri_driver
export TASKTRAY_E2E_PYTHON=$python

if [[ ${TASKTRAY_E2E_BUILD:-1} != 0 ]]; then
    # The app runs each task's shim from tasktray-shim next to it (package supervisor).
    say "building tasktray, tasktray-shim, taskctl and fake-claude"
    (cd "$root" && cargo build -p tasktray -p supervisor -p taskctl -p fake-claude --bins)
fi

run_dir=${TASKTRAY_E2E_RUN_DIR:-$root/target/e2e/run}
rm -rf "$run_dir"
mkdir -p "$run_dir"
export TASKTRAY_E2E_RUN_DIR=$run_dir

xvfb_pid=
run_tmp=
cleanup_outside() {
    local status=$?
    trap - EXIT INT TERM HUP
    [[ -n ${TASKTRAY_E2E_RUN:-} ]] && kill_leftovers
    if [[ -n $xvfb_pid ]]; then
        kill -TERM "$xvfb_pid" 2> /dev/null || true
        wait "$xvfb_pid" 2> /dev/null || true
    fi
    # The specs' sandboxes, also those of a spec that was killed before it could clean up.
    [[ -n $run_tmp ]] && rm -rf "$run_tmp"
    exit "$status"
}
trap cleanup_outside EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The run's own temp dir: the specs' sandboxes (tempfile) and the bus socket go there.
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/tasktray-e2e-run.XXXXXX")
export TMPDIR=$run_tmp

# Xvfb picks a free display itself and writes its number to fd 3 once it accepts clients.
Xvfb -displayfd 3 -noreset -nolisten tcp -screen 0 1280x800x24 \
    3> "$run_dir/display" > "$run_dir/xvfb.log" 2>&1 &
xvfb_pid=$!
xvfb_ready() {
    kill -0 "$xvfb_pid" 2> /dev/null || die "Xvfb exited; see $run_dir/xvfb.log"
    [[ -s $run_dir/display ]] && xdpyinfo -display ":$(< "$run_dir/display")" > /dev/null 2>&1
}
wait_for 10 "Xvfb" xvfb_ready
export DISPLAY=":$(< "$run_dir/display")"
# Everything started from here on carries this mark; what is left of it at the end is killed.
export TASKTRAY_E2E_RUN="$$-$(now_ms)"
# The app must use this X server, whatever desktop the run was started from.
unset WAYLAND_DISPLAY XAUTHORITY DBUS_SESSION_BUS_ADDRESS
export GDK_BACKEND=x11 NO_AT_BRIDGE=1

# A session bus with no activatable services: only the stubs answer, whatever the host has
# installed (portals, accessibility, a real notification daemon).
bus_conf=$(<"$here/stubs/session.conf")
printf '%s\n' "${bus_conf//@LISTEN_DIR@/${TMPDIR:-/tmp}}" > "$run_dir/session.conf"

set +e
timeout --kill-after=20 "${TASKTRAY_E2E_TIMEOUT:-1200}" \
    dbus-run-session --config-file="$run_dir/session.conf" -- "$here/run.sh" --inside-bus "$@"
status=$?
set -e
[[ $status == 124 ]] && say "the run took longer than ${TASKTRAY_E2E_TIMEOUT:-1200} s and was stopped"
exit "$status"
