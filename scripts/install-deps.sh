#!/usr/bin/env bash
# Installs what Tasktray needs to build and test, idempotently: Debian packages that are
# missing (apt-get, with sudo when not root) and the Rust components. Safe to run every time.
set -euo pipefail

# Build: a C toolchain and WebKitGTK for the app. Run and test: the tray library, a virtual X
# server, a D-Bus session, the WebDriver for WebKitGTK, Python D-Bus for the test stubs, curl
# for the local API's tests (and its examples), Python's venv for the API's schemathesis run,
# and Node.js for the UI. The Debian package: the tray library's pkg-config file (Tauri's
# bundler names it in Depends), dpkg-dev, and desktop-file-utils to check the desktop entry.
packages=(
  build-essential pkg-config ca-certificates python3 python3-venv libwebkit2gtk-4.1-dev
  libayatana-appindicator3-1 xvfb dbus dbus-x11 x11-utils webkit2gtk-driver python3-dbus-next curl
  libayatana-appindicator3-dev dpkg-dev desktop-file-utils
)
# Extra packages named on the command line (e.g. chromium, for `make bench`).
packages+=("$@")
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "cargo is missing: install Rust from your distribution or rustup first" >&2
  exit 1
fi
# The WebDriver bridge between the end-to-end specs and WebKitWebDriver.
TAURI_DRIVER_VERSION=2.1.0
if ! cargo install --list | grep -q "^tauri-driver v$TAURI_DRIVER_VERSION:"; then
  echo "Installing tauri-driver $TAURI_DRIVER_VERSION"
  cargo install tauri-driver --locked --version "$TAURI_DRIVER_VERSION"
fi

for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    rustup component add "$component"
  fi
done
