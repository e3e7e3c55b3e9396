package lobby

import (
	"crypto/sha256"
	"encoding/binary"
	"io"
	"slices"
	"time"

	"github.com/peerplay/peerplay/lobby/internal/lobbyfb"
	"github.com/peerplay/peerplay/netcode/transport"
)

// round is one attempt to start: propose, commit, seal, reveal, launch.
// See the package doc, "Starting" and "Threat model", for the protocol
// and its guarantees.
type round struct {
	term, num uint32
	host      transport.PeerID
	seats     []transport.PeerID
	teams     []int
	open      int // empty seats reserved after seats
	settings  Settings
	draft     [hashSize]byte
	seated    bool
	nonce     [hashSize]byte
	commits   map[transport.PeerID][hashSize]byte
	seals     map[transport.PeerID][hashSize]byte
	reveals   map[transport.PeerID][hashSize]byte
	bad       map[transport.PeerID]bool // sent a nonce that does not open its commitment
	seal      [hashSize]byte            // ours, once sealed
	sealed    bool                      // our Seal is out
	revealed  bool                      // our Reveal is out: the round can no longer be called off
	computed  bool                      // match and hash are set
	match     Match
	hash      [hashSize]byte
	deadline  time.Time
	launched  bool
	aborted   bool
}

func (r *round) live() bool { return !r.launched && !r.aborted }

// firstMissing names the first seat (in seat order, never the local peer)
// missing from want.
func (r *round) firstMissing(local transport.PeerID, want map[transport.PeerID][hashSize]byte) transport.PeerID {
	for _, s := range r.seats {
		if _, ok := want[s]; !ok && s != local {
			return s
		}
	}
	return ""
}

// blame names the seat a round that timed out waits for, and why. After
// our reveal: a seat that left with its nonce missing (leaving counts as
// withholding: it may have seen the seed), else the first seat whose
// nonce is missing.
func (r *round) blame(local transport.PeerID, connected map[transport.PeerID]bool) (StartReason, transport.PeerID) {
	if !r.seated {
		if p := r.firstMissing(local, r.commits); p != "" {
			return StartReasonTimeout, p
		}
		return StartReasonTimeout, r.seats[0]
	}
	if r.revealed {
		for _, s := range r.seats {
			if _, ok := r.reveals[s]; !ok && s != local && !connected[s] {
				return StartReasonLeft, s
			}
		}
		p := r.firstMissing(local, r.reveals)
		if r.bad[p] {
			return StartReasonBadReveal, p
		}
		return StartReasonWithheld, p
	}
	for _, want := range []map[transport.PeerID][hashSize]byte{r.commits, r.seals} {
		if p := r.firstMissing(local, want); p != "" {
			return StartReasonTimeout, p
		}
	}
	return StartReasonTimeout, r.host
}

// assignSeats seats every member that is not late or skipped: first those
// whose preferred seat is free (in admission order), then the rest in
// admission order in the lowest free seats.
func assignSeats(members []Member, skip func(transport.PeerID) bool) (seats []transport.PeerID, teams []int) {
	var in []Member
	for _, m := range members {
		if !m.Late && !m.Watching && !skip(m.ID) {
			in = append(in, m)
		}
	}
	seats = make([]transport.PeerID, len(in))
	teams = make([]int, len(in))
	placed := make([]bool, len(in))
	for i, m := range in {
		if s := m.Seat - 1; s >= 0 && s < len(seats) && seats[s] == "" {
			seats[s], teams[s], placed[i] = m.ID, m.Team, true
		}
	}
	free := 0
	for i, m := range in {
		if placed[i] {
			continue
		}
		for seats[free] != "" {
			free++
		}
		seats[free], teams[free] = m.ID, m.Team
	}
	return seats, teams
}

// unseatable reports whether the host leaves p out of its proposals: the
// local peer excluded p, or a majority of the other members refused to be
// seated with it.
func (l *Lobby) unseatable(p transport.PeerID) bool {
	if l.excluded[p] {
		return true
	}
	n, others := 0, 0
	for _, m := range l.v.members {
		if m.ID == p || m.Late {
			continue
		}
		others++
		if l.refusals[p][m.ID] {
			n++
		}
	}
	return n > 0 && 2*n > others
}

