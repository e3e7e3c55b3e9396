package lobby

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/peerplay/peerplay/lobby/internal/lobbyfb"
	"github.com/peerplay/peerplay/netcode/transport"
)

// Entering a running match (see the package doc, "Entering a running
// match"): a seat's player back after a restart (EventRejoin), a newcomer
// in an open seat (EventSeated), a spectator (EventWatch).

// reservedPrefix starts every placeholder PeerID. It begins with a NUL
// byte, which no netcode PeerID (a certificate fingerprint) contains; the
// host refuses a Hello from a peer whose ID has the prefix anyway.
const reservedPrefix = "\x00open:"

const (
	// serveEvery bounds how often the host answers one peer's
	// running-match requests; more are dropped and counted
	// (Stats.Ignored): the requester repeats them.
	serveEvery = 250 * time.Millisecond
	// askEvery is how often a member repeats a join or watch request the
	// host has not answered yet.
	askEvery = time.Second
)

// ReservedID returns the placeholder PeerID an empty reserved seat holds
// in Match.Seats (and Match.Reserved) until a newcomer takes it.
func ReservedID(seat int) transport.PeerID {
	return transport.PeerID(reservedPrefix + strconv.Itoa(seat))
}

// IsReservedID reports whether id is a placeholder of an empty reserved
// seat.
func IsReservedID(id transport.PeerID) bool { return strings.HasPrefix(string(id), reservedPrefix) }

// Watch makes the local peer a spectator (on) or a player again (off).
// A watching member is never seated; while a match runs, and whenever one
// starts, the host sends it what it needs to follow the match
// (EventWatch). A member seated in the running match cannot watch it.
func (l *Lobby) Watch(on bool) error {
	l.mu.Lock()
	if l.run != nil && l.run.Seat(l.local) >= 0 && on {
		l.mu.Unlock()
		return fmt.Errorf("%w: seated in the running match", ErrPhase)
	}
	l.mu.Unlock()
	return l.setProfile(func(p *profile) {
		p.watch = on
		if on {
			p.join = false
		}
	})
}

// JoinRunning asks the host for an open seat of the running match (a
// reserved seat still empty, or one whose player left for good). The host
// seats the local peer only if its Settings.LateJoin is on: then every
// peer reports EventSeated. It returns ErrPhase when no match runs or the
// local peer watches or is seated, and ErrLateJoinOff when the host's
// settings do not allow it.
func (l *Lobby) JoinRunning() error {
	l.mu.Lock()
	switch {
	case l.closed:
		l.mu.Unlock()
		return ErrClosed
	case l.v.phase != PhaseStarted || l.prof.watch || (l.run != nil && l.run.Seat(l.local) >= 0):
		l.mu.Unlock()
		return fmt.Errorf("%w: no running match to join", ErrPhase)
	case !l.v.settings.LateJoin:
		l.mu.Unlock()
		return ErrLateJoinOff
	}
	l.mu.Unlock()
	return l.setProfile(func(p *profile) { p.join = true })
}

// Running returns the match that runs as the local peer knows it: the
// seats with their current occupants (newcomers included). It is set for
// a seated peer (as Match), for a watching one after EventWatch, and for
// the host; ok is false when no match runs or the local peer was not told
// of it.
func (l *Lobby) Running() (Match, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.run == nil {
		return Match{}, false
	}
	return l.run.clone(), true
}

// players counts the members that do not watch.
func (l *Lobby) players() int { return countPlayers(l.v.members) }

func countPlayers(members []Member) int {
	n := 0
	for _, m := range members {
		if !m.Watching {
			n++
		}
	}
	return n
}

// freeSeat (host) opens p's seat of the running match: p left for good.
func (l *Lobby) freeSeat(p transport.PeerID) {
	if l.run == nil || l.v.phase != PhaseStarted {
		return
	}
	if i := l.run.Seat(p); i >= 0 {
		l.freed[i] = true
	}
}

