package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/peerplay/peerplay/demo/pong/play"
	"github.com/peerplay/peerplay/demo/pong/replay"
	"github.com/peerplay/peerplay/demo/pong/sim"
)

// runHeadless plays without a window: a replay, a local bot match, or (with
// -host/-join) a networked match with the bot on the local paddle.
func runHeadless(f flags, cfg sim.Config, rep *replay.Replay, out io.Writer, log *slog.Logger) error {
	if rep != nil {
		s, err := rep.Play()
		result(out, &s)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "replay: %d frames, every recorded checksum matches\n", len(rep.Inputs))
		return nil
	}
	if f.host || f.join != "" {
		return runHeadlessNet(f, out, log)
	}
	m := play.NewLocal(play.LocalConfig{Sim: cfg, Bot: true, Record: f.record != ""})
	for !m.State().Over() {
		_ = m.Tick(sim.Input{})
	}
	result(out, m.State())
	if f.record != "" {
		if err := m.Replay().Save(f.record); err != nil {
			return err
		}
		log.Info("pong: replay saved", "path", f.record)
	}
	return nil
}