// beginRound (host) fixes the seats and proposes the match.
func (l *Lobby) beginRound() {
	seats, teams := assignSeats(l.v.members, l.unseatable)
	if len(seats) < min(l.cfg.MinPlayers, l.players()) || len(seats) == 0 {
		// Excluded members leave too few seats: no match. They are
		// marked unready, so that the countdown does not come back until
		// one of them asks for it.
		var out transport.PeerID
		l.forced = false
		l.mutate(func(nv *view) {
			nv.phase = PhaseOpen
			for i, m := range nv.members {
				if !m.Late && !m.Watching && l.unseatable(m.ID) {
					if out == "" {
						out = m.ID
					}
					nv.members[i].Ready = false
				}
			}
		})
		l.emit(Event{Kind: EventStartFailed, Peer: out, Err: &StartError{Round: l.v.round, Reason: StartReasonExcluded, Peer: out}})
		return
	}
	nv := l.v.clone()
	nv.phase = PhaseStarting
	nv.round++
	l.forced = false
	l.setView(nv)
	l.dirty = true
	l.flush() // the snapshot saying Starting goes out before the proposal
	p := &lobbyfb.ProposeT{
		Term: nv.term, Round: nv.round, MaxPlayers: byte(nv.settings.MaxPlayers), Settings: nv.settings.Data,
		Teams: make([]int32, len(teams)), OpenSeats: byte(min(nv.settings.OpenSeats, MaxMembers-len(seats))),
	}
	for i, s := range seats {
		p.Seats = append(p.Seats, string(s))
		p.Teams[i] = int32(teams[i])
	}
	l.sendTo(seats, lobbyfb.BodyPropose, p)
	l.onPropose(l.local, p)
}

// onPropose opens a round: commit to a fresh nonce. A proposal that comes
// while our reveal is out waits for the current round to end: nothing
// calls a round off once the nonces are flying.
func (l *Lobby) onPropose(from transport.PeerID, p *lobbyfb.ProposeT) {
	if from != l.v.host || p.Term != l.v.term || l.mig.active ||
		(l.rnd != nil && l.rnd.term == p.Term && p.Round <= l.rnd.num) {
		l.stats.Ignored++
		return
	}
	if l.rnd != nil && l.rnd.live() && l.rnd.revealed {
		l.nextProp = p
		return
	}
	l.nextProp = nil
	r := &round{
		term: p.Term, num: p.Round, host: from,
		settings: Settings{MaxPlayers: int(p.MaxPlayers), Data: slices.Clone(p.Settings)},
		open:     int(p.OpenSeats),
		commits:  make(map[transport.PeerID][hashSize]byte),
		seals:    make(map[transport.PeerID][hashSize]byte),
		reveals:  make(map[transport.PeerID][hashSize]byte),
		bad:      make(map[transport.PeerID]bool),
	}
	for i, s := range p.Seats {
		r.seats = append(r.seats, transport.PeerID(s))
		r.teams = append(r.teams, int(p.Teams[i]))
	}
	r.draft = draftHash(r)
	r.seated = slices.Contains(r.seats, l.local)
	timeout := l.cfg.StartTimeout
	if !r.seated {
		timeout *= 2 // the host outside the match waits for the seats' own verdict
	}
	r.deadline = l.now.Add(timeout)
	if l.rnd != nil && l.rnd.live() {
		l.abortRound(StartReasonCancelled, from, false)
	}
	l.rnd = r
	if !r.seated {
		return
	}
	for _, s := range r.seats {
		if l.excluded[s] {
			l.abortRound(StartReasonExcluded, s, true)
			return
		}
	}
	if _, err := io.ReadFull(l.cfg.Rand, r.nonce[:]); err != nil {
		l.log.Warn("nonce", "err", err)
		l.abortRound(StartReasonCancelled, l.local, true)
		return
	}
	c := commitment(r.draft, l.local, r.nonce)
	r.commits[l.local] = c
	l.sendTo(r.audience(), lobbyfb.BodyCommit, &lobbyfb.CommitT{Term: r.term, Round: r.num, Draft: r.draft[:], Commitment: c[:]})
	for _, s := range r.seats {
		if e := l.early[s]; e != nil && e.Term == r.term && e.Round == r.num {
			delete(l.early, s)
			l.onCommit(s, e)
		}
	}
	l.progress()
}

// audience is who hears a seat's round messages: the seats and the host.
func (r *round) audience() []transport.PeerID {
	if slices.Contains(r.seats, r.host) {
		return r.seats
	}
	return append(slices.Clone(r.seats), r.host)
}

