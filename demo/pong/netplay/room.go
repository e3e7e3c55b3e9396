package netplay

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/peerplay/peerplay/demo/pong/lan"
	"github.com/peerplay/peerplay/demo/pong/play"
	"github.com/peerplay/peerplay/demo/pong/replay"
	"github.com/peerplay/peerplay/demo/pong/sim"
	"github.com/peerplay/peerplay/lobby"
	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/rollback"
)

// ReopenAfter is how long the host keeps a finished match's lockstep
// session running (so the peer receives the last inputs it needs) before
// it reopens the lobby for a rematch.
const ReopenAfter = 1500 * time.Millisecond

// LeaveGrace is how long a player of the running match who said goodbye
// in the lobby has to enter the room again (a restarted game) before the
// others' match ends with "NAME left the game".
const LeaveGrace = 3 * time.Second

// Room is a pong room on a mesh. Only the game loop may call it (Poll,
// Match and Tick run there); Close may come from anywhere.
//
// Rematch: when a match is over, the host reopens the lobby after
// ReopenAfter; every peer then retires its match (Match returns nil again)
// and the players are back in the lobby, not ready. SetReady(true) during
// the finished match is remembered and applied once the lobby reopens;
// when both are ready, a new match starts with a new seed. The lockstep
// GameID carries 16 bits of the seed, so a late datagram of the previous
// match is dropped as foreign rather than read as the new match's.
type Room struct {
	net   *Network
	mesh  *netcode.Mesh
	lobby *lobby.Lobby
	chat  *roomChat
	code  string
	hint  string
	srv   *Server
	ann   *lan.Announcer
	// internet is the join hint's internet line (internet.go); nil = none.
	internet func() string

	joined   bool // entered an existing room (not its creator)
	embedded bool // the signaling server runs in the host's game
	record   io.Writer

	match     *Match
	watching  bool   // a watcher (Config.Watch): never seated
	waitShown string // the "waiting for" notice last given
	// leaving: players of the running match who said goodbye in the
	// lobby, and when the match ends for it unless they are back.
	leaving   map[transport.PeerID]time.Time
	overAt    time.Time // when the running match ended
	wantReady bool      // ready for the rematch, once the lobby reopens
	host      transport.PeerID
	err       error
	names     map[transport.PeerID]string
	notes     []string
	rates     map[transport.PeerID]*rateSample

	// roomFile is the hosted room's file (Config.RoomFile), or the
	// joined room's (Config.JoinFile), refreshed by Poll and removed by
	// Close; "" = none.
	roomFile    string
	roomTouched time.Time // when roomFile's time was last set

	closeOnce sync.Once
}

var _ play.Room = (*Room)(nil)

// Code is the room code.
func (r *Room) Code() string { return r.code }

// JoinHint is the command a friend runs to join; "" for a joiner (who
// knows the code already).
func (r *Room) JoinHint() string {
	if r.internet != nil {
		return r.hint + "\n" + r.internet()
	}
	return r.hint
}

// Players lists the lobby's members.
func (r *Room) Players() []play.Player {
	st := r.lobby.State()
	var out []play.Player
	for _, m := range st.Members {
		seat := -1 // not seated yet: the lobby seats players at the start
		if r.match != nil {
			seat = slices.Index(r.match.seats, m.ID)
		}
		out = append(out, play.Player{
			ID: string(m.ID), Name: m.Name, Ready: m.Ready, Host: m.ID == st.Host,
			Seat: seat, Local: m.ID == st.Local,
		})
		r.names[m.ID] = m.Name
	}
	return out
}

func (r *Room) name(id transport.PeerID) string {
	if n, ok := r.names[id]; ok && n != "" {
		return n
	}
	return "a player"
}

// learnNames takes the names the mesh knows (from signaling) for peers
// the lobby has not named yet.
func (r *Room) learnNames() {
	for _, p := range r.mesh.Stats().Peers {
		if _, ok := r.names[p.Peer]; !ok && p.Name != "" {
			r.names[p.Peer] = p.Name
		}
	}
}

func (r *Room) note(s string) {
	if len(r.notes) > 0 && r.notes[len(r.notes)-1] == s {
		return
	}
	r.notes = append(r.notes, s)
}

