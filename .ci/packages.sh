# Debian packages the tests and the demo need; sourced by .ci/run.
PACKAGES=(
	# signaling: coturn interop; signaling at scale: NATS
	coturn nats-server
	# network lab: namespaces, veth, NAT
	iproute2 iptables procps util-linux
	# FlatBuffers compiler: CI regenerates the committed code and diffs it
	flatbuffers-compiler
	# demo/pong: ebiten needs cgo + X11/GL headers; Xvfb for a real window
	gcc libc6-dev pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxi-dev
	libxinerama-dev libxrandr-dev libxxf86vm-dev libasound2-dev
	xvfb xauth libgl1-mesa-dri libglx-mesa0
	# browsertest: wasm peers and the Pong page in headless Chromium
	chromium
	# demo/pong GUI tests: key presses into the Xvfb window
	xdotool
	# bench: the PeerJS server the signaling benchmarks compare against
	# (npm ci of bench/peerjs into the user cache, once)
	nodejs npm
)

install_packages() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' && continue
		# A nodejs from NodeSource bundles npm and conflicts with Debian's npm
		# package: what the benchmarks need is the command.
		[ "$p" = npm ] && command -v npm >/dev/null && continue
		missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		echo "all ${#PACKAGES[@]} packages present"
		return
	fi
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "installing: ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