func (l *Lobby) onCommit(from transport.PeerID, c *lobbyfb.CommitT) {
	r := l.rnd
	if r == nil || c.Term != r.term || c.Round != r.num {
		if c.Term == l.v.term && (r == nil || r.term != c.Term || c.Round > r.num) && l.connected[from] {
			l.early[from] = c // its Propose is still on the way to us
			return
		}
		l.stats.Ignored++
		return
	}
	if !r.live() || !slices.Contains(r.seats, from) {
		l.stats.Ignored++
		return
	}
	if _, ok := r.commits[from]; ok {
		l.stats.Ignored++
		return
	}
	if [hashSize]byte(c.Draft) != r.draft {
		l.abortRound(StartReasonMismatch, from, true)
		return
	}
	r.commits[from] = [hashSize]byte(c.Commitment)
	l.progress()
}

func (l *Lobby) onSeal(from transport.PeerID, v *lobbyfb.SealT) {
	r := l.rnd
	if r == nil || v.Term != r.term || v.Round != r.num || !r.live() || !r.seated || !slices.Contains(r.seats, from) {
		l.stats.Ignored++
		return
	}
	if _, dup := r.seals[from]; dup {
		l.stats.Ignored++
		return
	}
	r.seals[from] = [hashSize]byte(v.Seal)
	l.progress()
}

func (l *Lobby) onReveal(from transport.PeerID, v *lobbyfb.RevealT) {
	r := l.rnd
	if r == nil || v.Term != r.term || v.Round != r.num || !r.live() || !r.seated {
		l.stats.Ignored++
		return
	}
	c, ok := r.commits[from]
	if _, dup := r.reveals[from]; !ok || dup {
		l.stats.Ignored++ // a seat reveals after committing, once
		return
	}
	nonce := [hashSize]byte(v.Nonce)
	if commitment(r.draft, from, nonce) != c {
		// Not a reason to call the round off: the right nonce may still
		// reach us in another seat's Launch. If it does not, the round
		// times out naming the sender (StartReasonBadReveal).
		r.bad[from] = true
		l.refuse(from, ErrBadReveal)
		return
	}
	r.reveals[from] = nonce
	l.progress()
}

// progress moves the round on as far as what we hold allows.
func (l *Lobby) progress() {
	r := l.rnd
	if r == nil || !r.live() || !r.seated {
		return
	}
	if !r.sealed && len(r.commits) == len(r.seats) {
		r.sealed = true
		r.seal = sealHash(r)
		r.seals[l.local] = r.seal
		l.sendTo(r.seats, lobbyfb.BodySeal, &lobbyfb.SealT{Term: r.term, Round: r.num, Seal: r.seal[:]})
	}
	if r.sealed && !r.revealed && len(r.seals) == len(r.seats) {
		for _, s := range r.seats {
			if r.seals[s] != r.seal {
				// Some seat holds other commitments than ours: a seat told
				// different peers different things. Nothing is revealed yet.
				l.abortRound(StartReasonMismatch, s, true)
				return
			}
		}
		r.revealed = true
		r.reveals[l.local] = r.nonce
		l.sendTo(r.seats, lobbyfb.BodyReveal, &lobbyfb.RevealT{Term: r.term, Round: r.num, Nonce: r.nonce[:]})
	}
	if r.revealed && len(r.reveals) == len(r.seats) {
		l.launch(r)
	}
}

// launch starts the match from the nonces we hold, and passes them on so
// that every seat still waiting for one of them starts too.
func (l *Lobby) launch(r *round) {
	r.computed = true
	r.match = r.buildMatch()
	r.hash = matchHash(r)
	r.launched = true
	r.aborted = false // nonces that open every commitment win over our own timeout
	msg := &lobbyfb.LaunchT{Term: r.term, Round: r.num, Match: r.hash[:]}
	for _, s := range r.seats {
		n := r.reveals[s]
		msg.Nonces = append(msg.Nonces, n[:]...)
	}
	l.sendTo(r.audience(), lobbyfb.BodyLaunch, msg)
	l.started(r)
	switch {
	case l.isHost && l.v.term == r.term:
		l.mutate(func(nv *view) { nv.phase = PhaseStarted })
		l.serveWatchers()
	case l.v.term == r.term:
		l.v.phase = PhaseStarted
	}
	l.takeNext()
}

