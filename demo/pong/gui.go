//go:build !headless

package main

import (
	"log/slog"
	"os"
	"strconv"

	"github.com/peerplay/peerplay/demo/pong/game"
	"github.com/peerplay/peerplay/demo/pong/replay"
	"github.com/peerplay/peerplay/demo/pong/sim"
)

// runGUI opens the window. PONG_SHOT=file.png with PONG_SHOT_FRAME=N saves
// the N-th drawn frame and exits (screenshot tests).
func runGUI(f flags, cfg sim.Config, rep *replay.Replay, log *slog.Logger) error {
	opt := game.Options{
		Name: f.name, Bot: f.bot, Sim: cfg, Record: f.record, Logger: log,
		Replay: rep, JoinTarget: f.join,
		Shot:        os.Getenv("PONG_SHOT"),
		ShotInMatch: os.Getenv("PONG_SHOT_IN_MATCH") != "",
		NetOverlay:  f.netstats,
		Out:         os.Stdout,
		ShotDir:     os.Getenv("PONG_SHOT_DIR"),
		For:         f.forDur,
	}
	if n, err := strconv.Atoi(os.Getenv("PONG_SHOT_FRAME")); err == nil {
		opt.ShotFrame = n
	} else if opt.Shot != "" {
		opt.ShotFrame = 120
	}
	switch {
	case rep != nil:
		opt.Start = game.StartReplay
	case f.local:
		opt.Start = game.StartLocal
	case f.host:
		opt.Start = game.StartHost
	case f.join != "":
		opt.Start = game.StartJoin
	}
	if f.sound {
		snd, err := game.NewSound()
		if err != nil {
			log.Debug("pong: playing silent", "err", err)
		} else {
			opt.Sound = snd
			log.Debug("pong: sound on")
		}
	}
	nw, closeNet, err := newNetwork(f, log)
	if err != nil {
		return err
	}
	defer closeNet()
	if nw != nil {
		opt.Net = nw
	}
	return game.Run(game.New(opt))
}
