//go:build js

package sigclient

import (
	"context"

	"github.com/coder/websocket"
	"github.com/peerplay/peerplay/signaling/internal/proto"
)

// ping is the client's keepalive probe in a browser, where script can
// neither send a WebSocket ping nor see one (coder/websocket's Conn.Ping
// returns at once under js): a protocol "ping" message, answered by the
// server's "pong" message (the reader signals c.pong). Without it a
// connection whose server silently vanished (a dead NAT mapping, a pulled
// cable on the way) would never be noticed, and the client would not
// reconnect.
func (c *Client) ping(ctx context.Context, ws *websocket.Conn) error {
	select { // a late pong of an earlier probe does not answer this one
	case <-c.pong:
	default:
	}
	if err := ws.Write(ctx, websocket.MessageText, proto.EncodeFrame(&proto.Frame{Type: proto.TypePing})); err != nil {
		return err
	}
	select {
	case <-c.pong:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
