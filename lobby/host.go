package lobby

import (
	"fmt"
	"slices"

	"github.com/peerplay/peerplay/internal/safetext"
	"github.com/peerplay/peerplay/lobby/internal/lobbyfb"
	"github.com/peerplay/peerplay/netcode/transport"
)

// SetSettings replaces the game settings (host only, while the lobby is
// open or counting down). It clears every other member's ready flag, so
// that nobody starts on settings they have not seen, and so cancels a
// countdown. Members above a lowered MaxPlayers stay; newcomers are turned
// away until there is room.
func (l *Lobby) SetSettings(s Settings) error {
	if s.MaxPlayers < 1 || s.MaxPlayers > MaxMembers || len(s.Data) > MaxSettingsSize ||
		s.OpenSeats < 0 || s.OpenSeats > MaxMembers-1 {
		return fmt.Errorf("%w: MaxPlayers %d (1..%d), %d bytes of data (at most %d), OpenSeats %d (0..%d)",
			ErrInvalidSettings, s.MaxPlayers, MaxMembers, len(s.Data), MaxSettingsSize, s.OpenSeats, MaxMembers-1)
	}
	return l.hostCall(func() error {
		if l.v.phase != PhaseOpen && l.v.phase != PhaseCountdown {
			return fmt.Errorf("%w: %s", ErrPhase, l.v.phase)
		}
		l.mutate(func(nv *view) {
			nv.settings = s.clone()
			for i := range nv.members {
				if nv.members[i].ID != l.local {
					nv.members[i].Ready = false
				}
			}
			if l.forced {
				nv.phase = PhaseOpen
				l.forced = false
			}
		})
		return nil
	})
}

// Kick removes a member and bans it from the lobby for as long as the
// lobby lives (the ban survives host migration). Host only. A kick during
// a start round abandons the round.
func (l *Lobby) Kick(p transport.PeerID) error {
	return l.hostCall(func() error {
		if p == l.local || l.v.index(p) < 0 {
			return fmt.Errorf("%w: %s", ErrNotMember, p)
		}
		if l.rnd != nil && l.rnd.live() && slices.Contains(l.rnd.seats, p) {
			l.abortRound(StartReasonCancelled, p, true)
		}
		l.freeSeat(p)
		l.deferBan = p // EventBanned once the notice had time to arrive: see timers
		l.mutate(func(nv *view) {
			nv.members = slices.DeleteFunc(nv.members, func(m Member) bool { return m.ID == p })
			if len(nv.banned) == MaxMembers {
				nv.banned = nv.banned[1:]
			}
			nv.banned = append(nv.banned, p)
		})
		l.deferBan = ""
		l.banDue[p] = l.now.Add(l.cfg.KickGrace)
		l.send(p, lobbyfb.BodyReject, &lobbyfb.RejectT{Reason: lobbyfb.RejectReasonKicked})
		return nil
	})
}

// Start starts the countdown whether or not the members are ready (host
// only). A member joining or leaving cancels it; when it ends, every
// member is seated.
func (l *Lobby) Start() error {
	return l.hostCall(func() error {
		switch {
		case l.v.phase == PhaseCountdown && l.forced:
			return nil
		case l.v.phase != PhaseOpen && l.v.phase != PhaseCountdown:
			return fmt.Errorf("%w: %s", ErrPhase, l.v.phase)
		}
		l.mutate(func(nv *view) { l.beginCountdown(nv, true) })
		return nil
	})
}

// Reopen returns the lobby to PhaseOpen after a match (host only): ready
// flags and late marks are cleared, and Match reports nothing until the
// next start.
func (l *Lobby) Reopen() error {
	return l.hostCall(func() error {
		if l.v.phase != PhaseStarted {
			return fmt.Errorf("%w: %s", ErrPhase, l.v.phase)
		}
		l.reopened = make(map[transport.PeerID]bool)
		l.mutate(func(nv *view) {
			nv.phase = PhaseOpen
			nv.round++ // so that members tell a Reopen from a host that missed the Launch
			l.reopenAt = nv.round
			for i := range nv.members {
				nv.members[i].Ready = false
				nv.members[i].Late = false
				l.reopened[nv.members[i].ID] = true
			}
		})
		l.rnd = nil
		return nil
	})
}

func (l *Lobby) hostCall(f func() error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return ErrClosed
	case !l.isHost:
		return ErrNotHost
	}
	l.now = l.cfg.Now()
	err := f()
	l.flush()
	return err
}