// Poll drains the mesh, lobby and chat, starts the match when the lobby
// launches it, and runs the rematch rules.
func (r *Room) Poll() (chatLines []play.ChatLine, notices []string) {
	if r.err != nil {
		return nil, nil
	}
	if r.roomFile != "" && time.Since(r.roomTouched) >= roomFileRefresh {
		r.roomTouched = time.Now()
		if err := touchRoomFile(r.roomFile, r.roomTouched); err != nil {
			r.net.log.Debug("netplay: cannot refresh the room file: it may expire", "err", err)
		}
	}
	if evs := r.mesh.PollEvents(); len(evs) > 0 {
		r.learnNames()
		for _, ev := range evs {
			r.meshEvent(ev)
		}
	}
	st := r.lobby.State()
	if st.Host != "" {
		r.host = st.Host
	}
	for _, ev := range r.lobby.PollEvents() {
		switch ev.Kind {
		case lobby.EventJoined, lobby.EventLateArrival:
			r.names[ev.Peer] = ev.Member.Name
			delete(r.leaving, ev.Peer)
			switch {
			case ev.Peer == st.Local:
			case ev.Member.Watching:
				r.note(ev.Member.Name + " is watching")
			case ev.Kind == lobby.EventLateArrival:
				r.note(ev.Member.Name + " joined (plays the next match)")
			default:
				r.note(ev.Member.Name + " joined")
			}
			r.updateBeacon()
		case lobby.EventLeft:
			r.note(r.name(ev.Peer) + " left")
			r.updateBeacon()
			if r.match != nil && !r.match.over() && ev.Reason == lobby.ReasonLeft && slices.Contains(r.match.seats, ev.Peer) {
				// Quit on purpose, most likely: the match cannot go on,
				// unless the player enters again at once (a restarted
				// game's lobby may say goodbye to a lobby it founded
				// before it found this one). A player whose game died
				// leaves without a goodbye and may come back later.
				if r.leaving == nil {
					r.leaving = map[transport.PeerID]time.Time{}
				}
				r.leaving[ev.Peer] = time.Now().Add(LeaveGrace)
			}
		case lobby.EventCountdown:
			r.note(fmt.Sprintf("starting in %v", ev.Countdown.Round(time.Second)))
		case lobby.EventCountdownCancelled:
			r.note("start cancelled")
		case lobby.EventStartFailed:
			r.note("the start failed; press R to try again")
			r.net.log.Debug("netplay: start failed", "err", ev.Err)
		case lobby.EventStarted:
			r.maybeStart(ev.Match)
		case lobby.EventKicked:
			r.err = &play.Problem{Say: "the host removed you from the room"}
		default:
			r.runningEvent(ev)
		}
	}
	if m, ok := r.lobby.Match(); ok {
		r.maybeStart(m)
	}
	r.rematch()
	for id, at := range r.leaving {
		if r.match == nil || r.match.over() {
			delete(r.leaving, id)
		} else if time.Now().After(at) {
			r.err = &play.Problem{Say: r.name(id) + " left the game"}
		}
	}
	if r.match != nil {
		if w := r.match.waiting(); w != r.waitShown {
			r.waitShown = w
			if w != "" {
				r.note("waiting for " + w + "...")
			}
		}
	}
	chatLines = r.chat.poll()
	notices, r.notes = r.notes, nil
	return chatLines, notices
}

func (r *Room) meshEvent(ev netcode.Event) {
	switch ev.Kind {
	case netcode.EventLeft, netcode.EventFailed:
		who := r.name(ev.Peer)
		if ev.Kind == netcode.EventFailed {
			r.note("lost the connection to " + who)
			r.net.log.Debug("netplay: peer failed", "peer", ev.Peer, "name", who, "err", ev.Err)
		}
		switch {
		case r.joined && r.embedded && ev.Peer == r.host && (ev.Kind == netcode.EventLeft || !r.playsWith(ev.Peer)):
			// The signaling server left with the host: nobody can join
			// this room any more. (A host that plays the running match
			// and failed, not quit, may come back: its restarted game
			// reopens the room, and lockstep waits for it, or cuts it
			// off.)
			r.err = &play.Problem{Say: who + " (the host) left, which closes the room"}
		}
		// Otherwise a player of the running match may come back (a
		// restart with the same identity): lockstep waits for them and
		// ends the match if they do not (Match.fail); one who quits says
		// goodbye in the lobby (Poll).
	case netcode.EventRefused:
		r.note("refused a player with another version of Pong")
		r.net.log.Debug("netplay: refused a peer", "err", ev.Err)
	case netcode.EventSignalingLost:
		if !(r.joined && r.embedded) {
			r.note("lost the signaling server: nobody new can join (the game goes on)")
		}
	case netcode.EventSignalingRestored:
		r.note("the signaling server is back")
	}
}

