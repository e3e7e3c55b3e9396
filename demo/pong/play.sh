#!/usr/bin/env bash
# Installs what the Pong demo needs on Debian/Ubuntu (if missing), builds it
# and starts a hosted game. Extra arguments go to the game, e.g.:
#   demo/pong/play.sh                     host a game (default)
#   demo/pong/play.sh -netstats           host, with the network overlay on
#   demo/pong/play.sh -join K7Q2          join a game seen on the LAN
#   demo/pong/play.sh -local              play against the bot
#   demo/pong/play.sh -menu               the menu (host, join, LAN games, bot)
# Works from any directory; the join command the game prints names this
# script by its absolute path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

PACKAGES=(gcc libc6-dev pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxi-dev
	libxinerama-dev libxrandr-dev libxxf86vm-dev libasound2-dev libgl1-mesa-dri libglx-mesa0)
missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "play.sh: installing ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null; then
	echo "play.sh: Go is not installed. Install Go $(sed -n 's/^go //p' go.mod) or newer (https://go.dev/doc/install), then run this again." >&2
	exit 1
fi

# Host by default, unless the arguments choose something else.
args=()
mode=""
for a in "$@"; do
	case "$a" in
	-menu | --menu) mode=menu; continue ;;
	-host | --host | -join | --join | -join=* | --join=* | -local | --local | -replay | --replay | -replay=* | --replay=* | -headless | --headless | -h | -help | --help) mode=set ;;
	esac
	args+=("$a")
done
[ -n "$mode" ] || args=(-host "${args[@]}")

bin="${XDG_CACHE_HOME:-$HOME/.cache}/peerplay/pong"
mkdir -p "$(dirname "$bin")"
if [ ! -x "$bin" ]; then
	echo "play.sh: building Pong for the first time: Go downloads and compiles ebiten and pion, which takes a few minutes (later runs start in seconds)..."
else
	echo "play.sh: building Pong..."
fi
go build -o "$bin" .
export PONG_JOIN_COMMAND="$here/play.sh"
exec "$bin" "${args[@]}"