// found makes the local peer the host of a new lobby.
func (l *Lobby) found() {
	nv := view{
		host:     l.local,
		term:     l.v.term + 1,
		phase:    PhaseOpen,
		settings: l.cfg.Settings.clone(),
	}
	nv.members = []Member{l.memberFrom(l.local, l.prof, false, &nv)}
	l.isHost = true
	l.mig = migration{}
	l.stale = ""
	l.log.Debug("founding", "term", nv.term)
	l.hostRules(&nv)
	l.setView(nv)
	l.dirty = true
}

// becomeHost takes over after the host left: same roster minus the old
// host (and anyone we saw disconnect), next term.
func (l *Lobby) becomeHost(old transport.PeerID) {
	nv := l.v.clone()
	nv.host = l.local
	nv.term++
	nv.version = 0
	nv.members = slices.DeleteFunc(nv.members, func(m Member) bool {
		return m.ID == old || (m.ID != l.local && l.seen[m.ID] && !l.connected[m.ID])
	})
	if i := nv.index(l.local); i >= 0 {
		nv.members[i] = l.memberFrom(l.local, l.prof, nv.members[i].Late, &nv)
	}
	if l.rnd != nil && l.rnd.live() {
		l.abortRound(StartReasonHostChanged, old, false)
		l.sendTo(l.rnd.seats, lobbyfb.BodyAbort, &lobbyfb.AbortT{
			Term: l.rnd.term, Round: l.rnd.num, Reason: lobbyfb.AbortReasonHostChanged, Peer: string(old),
		})
	}
	if nv.phase == PhaseCountdown || nv.phase == PhaseStarting {
		nv.phase = PhaseOpen
	}
	l.isHost = true
	l.mig = migration{}
	l.stale = ""
	l.log.Debug("taking over", "old", string(old), "term", nv.term)
	l.hostRules(&nv)
	l.setView(nv)
	l.dirty = true
}

// onHello admits or updates a peer (host), or points it at the host.
func (l *Lobby) onHello(from transport.PeerID, h *lobbyfb.HelloT) {
	if !l.isHost {
		if l.v.host != "" && !l.mig.active {
			l.send(from, lobbyfb.BodyReject, &lobbyfb.RejectT{Reason: lobbyfb.RejectReasonNotHost, Host: string(l.v.host)})
		} else {
			l.stats.Ignored++
		}
		return
	}
	if l.seen[from] && !l.connected[from] {
		l.stats.Ignored++ // it said hello, then left before we read it
		return
	}
	if slices.Contains(l.v.banned, from) {
		l.send(from, lobbyfb.BodyReject, &lobbyfb.RejectT{Reason: lobbyfb.RejectReasonKicked})
		return
	}
	if IsReservedID(from) {
		l.refuse(from, ErrRefusedRunning) // a placeholder is no peer's identity
		return
	}
	p := profile{name: safetext.Name(h.Name, MaxNameRunes), team: int(h.Team), seat: int(h.Seat), ready: h.Ready,
		watch: h.Watch, join: h.Join}
	if l.reopened[from] {
		if h.Round < l.reopenAt {
			p.ready = false // sent before it saw the Reopen: its ready was for the last match
		} else {
			delete(l.reopened, from)
		}
	}
	i := l.v.index(from)
	// MaxPlayers counts the players; watchers come on top, up to
	// MaxMembers in all. A seat of the running match back after a
	// restart always has room.
	players := 0
	for _, m := range l.v.members {
		if !m.Watching && m.ID != from {
			players++
		}
	}
	seatHolder := l.run != nil && l.v.phase == PhaseStarted && l.run.Seat(from) >= 0
	roomless := !p.watch && !seatHolder && players >= l.v.settings.MaxPlayers
	switch {
	case i < 0 && (len(l.v.members) >= MaxMembers || roomless):
		l.send(from, lobbyfb.BodyReject, &lobbyfb.RejectT{Reason: lobbyfb.RejectReasonFull})
		return
	case i >= 0 && roomless && l.v.members[i].Watching:
		// A watcher that asks to play stays one while the players are
		// full, and is not seated either (review: it was, from the raw
		// hello: TestRedTeamFullWatcherTakesReservedSeat).
		p.watch, p.join, h.Join = true, false, false
	}
	delete(l.leftMsg, from)
	late := l.v.phase == PhaseStarting || l.v.phase == PhaseStarted
	if i >= 0 {
		late = l.v.members[i].Late
	}
	if l.run != nil && l.run.Seat(from) >= 0 {
		late = false // a seat of the running match, back (see serveRunning)
	}
	m := l.memberFrom(from, p, late, &l.v)
	if i >= 0 && l.v.members[i] == m {
		l.greet = append(l.greet, from) // it may have missed the snapshot that admitted it
	} else {
		l.mutate(func(nv *view) {
			if i >= 0 {
				nv.members[i] = m
			} else {
				nv.members = append(nv.members, m)
			}
		})
	}
	l.serveRunning(from, h)
	if i < 0 {
		l.retellSeats(from, h)
	}
}

