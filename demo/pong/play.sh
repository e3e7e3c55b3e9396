#!/usr/bin/env bash
# Installs what the Pong demo needs on Debian/Ubuntu (if missing) and starts
# a hosted game. Extra arguments go to the game, e.g.:
#   demo/pong/play.sh                     host a game (default)
#   demo/pong/play.sh -join K7Q2          join a game seen on the LAN
#   demo/pong/play.sh -local              play against the bot
set -euo pipefail
cd "$(dirname "$0")"

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

args=("$@")
[ ${#args[@]} -gt 0 ] || args=(-host)
exec go run . "${args[@]}"