// playsWith reports whether id holds a seat of the running match (not
// over yet).
func (r *Room) playsWith(id transport.PeerID) bool {
	return r.match != nil && !r.match.over() && slices.Contains(r.match.seats, id)
}

// maybeStart starts m unless it is the match already running (or this
// peer has no seat in it: a watcher).
func (r *Room) maybeStart(m lobby.Match) {
	if r.match != nil && r.match.seed == m.Seed || !slices.Contains(m.Seats, r.mesh.Local()) {
		return
	}
	if r.match != nil {
		r.match.retire()
	}
	if err := r.startMatch(m, false); err != nil {
		r.err = err
	}
}

// rematch runs the rules of the type comment.
func (r *Room) rematch() {
	if r.match == nil || !r.match.over() {
		return
	}
	now := time.Now()
	if r.overAt.IsZero() {
		r.overAt = now
	}
	st := r.lobby.State()
	switch st.Phase {
	case lobby.PhaseStarted:
		if st.Host == st.Local && now.Sub(r.overAt) >= ReopenAfter {
			if err := r.lobby.Reopen(); err != nil {
				r.net.log.Debug("netplay: reopen", "err", err)
			}
		}
	case lobby.PhaseOpen, lobby.PhaseCountdown: // reopened: back to the lobby
		r.match.retire()
		r.match = nil
		r.overAt = time.Time{}
		if r.wantReady {
			r.wantReady = false
			if err := r.lobby.SetReady(true); err != nil {
				r.net.log.Debug("netplay: ready for the rematch", "err", err)
			}
		}
	}
}

func (r *Room) updateBeacon() {
	if r.ann == nil {
		return
	}
	st := r.lobby.State()
	players := 0
	for _, m := range st.Members {
		if !m.Watching {
			players++
		}
	}
	_ = r.ann.Update(lan.Beacon{Name: r.name(st.Host), Room: r.code, Port: r.srv.Port(), Players: players, Max: 2})
}

// MatchGameID is the lockstep GameID of a match with this win score and seed:
// LockstepGameID(win) with bits 16..31 taken from the seed.
func MatchGameID(win int, seed uint64) uint64 {
	return replay.LockstepGameID(win) | uint64(uint16(seed>>48))<<16
}

// winScore is the match length the host set (lobby settings data).
func winScore(m lobby.Match) int {
	win := sim.DefaultWinScore
	if d := m.Settings.Data; len(d) >= 2 {
		win = int(binary.LittleEndian.Uint16(d))
	}
	return win
}