// onLeave handles a peer leaving the lobby (Close, or following another
// host).
func (l *Lobby) onLeave(from transport.PeerID) {
	l.leftMsg[from] = true
	l.peerDown(from)
}

// onSnapshot applies the host's state, or weighs a competing claim.
func (l *Lobby) onSnapshot(from transport.PeerID, s *lobbyfb.SnapshotT) {
	if l.hostRestarted(from, s) {
		// Our host claims a lobby without us and without the running
		// match: its game restarted (a fresh lobby under the same
		// identity) before we saw it go, since the mesh replaced its link.
		// The lobby we followed is gone with it: as after a crash, its
		// successor takes over and keeps the match, and the restarted
		// host, a lone peer, follows the running lobby and gets its seat
		// back (EventRejoin).
		l.log.Debug("host restarted", "host", string(from))
		l.startMigration(from)
		return
	}
	if from == l.v.host && s.Term == l.v.term && !l.isHost {
		if uint64(s.Term)<<32|uint64(s.Version) <= uint64(l.v.term)<<32|uint64(l.v.version) {
			l.stats.Ignored++
			return
		}
		l.mig = migration{}
		l.applySnapshot(from, s)
		return
	}
	ids := make([]transport.PeerID, len(s.Members))
	for i, m := range s.Members {
		ids[i] = transport.PeerID(m.Id)
	}
	if !l.weighClaim(from, s.Term, ids, Phase(s.Phase)+PhaseDiscovering == PhaseStarted) {
		if l.isHost {
			l.greet = append(l.greet, from) // let the weaker claimant learn of us
		}
		if l.v.host != "" && slices.Contains(ids, l.local) && !l.mig.active {
			// It lists us, but we follow (or are) another host: say so, so
			// that it drops us from its roster.
			l.send(from, lobbyfb.BodyReject, &lobbyfb.RejectT{Reason: lobbyfb.RejectReasonNotHost, Host: string(l.v.host)})
		}
		return
	}
	old := l.v.host
	if l.isHost {
		// Step down, and point our members at the winner.
		l.isHost = false
		l.dirty = false
		l.greet = nil
		if l.rnd != nil && l.rnd.live() {
			l.abortRound(StartReasonHostChanged, from, true)
		}
		members := slices.DeleteFunc(l.v.ids(), func(p transport.PeerID) bool { return p == from })
		l.sendTo(members, lobbyfb.BodyReject, &lobbyfb.RejectT{Reason: lobbyfb.RejectReasonNotHost, Host: string(from)})
	} else if l.rnd != nil && l.rnd.live() && l.rnd.term != s.Term {
		l.abortRound(StartReasonHostChanged, from, false)
	}
	if old != "" && old != l.local && old != from && l.connected[old] && !l.mig.active {
		l.send(old, lobbyfb.BodyLeave, &lobbyfb.LeaveT{})
	}
	// Two lobbies merging (the old host is still with us, or we were a
	// host ourselves): members of the lobby we leave that are not in the
	// new one did not leave anything, so report no Left for them. A
	// successor's claim after the host left is an ordinary change.
	if old != "" && old != from && (old == l.local || l.connected[old]) && !l.mig.active {
		l.v.members = slices.DeleteFunc(l.v.members, func(m Member) bool { return !slices.Contains(ids, m.ID) })
	}
	l.mig = migration{}
	l.stale = ""
	if len(l.followed) < 4*MaxMembers {
		l.followed[from] = true
	}
	l.log.Debug("following", "host", string(from), "term", s.Term)
	l.applySnapshot(from, s)
	if l.helloAt != uint64(s.Term)<<32|uint64(s.Version) {
		l.sendHello() // the new host may hold an old profile of ours
	}
}

