#!/usr/bin/env bash
# Installs schemathesis into tests/schema/.venv (a private virtualenv) as requirements.txt
# pins it, and again only when that file changed. Uses Debian's python3 and its venv module
# (python3-venv, which scripts/install-deps.sh installs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=$here/.venv
stamp=$venv/installed-requirements.txt

if [ -x "$venv/bin/schemathesis" ] && cmp -s "$here/requirements.txt" "$stamp"; then
  exit 0
fi
python=${SCHEMA_PYTHON:-/usr/bin/python3}
[ -x "$python" ] || python=$(command -v python3)
echo "Installing schemathesis into $venv (with $python)"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  -r "$here/requirements.txt"
"$venv/bin/schemathesis" --version
cp "$here/requirements.txt" "$stamp"
