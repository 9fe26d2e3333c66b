#!/usr/bin/env bash
# Fuzzes Tasktray's local API against the OpenAPI document it serves (README.md): installs
# schemathesis, builds and starts tasktray-schema-server in a temp folder, runs schemathesis
# against it, stops it. Fails when schemathesis finds anything, or the server does not start
# or stop cleanly.
#
# Usage: tests/schema/run.sh [CARGO [schemathesis run options...]], e.g.
#   tests/schema/run.sh cargo --seed 42 --max-examples 200
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cargo=${1:-cargo}
shift || true
# schemathesis itself; its budget (schemathesis.toml) keeps it well under this.
run_timeout=${SCHEMA_RUN_TIMEOUT:-150}

"$here/install.sh"
(cd "$root" && $cargo build --quiet -p fake-claude -p supervisor -p tasktray-schema --bins)
server_bin=${CARGO_TARGET_DIR:-$root/target}/debug/tasktray-schema-server

work=$(mktemp -d "${TMPDIR:-/tmp}/tasktray-schema.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

mkdir "$work/server"
"$server_bin" --dir "$work/server" 2>"$work/server.log" &
server_pid=$!
info=$work/server/server.json
for _ in $(seq 300); do
  [ -f "$info" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$work/server.log" >&2
    echo "tasktray-schema-server did not start" >&2
    exit 1
  fi
  sleep 0.1
done
if [ ! -f "$info" ]; then
  cat "$work/server.log" >&2
  echo "tasktray-schema-server did not serve within 30 s" >&2
  exit 1
fi
url=$("$here/.venv/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["url"])' "$info")

# schemathesis reads schemathesis.toml (and through it hooks.py) from the current folder.
cd "$here"
status=0
TASKTRAY_SCHEMA_SERVER=$info timeout "$run_timeout" \
  .venv/bin/schemathesis run "$url/openapi.json" "$@" || status=$?

kill -TERM "$server_pid"
server_status=0
wait "$server_pid" || server_status=$?
server_pid=
if [ "$status" -ne 0 ] || [ "$server_status" -ne 0 ]; then
  echo "--- the end of tasktray-schema-server's log ---" >&2
  tail -n 40 "$work/server.log" >&2
  [ "$status" -eq 0 ] || echo "schemathesis failed (exit $status; 124 is the timeout)" >&2
  [ "$server_status" -eq 0 ] || echo "tasktray-schema-server exited with $server_status" >&2
  exit 1
fi