func (l *Lobby) applySnapshot(from transport.PeerID, s *lobbyfb.SnapshotT) {
	nv := view{
		host:    from,
		term:    s.Term,
		version: s.Version,
		phase:   Phase(s.Phase) + PhaseDiscovering,
		round:   s.Round,
		settings: Settings{MaxPlayers: int(s.MaxPlayers), Data: slices.Clone(s.Settings),
			LateJoin: s.LateJoin, OpenSeats: int(s.OpenSeats)},
	}
	for _, m := range s.Members {
		nv.members = append(nv.members, Member{
			ID:        transport.PeerID(m.Id),
			Name:      safetext.Name(m.Name, MaxNameRunes),
			Requested: safetext.Name(m.Requested, MaxNameRunes),
			Team:      int(m.Team), Seat: int(m.Seat), Ready: m.Ready, Late: m.Late, Watching: m.Watching,
		})
	}
	for _, b := range s.Banned {
		nv.banned = append(nv.banned, transport.PeerID(b))
	}
	if nv.phase == PhaseCountdown {
		l.cdEnd = l.now.Add(msDuration(s.CountdownMs))
	}
	if r := l.rnd; r != nil && r.launched && r.seated && r.term == s.Term && r.num == s.Round &&
		(nv.phase == PhaseStarting || nv.phase == PhaseOpen) {
		nv.phase = PhaseStarted // the host has not heard of the Launch yet (Reopen moves to the next round)
	}
	l.setView(nv)
	i := nv.index(l.local)
	switch {
	case slices.Contains(nv.banned, l.local):
		if !l.kicked {
			l.kicked = true
			l.emit(Event{Kind: EventKicked, Err: ErrKicked})
		}
	case i >= 0:
		l.full = false
		me := nv.members[i]
		switch {
		case me.Ready == l.prof.ready && me.Team == l.prof.team && me.Seat == l.prof.seat:
			l.profSent = false // the host shows what we asked for
		case !l.profSent:
			l.prof.ready = me.Ready // the host cleared it (Reopen, new settings, a failed round)
		}
	case l.helloAt != uint64(s.Term)<<32|uint64(s.Version) && (!l.full || l.prof.watch || countPlayers(nv.members) < nv.settings.MaxPlayers):
		l.sendHello()
	}
}

func (l *Lobby) onReject(from transport.PeerID, r *lobbyfb.RejectT) {
	switch r.Reason {
	case lobbyfb.RejectReasonNotHost:
		if l.isHost {
			// A member that follows another host: it is not ours.
			if l.v.index(from) >= 0 {
				l.mutate(func(nv *view) {
					nv.members = slices.DeleteFunc(nv.members, func(m Member) bool { return m.ID == from })
				})
			} else {
				l.stats.Ignored++
			}
			return
		}
		// The peer we took for the host follows h: accept h's next claim
		// whatever it weighs, and ask h to admit us.
		h := transport.PeerID(r.Host)
		if from == l.v.host && h == l.local {
			// Our host follows us, and we follow it (two hosts stepped
			// down for each other at once): look for a host afresh.
			l.v = view{term: l.v.term}
			l.discover = l.now.Add(l.cfg.DiscoveryDelay)
			return
		}
		if (l.v.host == "" || from == l.v.host) && !l.isHost && h != l.local && l.connected[h] {
			if from == l.v.host {
				l.stale = h
				l.staleEnd = l.now.Add(l.cfg.MigrationTimeout)
			}
			l.send(h, lobbyfb.BodyHello, l.hello())
		}
		return
	case lobbyfb.RejectReasonFull:
		if from != l.v.host {
			l.stats.Ignored++
			return
		}
		if !l.full {
			l.full = true
			l.emit(Event{Kind: EventRejected, Peer: from, Err: ErrLobbyFull})
		}
	case lobbyfb.RejectReasonKicked:
		if from != l.v.host || l.isHost {
			l.stats.Ignored++
			return
		}
		if !l.kicked {
			kind := EventRejected
			if l.v.index(l.local) >= 0 {
				kind = EventKicked
			}
			l.kicked = true
			l.emit(Event{Kind: kind, Peer: from, Err: ErrKicked})
		}
	default:
		l.stats.Ignored++
	}
}

// --- migration --------------------------------------------------------------

func (l *Lobby) startMigration(old transport.PeerID) {
	l.log.Debug("host left", "host", string(old))
	l.mig = migration{active: true, old: old}
	if l.rnd != nil && l.rnd.live() {
		l.abortRound(StartReasonHostChanged, old, false)
	}
	l.evalMigration()
}

