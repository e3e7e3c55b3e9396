//go:build js

package signaling

import (
	"context"

	"github.com/coder/websocket"
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
	if err := ws.Write(ctx, websocket.MessageText, encodeFrame(&frame{Type: typePing})); err != nil {
		return err
	}
	select {
	case <-c.pong:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readMessage reads one message, and returns at ctx's end without waiting
// for the browser: coder/websocket closes the connection when a Read's
// context ends, and under js every close waits for the browser's close
// event, which a silent server delays until the browser's
// closing-handshake timeout (a minute in Chromium). The read is left to
// finish on its own goroutine then; it ends with that close event.
func readMessage(ctx context.Context, ws *websocket.Conn) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		_, b, err := ws.Read(context.Background())
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-ctx.Done():
		abandon(ws)
		return nil, context.Cause(ctx)
	}
}

// abandon starts closing the connection and returns at once: a close
// waits for the browser's close event (see readMessage), which a silent
// server delays; the goroutine ends with that event.
func abandon(ws *websocket.Conn) { go func() { _ = ws.CloseNow() }() }