// serveRunning (host) answers a member's Hello while a match runs: a seat
// without the match gets it back (Rejoin), a watcher gets the stream's
// sources (Watch), a newcomer asking to join is seated if allowed. The
// seat is always the sender's transport identity: no message names the
// seat a peer wants.
func (l *Lobby) serveRunning(from transport.PeerID, h *lobbyfb.HelloT) {
	m := l.run
	if !l.isHost || m == nil || l.v.phase != PhaseStarted || l.v.index(from) < 0 {
		return
	}
	holds := h.MatchTerm == m.Term && h.MatchRound == m.Round
	seat := m.Seat(from)
	if holds && (seat >= 0 || h.Watch || !h.Join) {
		return // nothing to tell
	}
	if t, ok := l.served[from]; ok && l.now.Sub(t) < serveEvery {
		l.stats.Ignored++ // a flood: it asks again in askEvery
		return
	}
	if len(l.served) >= 4*MaxMembers {
		clear(l.served)
	}
	l.served[from] = l.now
	switch {
	case seat >= 0:
		delete(l.freed, seat) // its player is back
		l.sendRunning(from, lobbyfb.RunningRoleRejoin, seat, "")
	case h.Watch:
		l.sendRunning(from, lobbyfb.RunningRoleWatch, -1, from)
	case h.Join:
		l.seatNewcomer(from)
	}
}

// seatNewcomer (host) gives p the first open seat: reserved and empty,
// else freed. Every seat (and p) hears of it.
func (l *Lobby) seatNewcomer(p transport.PeerID) {
	m := l.run
	if !l.v.settings.LateJoin || IsReservedID(p) {
		l.stats.Ignored++
		return
	}
	seat := slices.IndexFunc(m.Seats, IsReservedID)
	if seat < 0 {
		for i := range m.Seats {
			if l.freed[i] {
				seat = i
				break
			}
		}
	}
	if seat < 0 {
		l.stats.Ignored++ // no open seat: it stays Late
		return
	}
	delete(l.freed, seat)
	if i := slices.Index(m.Reserved, m.Seats[seat]); i >= 0 {
		m.Reserved[i] = p
	}
	m.Seats[seat] = p
	if i := l.v.index(p); i >= 0 && l.v.members[i].Late {
		l.mutate(func(nv *view) { nv.members[i].Late = false })
	}
	var to []transport.PeerID
	for _, s := range m.Seats {
		if !IsReservedID(s) && s != l.local && l.connected[s] {
			to = append(to, s)
		}
	}
	// Watchers too: one may succeed the host, and must know who holds
	// every seat then (TestWatcherHostKnowsNewcomer).
	for _, mb := range l.v.members {
		if mb.Watching && mb.ID != l.local && l.connected[mb.ID] && !slices.Contains(to, mb.ID) {
			to = append(to, mb.ID)
		}
	}
	l.sendRunningTo(to, lobbyfb.RunningRoleSeated, seat, p)
	if l.match != nil && l.match != l.run {
		l.match.Seats, l.match.Reserved = slices.Clone(m.Seats), slices.Clone(m.Reserved)
	}
	l.emit(Event{Kind: EventSeated, Peer: p, Seat: seat, Match: m.clone()})
	if p == l.local {
		l.match = l.run
	}
}

// retellSeats (host) tells a seat of the running match that is a member
// again (its link to the host was down, the host dropped it) who holds
// every other seat: it may have missed a Seated while it was away, which
// is never repeated otherwise (TestSeatedReachesSeatBackFromFlap). A
// seat that already knows an occupant ignores the repeat; the cost is
// one small message per seat, once per readmission.
func (l *Lobby) retellSeats(from transport.PeerID, h *lobbyfb.HelloT) {
	m := l.run
	if !l.isHost || m == nil || l.v.phase != PhaseStarted || l.v.index(from) < 0 ||
		h.MatchTerm != m.Term || h.MatchRound != m.Round || m.Seat(from) < 0 {
		return
	}
	for k, s := range m.Seats {
		if s != from && !IsReservedID(s) {
			l.sendRunningTo([]transport.PeerID{from}, lobbyfb.RunningRoleSeated, k, s)
		}
	}
}

// serveWatchers (host) tells the watching members of the match that just
// started.
func (l *Lobby) serveWatchers() {
	for _, mb := range l.v.members {
		if mb.Watching && mb.ID != l.local && l.connected[mb.ID] {
			l.served[mb.ID] = l.now
			l.sendRunning(mb.ID, lobbyfb.RunningRoleWatch, -1, mb.ID)
		}
	}
	if l.prof.watch && l.run != nil {
		src, wit := l.sources(l.local)
		if src != "" {
			l.emit(Event{Kind: EventWatch, Match: l.run.clone(), Source: src, Witnesses: wit})
		}
	}
}

