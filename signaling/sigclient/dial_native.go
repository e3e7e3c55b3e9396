//go:build !js

package sigclient

import "github.com/coder/websocket"

// dialOptions maps DialOptions onto the WebSocket library. Compression is
// off: signaling frames are small, and per-message deflate costs memory on
// every server connection.
func dialOptions(o DialOptions) *websocket.DialOptions {
	return &websocket.DialOptions{
		HTTPHeader:      o.Header,
		HTTPClient:      o.HTTPClient,
		CompressionMode: websocket.CompressionDisabled,
	}
}
