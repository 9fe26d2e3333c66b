#!/usr/bin/env bash
# Renders the SVG sources into the PNGs the app uses (committed, so a build needs no renderer).
# Needs rsvg-convert (Debian: librsvg2-bin).
set -euo pipefail
cd "$(dirname "$0")"
out=../src-tauri/icons
mkdir -p "$out"
rsvg-convert -w 32 -h 32 app.svg -o "$out/32x32.png"
rsvg-convert -w 48 -h 48 app.svg -o "$out/48x48.png"
rsvg-convert -w 64 -h 64 app.svg -o "$out/64x64.png"
rsvg-convert -w 128 -h 128 app.svg -o "$out/128x128.png"
rsvg-convert -w 256 -h 256 app.svg -o "$out/256x256.png"
rsvg-convert -w 512 -h 512 app.svg -o "$out/icon.png"
rsvg-convert -w 64 -h 64 tray-idle.svg -o "$out/tray-idle.png"
rsvg-convert -w 64 -h 64 tray-running.svg -o "$out/tray-running.png"
rsvg-convert -w 64 -h 64 tray-waiting.svg -o "$out/tray-waiting.png"