// sources picks the stream for a watcher: the first seat connected to the
// host (or the host), then the others as witnesses.
func (l *Lobby) sources(watcher transport.PeerID) (transport.PeerID, []transport.PeerID) {
	var all []transport.PeerID
	for _, s := range l.run.Seats {
		if !IsReservedID(s) && s != watcher && (s == l.local || l.connected[s]) {
			all = append(all, s)
		}
	}
	if len(all) == 0 {
		return "", nil
	}
	return all[0], all[1:]
}

func (l *Lobby) runningMsg(role lobbyfb.RunningRole, seat int, peer transport.PeerID) *lobbyfb.RunningT {
	m := l.run
	r := &lobbyfb.RunningT{
		Term: m.Term, Round: m.Round, Seed: m.Seed, MaxPlayers: byte(m.Settings.MaxPlayers),
		Settings: m.Settings.Data, Role: role, Seat: int32(seat), Peer: string(peer),
		OpenFrom: byte(len(m.Seats) - len(m.Reserved)),
	}
	for i, s := range m.Seats {
		r.Seats = append(r.Seats, string(s))
		r.Teams = append(r.Teams, int32(m.Teams[i]))
	}
	return r
}

func (l *Lobby) sendRunning(to transport.PeerID, role lobbyfb.RunningRole, seat int, watcher transport.PeerID) {
	r := l.runningMsg(role, seat, "")
	if role == lobbyfb.RunningRoleWatch {
		src, wit := l.sources(watcher)
		if src == "" {
			return // nobody to stream from yet; the watcher asks again
		}
		r.Source = string(src)
		for _, w := range wit {
			r.Witnesses = append(r.Witnesses, string(w))
		}
	}
	l.send(to, lobbyfb.BodyRunning, r)
}

func (l *Lobby) sendRunningTo(to []transport.PeerID, role lobbyfb.RunningRole, seat int, peer transport.PeerID) {
	l.sendTo(to, lobbyfb.BodyRunning, l.runningMsg(role, seat, peer))
}

