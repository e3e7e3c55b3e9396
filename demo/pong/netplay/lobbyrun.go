package netplay

import (
	"fmt"
	"slices"
	"time"

	"github.com/peerplay/peerplay/demo/pong/sim"
	"github.com/peerplay/peerplay/lobby"
	"github.com/peerplay/peerplay/netcode/transport"
)

// runningEvent handles the lobby's events about a running match: this
// player's seat coming back after a restart (EventRejoin), and what a
// watcher shows (EventWatch).
func (r *Room) runningEvent(ev lobby.Event) {
	switch ev.Kind {
	case lobby.EventRejoin:
		if r.match != nil && r.match.seed == ev.Match.Seed {
			return
		}
		if r.match != nil {
			r.match.retire()
		}
		r.note("rejoining the running match...")
		if err := r.startMatch(ev.Match, true); err != nil {
			r.err = err
		}
	case lobby.EventWatch:
		r.startWatch(ev.Match, ev.Source)
	}
}

// startWatch shows match m (unless it is the one shown) from source's
// stream, witnessed by the other seats.
func (r *Room) startWatch(m lobby.Match, source transport.PeerID) {
	if r.match != nil && r.match.seed == m.Seed {
		return
	}
	if r.match != nil {
		r.match.retire()
	}
	win := winScore(m)
	src, witnesses := r.sources(m.Seats, source)
	sp, err := r.newSpectator(MatchGameID(win, m.Seed), src, witnesses, WatchDelay)
	if err != nil {
		r.err = fmt.Errorf("netplay: watching: %w", err)
		return
	}
	r.match = newWatchMatch(sp, sim.Config{Seed: m.Seed, WinScore: win}, r)
	r.match.seats = slices.Clone(m.Seats)
	r.match.seed = m.Seed
	r.match.gameID = MatchGameID(win, m.Seed)
	r.overAt = time.Time{}
	r.note("watching " + r.name(m.Seats[0]) + " and " + r.name(m.Seats[1]))
}
