//go:build headless

package main

import (
	"errors"
	"log/slog"

	"github.com/peerplay/peerplay/demo/pong/replay"
	"github.com/peerplay/peerplay/demo/pong/sim"
)

func runGUI(flags, sim.Config, *replay.Replay, *slog.Logger) error {
	return errors.New("this binary was built with -tags headless and has no window; run it with -headless")
}
