#!/usr/bin/env bash
# A user-local install of Tasktray from a build, without root (make install / make uninstall):
#
#   packaging/install.sh install BUILD_DIR [PREFIX]   # BUILD_DIR: target/release
#   packaging/install.sh uninstall [PREFIX]
#
# PREFIX is ~/.local unless given: PREFIX/bin/{tasktray,taskctl},
# PREFIX/lib/tasktray/tasktray-shim, PREFIX/share/applications/Tasktray.desktop (its Exec is
# the installed app's full path, since PREFIX/bin may not be on the desktop's PATH), the icons in
# PREFIX/share/icons/hicolor, taskctl's manual page and its bash, zsh and fish completions. The
# same files as the Debian package; uninstall removes exactly these.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
action=${1:-}
case $action in
    install) build=${2:?usage: packaging/install.sh install BUILD_DIR [PREFIX]}; prefix=${3:-$HOME/.local} ;;
    uninstall) prefix=${2:-$HOME/.local} ;;
    *) echo "usage: packaging/install.sh install BUILD_DIR [PREFIX] | uninstall [PREFIX]" >&2; exit 2 ;;
esac

sizes=(32 48 64 128 256 512)
icon_source() { [[ $1 == 512 ]] && echo "$root/src-tauri/icons/icon.png" || echo "$root/src-tauri/icons/${1}x${1}.png"; }
# Every file installed, relative to PREFIX.
files=(
    bin/tasktray bin/taskctl lib/tasktray/tasktray-shim share/applications/Tasktray.desktop
    share/man/man1/taskctl.1 share/bash-completion/completions/taskctl
    share/zsh/site-functions/_taskctl share/fish/vendor_completions.d/taskctl.fish
)
for size in "${sizes[@]}"; do files+=("share/icons/hicolor/${size}x${size}/apps/tasktray.png"); done

refresh_menus() {
    command -v update-desktop-database > /dev/null &&
        update-desktop-database -q "$prefix/share/applications" 2> /dev/null || true
    command -v gtk-update-icon-cache > /dev/null &&
        gtk-update-icon-cache -q -t "$prefix/share/icons/hicolor" 2> /dev/null || true
}

if [[ $action == uninstall ]]; then
    for file in "${files[@]}"; do rm -f "$prefix/$file"; done
    rmdir "$prefix/lib/tasktray" 2> /dev/null || true
    refresh_menus
    echo "Removed Tasktray from $prefix (your tasks and settings stay in ~/.local/share/tasktray)."
    exit 0
fi

for bin in tasktray tasktray-shim taskctl; do
    [[ -x $build/$bin ]] || { echo "install.sh: $build/$bin is missing: build it first" >&2; exit 2; }
done
put() { # put MODE SOURCE DEST (relative to PREFIX): a new file, never written through a link
    mkdir -p "$(dirname "$prefix/$3")"
    install -m "$1" "$2" "$prefix/$3.new"
    mv -f "$prefix/$3.new" "$prefix/$3"
}
put 755 "$build/tasktray" bin/tasktray
put 755 "$build/taskctl" bin/taskctl
put 755 "$build/tasktray-shim" lib/tasktray/tasktray-shim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -e 's/{{{name}}}/Tasktray/' \
    -e 's/{{{comment}}}/Run Claude Code tasks in the background from your tray/' \
    -e "s|{{{exec}}}|$prefix/bin/tasktray|" -e 's/{{{icon}}}/tasktray/' \
    -e 's/{{{categories}}}/Development;/' "$here/tasktray.desktop" > "$tmp/Tasktray.desktop"
put 644 "$tmp/Tasktray.desktop" share/applications/Tasktray.desktop
for size in "${sizes[@]}"; do
    put 644 "$(icon_source "$size")" "share/icons/hicolor/${size}x${size}/apps/tasktray.png"
done
"$build/taskctl" man > "$tmp/taskctl.1"
"$build/taskctl" completions bash > "$tmp/taskctl.bash"
"$build/taskctl" completions zsh > "$tmp/_taskctl"
"$build/taskctl" completions fish > "$tmp/taskctl.fish"
put 644 "$tmp/taskctl.1" share/man/man1/taskctl.1
put 644 "$tmp/taskctl.bash" share/bash-completion/completions/taskctl
put 644 "$tmp/_taskctl" share/zsh/site-functions/_taskctl
put 644 "$tmp/taskctl.fish" share/fish/vendor_completions.d/taskctl.fish
refresh_menus
echo "Installed Tasktray $("$build/taskctl" --version | awk '{print $2}') in $prefix."
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "Add $prefix/bin to your PATH to run taskctl and tasktray from a terminal." ;;
esac
