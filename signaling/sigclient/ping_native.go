//go:build !js

package sigclient

import (
	"context"

	"github.com/coder/websocket"
)

// ping is the client's keepalive probe: a WebSocket ping, answered by the
// server's WebSocket stack.
func (c *Client) ping(ctx context.Context, ws *websocket.Conn) error {
	return ws.Ping(ctx)
}
