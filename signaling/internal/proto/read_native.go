//go:build !js

package proto

import (
	"context"

	"github.com/coder/websocket"
)

// ReadMessage reads one message; ctx's end closes the connection.
func ReadMessage(ctx context.Context, ws *websocket.Conn) ([]byte, error) {
	_, b, err := ws.Read(ctx)
	return b, err
}

// Abandon closes the connection without a close handshake.
func Abandon(ws *websocket.Conn) { _ = ws.CloseNow() }