// startMatch starts the local seat's match; join: the match runs already
// and this peer's seat comes back in it (a restart: see "Rejoin" in the
// package doc).
func (r *Room) startMatch(m lobby.Match, join bool) error {
	if len(m.Seats) != 2 {
		return fmt.Errorf("netplay: the lobby started a match with %d seats; pong needs 2", len(m.Seats))
	}
	win := winScore(m)
	cfg := lockstep.Config{
		Seats:      m.Seats,
		InputDelay: r.net.cfg.InputDelay,
		Seed:       m.Seed,
		GameID:     MatchGameID(win, m.Seed),
		Record:     r.record,
		Logger:     r.net.log,
		Control:    r.mesh.Channel(chanControl),
		Join:       join,
	}
	if join {
		cfg.Record = nil // a recording starts at frame 0
	}
	r.record = nil // one recording per room: the first match
	adaptive(&cfg, r.net.cfg.Rollback)
	if r.net.cfg.Rollback {
		// Rejoin works as in lockstep (sync/rollback: "Rejoin, join in
		// progress and spectators"): the same Control agreement, and the
		// game catches up from a Spectator before its first request.
		sess, err := rollback.NewSession[sim.Input](r.mesh.Channel(chanInput), rollback.Config{Lockstep: cfg})
		if err != nil {
			return fmt.Errorf("netplay: starting rollback: %w", err)
		}
		r.match = newRollbackMatch(sess, sim.Config{Seed: m.Seed, WinScore: win}, r)
		r.match.str = r.newStreamer(len(m.Seats), cfg.GameID)
		if join {
			if r.match.sp, err = r.catchUpFrom(m.Seats, cfg.GameID); err != nil {
				_ = sess.Close()
				r.match = nil
				return fmt.Errorf("netplay: catching up: %w", err)
			}
		}
	} else {
		sess, err := lockstep.NewSession[sim.Input](r.mesh.Channel(chanInput), cfg)
		if err != nil {
			return fmt.Errorf("netplay: starting lockstep: %w", err)
		}
		r.match = newMatch(sess, sim.Config{Seed: m.Seed, WinScore: win}, r)
		r.match.str = r.newStreamer(len(m.Seats), cfg.GameID)
		if join {
			if r.match.sp, err = r.catchUpFrom(m.Seats, cfg.GameID); err != nil {
				_ = sess.Close()
				r.match = nil
				return fmt.Errorf("netplay: catching up: %w", err)
			}
		}
	}
	r.match.seats = slices.Clone(m.Seats)
	r.match.seed = m.Seed
	r.match.gameID = cfg.GameID
	if !join {
		r.note("the match started")
	}
	r.overAt = time.Time{}
	return nil
}

// Match returns the running match, or nil (before it starts, and again
// once the lobby reopened after it).
func (r *Room) Match() play.Match {
	if r.match == nil {
		return nil
	}
	return r.match
}

// SetReady marks the local player ready. During a finished match it
// means "ready for a rematch", applied when the lobby reopens.
func (r *Room) SetReady(ready bool) error {
	if r.watching {
		return nil // a watcher plays no match
	}
	if r.match != nil && r.match.over() {
		r.wantReady = ready
		return nil
	}
	return r.lobby.SetReady(ready)
}

// Say sends a chat line.
func (r *Room) Say(text string) error { return r.chat.say(text) }

// Err is why the room ended, or nil.
func (r *Room) Err() error { return r.err }

// Waiting names the player the running match waits for (stalled for a
// quarter of a second on their inputs), or "".
func (r *Room) Waiting() string {
	if r.match == nil {
		return ""
	}
	return r.match.waiting()
}

// Stats returns one line per remote peer for the network overlay.
func (r *Room) Stats() []play.PeerStat {
	ms := r.mesh.Stats()
	var ls lockstep.Stats
	if r.match != nil {
		ls = r.match.sess.Stats()
	}
	var out []play.PeerStat
	for _, p := range ms.Peers {
		ps := play.PeerStat{
			Name: p.Name, RTT: p.RTT, Jitter: p.RTTJitter, Relayed: p.Relayed(),
			InputDelay: ls.InputDelay, Stalls: int(ls.Stalls),
		}
		if ps.Name == "" {
			ps.Name = r.name(p.Peer)
		}
		ps.KbpsIn, ps.KbpsOut = r.rate(p)
		if r.match != nil && r.match.rb != nil {
			ps.Rollback = true
			ps.RollbacksPerSec, ps.ResimPerTick = r.match.rb.rates()
		}
		ps.Loss = r.loss(p.Peer, ls)
		out = append(out, ps)
	}
	return out
}

// Close leaves the room, stops the embedded server and announcer.
func (r *Room) Close() error {
	r.closeOnce.Do(func() {
		if r.match != nil {
			_ = r.match.sess.Close()
		}
		_ = r.chat.close()
		_ = r.lobby.Close()
		_ = r.mesh.Close()
		if r.ann != nil {
			_ = r.ann.Close()
		}
		if r.srv != nil {
			_ = r.srv.Close()
		}
		if r.roomFile != "" {
			_ = os.Remove(r.roomFile) // closed on purpose: a next Host opens a new room
		}
	})
	return nil
}
