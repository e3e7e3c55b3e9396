// Package browsertest runs Peerplay in a real browser: Debian's chromium,
// driven over the DevTools protocol (chromedp), runs Go/wasm programs
// against native peers on loopback.
//
//   - TestBrowserMesh: a wasm netcode peer and two native peers form a
//     mesh and exchange reliable (in order), unreliable and > 1 MiB chunked
//     messages, every peer with every other.
//   - TestBrowserLockstep: a wasm and a native peer start a match from a
//     lobby, play 600 lockstep frames and chat; checksums and chat order
//     agree.
//   - TestBrowserWasmToWasm: two wasm peers, each in its own chromium.
//   - TestBrowserPong (pong_test.go): demo/pong's page, opened from the
//     exact link a native `pong -host` prints, plays a match against it.
//   - TestBrowserSignalingKeepalive: the js signaling client notices a
//     server that went silent (a frozen TCP proxy) within its keepalive.
//   - TestBrowserPlainJS: a client in plain JavaScript (web/plain.html),
//     written from netcode/PROTOCOL.md alone, joins a native mesh.
//   - TestBrowserOriginRefused: a page from an origin signaling does not
//     allow gets signaling.ErrOrigin (close code 4403), not a bare
//     "closed connection".
//
// The tests carry the build tag "browser" (they need chromium):
//
//	go test -tags browser -race ./browsertest/
//
// .ci/test runs them. The same scenario code (package
// scenario) runs on both sides: compiled to js/wasm in the page
// (package peer) and natively in the test.
//
// Loopback only. Chromium without camera/microphone permission offers just
// an mDNS "<uuid>.local" host candidate, which nothing resolves on a
// machine without multicast; the harness grants both permissions over the
// DevTools protocol (Browser.grantPermissions) and starts chromium with
// --allow-loopback-in-peer-connection, so pages offer 127.0.0.1. Native
// peers gather loopback candidates only, and no STUN/TURN server is used.
package browsertest
