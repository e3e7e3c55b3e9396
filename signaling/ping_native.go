//go:build !js

package signaling

import (
	"context"

	"github.com/coder/websocket"
)

// ping is the client's keepalive probe: a WebSocket ping, answered by the
// server's WebSocket stack.
func (c *Client) ping(ctx context.Context, ws *websocket.Conn) error {
	return ws.Ping(ctx)
}

// readMessage reads one message; ctx's end closes the connection.
func readMessage(ctx context.Context, ws *websocket.Conn) ([]byte, error) {
	_, b, err := ws.Read(ctx)
	return b, err
}

// abandon closes the connection without a close handshake.
func abandon(ws *websocket.Conn) { _ = ws.CloseNow() }