// onRunning (member) takes the host's word on the running match. Only the
// host followed speaks for it; an update must keep the match the receiver
// holds (term, round, seed) and may not move the receiver's own seat.
func (l *Lobby) onRunning(from transport.PeerID, r *lobbyfb.RunningT) {
	if l.isHost || from != l.v.host || l.mig.active {
		l.refuse(from, ErrRefusedRunning)
		return
	}
	m := Match{Term: r.Term, Round: r.Round, Seed: r.Seed,
		Settings: Settings{MaxPlayers: int(r.MaxPlayers), Data: slices.Clone(r.Settings)}}
	for i, s := range r.Seats {
		m.Seats = append(m.Seats, transport.PeerID(s))
		m.Teams = append(m.Teams, int(r.Teams[i]))
		if i >= int(r.OpenFrom) {
			m.Reserved = append(m.Reserved, transport.PeerID(s))
		}
	}
	same := l.run != nil && l.run.Term == m.Term && l.run.Round == m.Round
	if same && (l.run.Seed != m.Seed || len(l.run.Seats) != len(m.Seats)) {
		l.refuse(from, ErrRefusedRunning)
		return
	}
	seat := int(r.Seat)
	switch r.Role {
	case lobbyfb.RunningRoleRejoin:
		switch {
		case m.Seats[seat] != l.local:
			l.refuse(from, ErrRefusedRunning)
		case same:
			l.stats.Ignored++ // a repeat
		default:
			l.run, l.match = &m, &m
			l.emit(Event{Kind: EventRejoin, Peer: l.local, Seat: seat, Match: m.clone()})
			l.sendHello() // the host stops answering once our Hello shows the match
		}
	case lobbyfb.RunningRoleWatch:
		switch {
		case !l.prof.watch || m.Seat(l.local) >= 0 || m.Seat(transport.PeerID(r.Source)) < 0:
			l.refuse(from, ErrRefusedRunning)
		case same:
			l.stats.Ignored++
		default:
			wit := make([]transport.PeerID, len(r.Witnesses))
			for i, w := range r.Witnesses {
				wit[i] = transport.PeerID(w)
			}
			l.run = &m
			l.emit(Event{Kind: EventWatch, Match: m.clone(), Source: transport.PeerID(r.Source), Witnesses: wit})
			l.sendHello()
		}
	case lobbyfb.RunningRoleSeated:
		peer := transport.PeerID(r.Peer)
		switch {
		case m.Seats[seat] != peer:
			l.refuse(from, ErrRefusedRunning)
		case peer == l.local:
			if same && l.run.Seat(l.local) == seat {
				l.stats.Ignored++
				return
			}
			if l.prof.watch || (same && l.run.Seat(l.local) >= 0) {
				// A watcher is never seated, and a seat that plays is
				// never moved (TestRedTeamHostMovesOwnSeatBySeated).
				l.refuse(from, ErrRefusedRunning)
				return
			}
			l.run, l.match = &m, &m
			l.prof.join = false
			l.emit(Event{Kind: EventSeated, Peer: peer, Seat: seat, Match: m.clone()})
			l.sendHello()
		case l.run == nil && l.prof.watch:
			l.stats.Ignored++ // a watcher not told of the match yet
		case !same || l.run.Seats[seat] == l.local:
			l.refuse(from, ErrRefusedRunning) // another match, or our own seat
		case l.run.Seats[seat] == peer:
			l.stats.Ignored++
		case l.run.Seat(peer) >= 0:
			l.refuse(from, ErrRefusedRunning) // it plays another seat (TestRedTeamHostSeatsPlayerTwice)
		default:
			l.run.Seats[seat] = peer
			if k := seat - int(r.OpenFrom); k >= 0 && k < len(l.run.Reserved) {
				l.run.Reserved[k] = peer
			}
			l.emit(Event{Kind: EventSeated, Peer: peer, Seat: seat, Match: l.run.clone()})
		}
	default:
		l.stats.Ignored++
	}
}

// askAgain (member) repeats a join or watch request the host has not
// answered (it rate-limits answers).
func (l *Lobby) askAgain() {
	waiting := (l.prof.watch && l.run == nil) || (l.prof.join && (l.run == nil || l.run.Seat(l.local) < 0))
	if l.isHost || l.v.host == "" || l.mig.active || l.v.phase != PhaseStarted || !waiting || l.now.Before(l.askAt) {
		return
	}
	l.askAt = l.now.Add(askEvery)
	l.sendHello()
}

// validateRunning checks a Running message's shape.
func validateRunning(v *lobbyfb.RunningT) error {
	n := len(v.Seats)
	switch {
	case n == 0 || len(v.Teams) != n:
		return fmt.Errorf("%d seats, %d teams", n, len(v.Teams))
	case int(v.OpenFrom) > n:
		return fmt.Errorf("open from %d of %d", v.OpenFrom, n)
	case v.MaxPlayers < 1 || v.MaxPlayers > MaxMembers:
		return fmt.Errorf("max players %d", v.MaxPlayers)
	case len(v.Settings) > MaxSettingsSize:
		return fmt.Errorf("settings %d bytes", len(v.Settings))
	case v.Role < lobbyfb.RunningRoleRejoin || v.Role > lobbyfb.RunningRoleWatch:
		return fmt.Errorf("role %d", v.Role)
	case v.Role != lobbyfb.RunningRoleWatch && (v.Seat < 0 || int(v.Seat) >= n):
		return fmt.Errorf("seat %d of %d", v.Seat, n)
	case v.Role == lobbyfb.RunningRoleSeated && v.Peer == "":
		return fmt.Errorf("seated: no peer")
	case v.Role == lobbyfb.RunningRoleWatch && v.Source == "":
		return fmt.Errorf("watch: no source")
	}
	if err := checkIDs(v.Seats, true); err != nil {
		return err
	}
	for _, id := range []string{v.Peer, v.Source} {
		if id != "" {
			if err := checkIDs([]string{id}, false); err != nil {
				return err
			}
		}
	}
	return checkIDs(v.Witnesses, true)
}
