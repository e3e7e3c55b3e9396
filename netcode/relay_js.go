//go:build js && wasm

package netcode

import "github.com/pion/webrtc/v4"

// relayProtocol is not known in the browser build: PeerStats.RelayProtocol
// stays "" there (the browser's getStats() has it, asynchronously; not
// read yet).
func relayProtocol(*webrtc.PeerConnection) string { return "" }
