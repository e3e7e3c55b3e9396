//go:build js

package proto

import (
	"context"

	"github.com/coder/websocket"
)

// ReadMessage reads one message, and returns at ctx's end without waiting
// for the browser: coder/websocket closes the connection when a Read's
// context ends, and under js every close waits for the browser's close
// event, which a silent server delays until the browser's
// closing-handshake timeout (a minute in Chromium). The read is left to
// finish on its own goroutine then; it ends with that close event.
func ReadMessage(ctx context.Context, ws *websocket.Conn) ([]byte, error) {
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
		Abandon(ws)
		return nil, context.Cause(ctx)
	}
}

// Abandon starts closing the connection and returns at once: a close
// waits for the browser's close event (see ReadMessage), which a silent
// server delays; the goroutine ends with that event.
func Abandon(ws *websocket.Conn) { go func() { _ = ws.CloseNow() }() }