// evalMigration picks the successor: the first member, in admission
// order, still connected to us, after those that already timed out.
func (l *Lobby) evalMigration() {
	var cands []transport.PeerID
	for _, m := range l.v.members {
		if m.ID != l.mig.old && (m.ID == l.local || l.connected[m.ID]) {
			cands = append(cands, m.ID)
		}
	}
	if l.v.index(l.local) < 0 || l.kicked {
		// Not a member: we cannot take over; wait for a claim, then look
		// for a host afresh.
		if l.mig.skip > 0 || len(cands) == 0 {
			l.mig = migration{}
			l.v = view{term: l.v.term}
			l.discover = l.now.Add(l.cfg.DiscoveryDelay)
			return
		}
		l.mig.cand = cands[0]
		l.mig.deadline = l.now.Add(l.cfg.MigrationTimeout)
		return
	}
	succ := cands[min(l.mig.skip, len(cands)-1)]
	if succ == l.local || l.mig.skip >= len(cands) {
		l.becomeHost(l.mig.old)
		return
	}
	l.mig.cand = succ
	l.mig.deadline = l.now.Add(l.cfg.MigrationTimeout)
}

// --- dispatch and timers -----------------------------------------------------

func (l *Lobby) handle(m transport.Message) {
	if m.From == l.local || m.From == "" {
		l.stats.Ignored++
		return
	}
	if l.seen[m.From] && !l.connected[m.From] {
		l.stats.Ignored++ // sent before it left: we already acted on its leaving
		return
	}
	if len(m.Data) > MaxMessageSize {
		l.stats.Oversized++
		l.log.Debug("drop oversized", "from", string(m.From), "size", len(m.Data))
		return
	}
	body, err := decode(m.Data)
	if err != nil {
		l.stats.Malformed++
		l.log.Debug("drop", "from", string(m.From), "err", err)
		return
	}
	switch v := body.Value.(type) {
	case *lobbyfb.HelloT:
		l.onHello(m.From, v)
	case *lobbyfb.SnapshotT:
		l.onSnapshot(m.From, v)
	case *lobbyfb.RejectT:
		l.onReject(m.From, v)
	case *lobbyfb.LeaveT:
		l.onLeave(m.From)
	case *lobbyfb.ProposeT:
		l.onPropose(m.From, v)
	case *lobbyfb.CommitT:
		l.onCommit(m.From, v)
	case *lobbyfb.RevealT:
		l.onReveal(m.From, v)
	case *lobbyfb.SealT:
		l.onSeal(m.From, v)
	case *lobbyfb.ConfirmT:
		l.stats.Ignored++ // version 1 only
	case *lobbyfb.LaunchT:
		l.onLaunch(m.From, v)
	case *lobbyfb.AbortT:
		l.onAbort(m.From, v)
	case *lobbyfb.RunningT:
		l.onRunning(m.From, v)
	}
}

func (l *Lobby) timers() {
	for p, due := range l.banDue {
		// The host reports its own kick once the kicked peer had
		// KickGrace to receive the notice (or left), so that the game's
		// Block does not cut the link the notice travels on.
		if !l.now.Before(due) || !l.connected[p] {
			delete(l.banDue, p)
			if slices.Contains(l.v.banned, p) {
				l.emit(Event{Kind: EventBanned, Peer: p})
			}
		}
	}
	if l.stale != "" && !l.isHost && (!l.now.Before(l.staleEnd) || !l.connected[l.stale]) {
		// The host ours stepped down for never claimed us: look afresh.
		l.stale = ""
		l.v = view{term: l.v.term}
		l.discover = l.now.Add(l.cfg.DiscoveryDelay)
	}
	switch {
	case l.v.host == "" && !l.isHost && !l.mig.active:
		if !l.now.Before(l.discover) {
			l.found()
		}
	case l.mig.active:
		if !l.now.Before(l.mig.deadline) {
			l.mig.skip++
			l.evalMigration()
		}
	}
	if l.isHost && l.v.phase == PhaseOpen {
		nv := l.v.clone()
		if l.hostRules(&nv); nv.phase != PhaseOpen {
			l.setView(nv) // ready again after a leave or a failed round
			l.dirty = true
		}
	}
	if l.isHost && l.v.phase == PhaseCountdown && !l.now.Before(l.cdEnd) {
		l.beginRound()
	}
	l.askAgain()
	if r := l.rnd; r != nil && r.live() && !l.now.Before(r.deadline) {
		reason, p := r.blame(l.local, l.connected)
		l.abortRound(reason, p, true)
	}
}

// Unban lifts p's ban (host only): p may join again, and every peer
// reports EventUnbanned.
func (l *Lobby) Unban(p transport.PeerID) error {
	return l.hostCall(func() error {
		if !slices.Contains(l.v.banned, p) {
			return fmt.Errorf("%w: %s is not banned", ErrNotMember, p)
		}
		l.mutate(func(nv *view) {
			nv.banned = slices.DeleteFunc(nv.banned, func(b transport.PeerID) bool { return b == p })
		})
		return nil
	})
}