// buildMatch is the round's Match: the seats, then the reserved ones.
func (r *round) buildMatch() Match {
	m := Match{Seats: slices.Clone(r.seats), Teams: slices.Clone(r.teams), Settings: r.settings.clone(),
		Seed: seed(r), Term: r.term, Round: r.num}
	for k := range r.open {
		id := ReservedID(len(r.seats) + k)
		m.Seats = append(m.Seats, id)
		m.Reserved = append(m.Reserved, id)
		m.Teams = append(m.Teams, 0)
	}
	return m
}

// onLaunch starts the match if the nonces it carries open every
// commitment we hold: then it is the Match we would have computed.
func (l *Lobby) onLaunch(from transport.PeerID, v *lobbyfb.LaunchT) {
	r := l.rnd
	if r == nil || v.Term != r.term || v.Round != r.num || r.launched || len(v.Nonces) != hashSize*len(r.seats) ||
		len(r.commits) != len(r.seats) || (from != r.host && !slices.Contains(r.seats, from)) {
		l.stats.Ignored++
		return
	}
	for i, s := range r.seats {
		n := [hashSize]byte(v.Nonces[i*hashSize : (i+1)*hashSize])
		if commitment(r.draft, s, n) != r.commits[s] {
			l.refuse(from, ErrBadReveal)
			return
		}
	}
	for i, s := range r.seats {
		r.reveals[s] = [hashSize]byte(v.Nonces[i*hashSize : (i+1)*hashSize])
	}
	if !r.seated {
		// The host outside the match learns it started.
		r.launched, r.aborted, r.computed = true, false, true
		r.match = r.buildMatch()
		r.hash = matchHash(r)
		if l.isHost && l.v.term == r.term && l.v.phase == PhaseStarting {
			m := r.match.clone()
			l.run = &m
			clear(l.freed)
			l.mutate(func(nv *view) { nv.phase = PhaseStarted })
			l.serveWatchers()
		}
		return
	}
	l.launch(r)
}

func (l *Lobby) started(r *round) {
	m := r.match.clone()
	l.match, l.run = &m, &m
	clear(l.freed)
	l.emit(Event{Kind: EventStarted, Match: r.match.clone()})
}

func (l *Lobby) onAbort(from transport.PeerID, v *lobbyfb.AbortT) {
	r := l.rnd
	if r == nil || v.Term != r.term || v.Round != r.num || (from != r.host && !slices.Contains(r.seats, from)) {
		l.stats.Ignored++
		return
	}
	peer := transport.PeerID(v.Peer)
	if peer == "" {
		peer = from // whoever calls a round off without naming a cause is the cause
	}
	reason := StartReason(v.Reason)
	if reason == StartReasonExcluded && l.isHost && l.v.index(peer) >= 0 && slices.Contains(r.seats, from) {
		// Recorded even once the round is over: every seat's refusal
		// counts towards the majority that keeps peer out.
		if l.refusals[peer] == nil {
			l.refusals[peer] = make(map[transport.PeerID]bool)
		}
		l.refusals[peer][from] = true
		if i := l.v.index(from); i >= 0 && from != l.local && !l.unseatable(peer) {
			// A minority refuses to play with peer: the host cannot judge
			// who is right; the refuser must get ready again to retry.
			l.mutate(func(nv *view) { nv.members[i].Ready = false })
		}
	}
	if !r.live() {
		l.stats.Ignored++
		return
	}
	if r.revealed {
		// Our nonce is out: the round ends when every nonce is in, or on
		// our own evidence (a seat whose nonce is missing left, or our
		// deadline passed). An Abort now could only serve a peer that saw
		// the seed, unless it names a seat whose nonce we lack too: then
		// our own evidence will follow.
		if _, ok := r.reveals[peer]; ok || !slices.Contains(r.seats, peer) || peer == l.local {
			l.refuse(from, ErrRefusedAbort)
		} else {
			l.stats.Ignored++
		}
		return
	}
	l.abortRound(reason, peer, l.isHost)
}

// refuse counts a message refused under the authority rules and names its
// sender.
func (l *Lobby) refuse(from transport.PeerID, why error) {
	l.stats.Refused++
	l.log.Debug("refused", "from", string(from), "err", why)
	l.emit(Event{Kind: EventRefused, Peer: from, Err: why})
}

