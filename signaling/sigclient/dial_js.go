//go:build js

package sigclient

import "github.com/coder/websocket"

// dialOptions maps DialOptions onto the browser's WebSocket, which sets its
// own headers and negotiates compression itself: Header and HTTPClient do
// not apply under js/wasm.
func dialOptions(DialOptions) *websocket.DialOptions {
	return &websocket.DialOptions{}
}
