package main

import (
	"errors"
	"io"
	"log/slog"

	"github.com/peerplay/peerplay/demo/pong/play"
)

func newNetwork(flags, *slog.Logger) (play.Network, func(), error) {
	return nil, func() {}, nil
}

func runHeadlessNet(flags, io.Writer, *slog.Logger) error {
	return errors.New("networking is not built yet")
}