// abortRound abandons the live round: everyone hears of it if tell is set,
// and the host reopens the lobby. Abandoned after our reveal, the round
// excludes the peer named (it withheld its nonce).
func (l *Lobby) abortRound(reason StartReason, peer transport.PeerID, tell bool) {
	r := l.rnd
	if r == nil || !r.live() {
		return
	}
	r.aborted = true
	if peer == "" {
		peer = r.host
	}
	if r.revealed && peer != l.local && (reason == StartReasonWithheld || reason == StartReasonBadReveal || reason == StartReasonLeft) {
		if !l.excluded[peer] {
			l.excluded[peer] = true
			l.exclOrder = append(l.exclOrder, peer)
		}
	}
	l.log.Debug("start round failed", "round", r.num, "reason", reason.String(), "peer", string(peer))
	if tell {
		to := r.audience()
		if l.isHost {
			to = l.conn.Peers()
		}
		l.sendTo(to, lobbyfb.BodyAbort, &lobbyfb.AbortT{
			Term: r.term, Round: r.num, Reason: lobbyfb.AbortReason(reason), Peer: string(peer),
		})
	}
	if r.seated {
		l.emit(Event{Kind: EventStartFailed, Peer: peer, Err: &StartError{Round: r.num, Reason: reason, Peer: peer}})
	}
	switch {
	case l.isHost && l.v.phase == PhaseStarting:
		l.mutate(func(nv *view) {
			nv.phase = PhaseOpen
			if i := nv.index(peer); i >= 0 && peer != l.local {
				nv.members[i].Ready = false // no automatic retry until it is ready again
			}
		})
	case !l.isHost && l.v.phase == PhaseStarting && l.v.term == r.term:
		l.v.phase = PhaseOpen
	}
	l.takeNext()
}

// takeNext opens the proposal that arrived while our reveal was out.
func (l *Lobby) takeNext() {
	if p := l.nextProp; p != nil {
		l.nextProp = nil
		if p.Term == l.v.term && !l.isHost {
			l.onPropose(l.v.host, p)
		}
	}
}

// --- hashes -------------------------------------------------------------------

// Domain-separated SHA-256 over a canonical encoding (not the FlatBuffers
// bytes, which need not be canonical).
const (
	tagDraft  = "peerplay/lobby/draft/v2"
	tagCommit = "peerplay/lobby/commit/v2"
	tagSeal   = "peerplay/lobby/seal/v2"
	tagSeed   = "peerplay/lobby/seed/v2"
	tagMatch  = "peerplay/lobby/match/v2"
)

func draftHash(r *round) [hashSize]byte {
	h := sha256.New()
	var b []byte
	b = appendStr(b, tagDraft)
	b = binary.BigEndian.AppendUint32(b, r.term)
	b = binary.BigEndian.AppendUint32(b, r.num)
	b = binary.BigEndian.AppendUint32(b, uint32(r.settings.MaxPlayers))
	b = appendStr(b, string(r.settings.Data))
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.seats)))
	for i, s := range r.seats {
		b = appendStr(b, string(s))
		b = binary.BigEndian.AppendUint32(b, uint32(int32(r.teams[i])))
	}
	if r.open > 0 { // absent when 0, so that the hashes of matches without open seats did not change
		b = appendStr(b, "open")
		b = binary.BigEndian.AppendUint32(b, uint32(r.open))
	}
	h.Write(b)
	return [hashSize]byte(h.Sum(nil))
}

func commitment(draft [hashSize]byte, p transport.PeerID, nonce [hashSize]byte) [hashSize]byte {
	b := appendStr(nil, tagCommit)
	b = append(b, draft[:]...)
	b = appendStr(b, string(p))
	b = append(b, nonce[:]...)
	return sha256.Sum256(b)
}

func sealHash(r *round) [hashSize]byte {
	b := appendStr(nil, tagSeal)
	b = append(b, r.draft[:]...)
	for _, s := range r.seats {
		c := r.commits[s]
		b = append(b, c[:]...)
	}
	return sha256.Sum256(b)
}

func seed(r *round) uint64 {
	b := appendStr(nil, tagSeed)
	b = append(b, r.draft[:]...)
	for _, s := range r.seats {
		n := r.reveals[s]
		b = append(b, n[:]...)
	}
	sum := sha256.Sum256(b)
	return binary.BigEndian.Uint64(sum[:8])
}

func matchHash(r *round) [hashSize]byte {
	b := appendStr(nil, tagMatch)
	b = append(b, r.draft[:]...)
	b = binary.BigEndian.AppendUint64(b, r.match.Seed)
	return sha256.Sum256(b)
}

func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func msDuration(ms uint32) time.Duration { return time.Duration(ms) * time.Millisecond }
