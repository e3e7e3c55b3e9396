package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/peerplay/peerplay/demo/pong/netplay"
	"github.com/peerplay/peerplay/demo/pong/play"
	"github.com/peerplay/peerplay/demo/pong/sim"
)

func netConfig(f flags, log *slog.Logger) netplay.Config {
	return netplay.Config{
		Signal:     f.signal,
		Listen:     f.listen,
		PublicAddr: f.publicAddr,
		LAN:        f.lanDisc,
		LANAddr:    f.lanAddr,
		Loopback:   f.loopback,
		WinScore:   f.score,
		Rollback:   f.rollback,
		Web:        webFiles(log),
		Logger:     log,
		Identity:   f.ident,
		Watch:      f.watch != "",
		RoomFile:   f.roomFile,
		JoinFile:   f.joinFile,

		JoinCommand: joinCommand(),
	}
}

func newNetwork(f flags, log *slog.Logger) (play.Network, func(), error) {
	n, err := netplay.New(netConfig(f, log))
	if err != nil {
		return nil, nil, err
	}
	return n, func() { n.Close() }, nil
}

// runHeadlessNet hosts or joins, marks the bot ready, plays the match with
// the bot on the local paddle at -tps ticks per second, and prints the
// result line at the frame the match ended.
func runHeadlessNet(f flags, out io.Writer, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(f.timeout)*time.Second)
	defer cancel()
	cfg := netConfig(f, log)
	var rec *os.File
	if f.record != "" {
		var err error
		if rec, err = os.Create(f.record); err != nil {
			return err
		}
		defer rec.Close()
		cfg.Record = rec
	}
	n, err := netplay.New(cfg)
	if err != nil {
		return err
	}
	defer n.Close()
	var room play.Room
	if f.host {
		room, err = n.Host(ctx, f.name)
	} else {
		room, err = n.Join(ctx, f.join, f.name)
	}
	if err != nil {
		say, detail := play.Explain(err)
		log.Debug("pong: join", "detail", detail)
		return errors.New(say)
	}
	defer room.Close()
	if f.host {
		fmt.Fprintf(out, "host room=%s\n", room.Code())
		fmt.Fprintf(out, "join with: %s\n", room.JoinHint())
	}
	if err := room.SetReady(true); err != nil {
		return err
	}
	tick := time.NewTicker(time.Second / time.Duration(max(f.tps, 1)))
	defer tick.Stop()
	var final *sim.State
	var shown uint32 // the last -progress step printed
	var lingerUntil, matchStart, saidAt time.Time
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w after %ds", errTimeout, f.timeout)
		case <-tick.C:
		}
		chat, notices := room.Poll()
		for _, c := range chat {
			fmt.Fprintf(out, "chat: %s: %s\n", c.From, c.Text)
		}
		for _, s := range notices {
			log.Info("room: " + s)
		}
		if final != nil && time.Now().After(lingerUntil) {
			break
		}
		m := room.Match()
		if err := room.Err(); err != nil {
			if final != nil {
				break // the peer left after the end: fine
			}
			if nm, ok := m.(*netplay.Match); ok && f.forDur > 0 {
				fmt.Fprintln(out, nm.Summary()) // a benchmark: the peer quit first
				return nil
			}
			return err
		}
		if m == nil {
			continue
		}
		if f.say != "" && final == nil && time.Since(saidAt) >= sayEvery {
			saidAt = time.Now()
			if err := room.Say(f.say); err != nil {
				log.Debug("pong: say", "err", err)
			}
		}
		if matchStart.IsZero() {
			matchStart = time.Now()
		}
		if f.forDur > 0 && time.Since(matchStart) >= f.forDur {
			if nm, ok := m.(*netplay.Match); ok {
				fmt.Fprintln(out, nm.Summary())
			}
			return nil
		}
		s := m.State()
		if err := m.Tick(sim.Bot(s, m.Seat())); err != nil && final == nil {
			return err
		}
		if f.progress > 0 && final == nil {
			shown = progress(out, m.State(), uint32(f.progress), shown)
		}
		if final == nil {
			if m.Final() != nil {
				final = m.Final() // the game-over frame's, however far m ticked since
				result(out, final)
				if l, ok := room.(interface{ Links() string }); ok {
					fmt.Fprint(out, l.Links())
				}
				if nm, ok := m.(*netplay.Match); ok {
					fmt.Fprintln(out, nm.Summary())
				}
				// Keep ticking a moment so the peer gets our last inputs.
				lingerUntil = time.Now().Add(2 * time.Second)
			}
		}
		if final != nil && time.Now().After(lingerUntil) {
			break
		}
	}
	return nil
}

// progress prints the -progress line for every step of n frames that s
// has passed since step shown (once: a rejoined or watching game that
// jumps frames prints the step it reached), and returns the step now shown.
func progress(out io.Writer, s *sim.State, n, shown uint32) uint32 {
	if step := s.Frame / n; step > shown {
		fmt.Fprintf(out, "progress frame=%d score=%d:%d\n", s.Frame, s.Score[0], s.Score[1])
		return step
	}
	return shown
}

// sayEvery spaces the -say lines of a headless match.
const sayEvery = 3 * time.Second
