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

// round is one attempt to start: propose, commit, reveal, confirm, launch.
// See the package doc, "Starting", for the protocol and its guarantees.
type round struct {
	term, num uint32
	host      transport.PeerID
	seats     []transport.PeerID
	teams     []int
	settings  Settings
	draft     [hashSize]byte
	seated    bool
	nonce     [hashSize]byte
	commits   map[transport.PeerID][hashSize]byte
	reveals   map[transport.PeerID][hashSize]byte
	confirms  map[transport.PeerID][hashSize]byte // host only
	revealed  bool                                // our Reveal is out
	computed  bool                                // match and hash are set
	match     Match
	hash      [hashSize]byte
	deadline  time.Time
	launched  bool
	aborted   bool
}

func (r *round) live() bool { return !r.launched && !r.aborted }

// missing names the first seat the round is waiting for.
func (r *round) missing(host bool) transport.PeerID {
	for _, want := range []map[transport.PeerID][hashSize]byte{r.commits, r.reveals} {
		for _, s := range r.seats {
			if _, ok := want[s]; !ok {
				return s
			}
		}
	}
	if host {
		for _, s := range r.seats {
			if _, ok := r.confirms[s]; !ok {
				return s
			}
		}
		return ""
	}
	return r.host
}

// assignSeats seats every member that is not late: first those whose
// preferred seat is free (in admission order), then the rest in admission
// order in the lowest free seats.
func assignSeats(members []Member) (seats []transport.PeerID, teams []int) {
	var in []Member
	for _, m := range members {
		if !m.Late {
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

// beginRound (host) fixes the seats and proposes the match.
func (l *Lobby) beginRound() {
	nv := l.v.clone()
	nv.phase = PhaseStarting
	nv.round++
	l.forced = false
	l.setView(nv)
	l.dirty = true
	l.flush() // the snapshot saying Starting goes out before the proposal
	seats, teams := assignSeats(nv.members)
	p := &lobbyfb.ProposeT{
		Term: nv.term, Round: nv.round, MaxPlayers: byte(nv.settings.MaxPlayers), Settings: nv.settings.Data,
		Teams: make([]int32, len(teams)),
	}
	for i, s := range seats {
		p.Seats = append(p.Seats, string(s))
		p.Teams[i] = int32(teams[i])
	}
	l.sendTo(seats, lobbyfb.BodyPropose, p)
	l.onPropose(l.local, p)
}

// onPropose opens a round: commit to a fresh nonce.
func (l *Lobby) onPropose(from transport.PeerID, p *lobbyfb.ProposeT) {
	if from != l.v.host || p.Term != l.v.term || l.mig.active ||
		(l.rnd != nil && l.rnd.term == p.Term && p.Round <= l.rnd.num) {
		l.stats.Ignored++
		return
	}
	r := &round{
		term: p.Term, num: p.Round, host: from,
		settings: Settings{MaxPlayers: int(p.MaxPlayers), Data: slices.Clone(p.Settings)},
		commits:  make(map[transport.PeerID][hashSize]byte),
		reveals:  make(map[transport.PeerID][hashSize]byte),
		confirms: make(map[transport.PeerID][hashSize]byte),
	}
	for i, s := range p.Seats {
		r.seats = append(r.seats, transport.PeerID(s))
		r.teams = append(r.teams, int(p.Teams[i]))
	}
	r.draft = draftHash(r)
	r.seated = slices.Contains(r.seats, l.local)
	timeout := l.cfg.StartTimeout
	if !l.isHost {
		timeout *= 2
	}
	r.deadline = l.now.Add(timeout)
	if l.rnd != nil && l.rnd.live() {
		l.abortRound(StartReasonCancelled, "", false)
	}
	l.rnd = r
	if !r.seated {
		return
	}
	if _, err := io.ReadFull(l.cfg.Rand, r.nonce[:]); err != nil {
		l.log.Warn("nonce", "err", err)
		l.abortRound(StartReasonCancelled, l.local, true)
		return
	}
	c := commitment(r.draft, l.local, r.nonce)
	r.commits[l.local] = c
	l.sendTo(r.seats, lobbyfb.BodyCommit, &lobbyfb.CommitT{Term: r.term, Round: r.num, Draft: r.draft[:], Commitment: c[:]})
	for _, s := range r.seats {
		if e := l.early[s]; e != nil && e.Term == r.term && e.Round == r.num {
			delete(l.early, s)
			l.onCommit(s, e)
		}
	}
	l.progress()
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
	if !r.live() || !r.seated || !slices.Contains(r.seats, from) {
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
		l.abortRound(StartReasonBadReveal, from, true)
		return
	}
	r.reveals[from] = nonce
	l.progress()
}

func (l *Lobby) onConfirm(from transport.PeerID, v *lobbyfb.ConfirmT) {
	r := l.rnd
	if !l.isHost || r == nil || v.Term != r.term || v.Round != r.num || !r.live() || !slices.Contains(r.seats, from) {
		l.stats.Ignored++
		return
	}
	if _, dup := r.confirms[from]; dup {
		l.stats.Ignored++
		return
	}
	r.confirms[from] = [hashSize]byte(v.Match)
	l.progress()
}

// progress moves the round on as far as what we hold allows.
func (l *Lobby) progress() {
	r := l.rnd
	if r == nil || !r.live() || !r.seated {
		return
	}
	if !r.revealed && len(r.commits) == len(r.seats) {
		r.revealed = true
		r.reveals[l.local] = r.nonce
		l.sendTo(r.seats, lobbyfb.BodyReveal, &lobbyfb.RevealT{Term: r.term, Round: r.num, Nonce: r.nonce[:]})
	}
	if r.revealed && !r.computed && len(r.reveals) == len(r.seats) {
		r.computed = true
		r.match = Match{
			Seats: slices.Clone(r.seats), Teams: slices.Clone(r.teams), Settings: r.settings.clone(),
			Seed: seed(r), Term: r.term, Round: r.num,
		}
		r.hash = matchHash(r)
		if l.isHost {
			r.confirms[l.local] = r.hash
		} else {
			l.send(r.host, lobbyfb.BodyConfirm, &lobbyfb.ConfirmT{Term: r.term, Round: r.num, Match: r.hash[:]})
		}
	}
	if !l.isHost || !r.computed || len(r.confirms) < len(r.seats) {
		return
	}
	for _, s := range r.seats {
		if r.confirms[s] != r.hash {
			l.abortRound(StartReasonMismatch, s, true)
			return
		}
	}
	// Every seat holds the same Match: launch.
	r.launched = true
	l.sendTo(r.seats, lobbyfb.BodyLaunch, &lobbyfb.LaunchT{Term: r.term, Round: r.num, Match: r.hash[:]})
	l.started(r)
	l.mutate(func(nv *view) { nv.phase = PhaseStarted })
}

// onLaunch starts the match if the Launch names the Match we computed, and
// relays it once, so that a seat the host could not reach still starts.
func (l *Lobby) onLaunch(from transport.PeerID, v *lobbyfb.LaunchT) {
	r := l.rnd
	if r == nil || v.Term != r.term || v.Round != r.num || !r.computed || r.launched ||
		[hashSize]byte(v.Match) != r.hash || (from != r.host && !slices.Contains(r.seats, from)) {
		l.stats.Ignored++
		return
	}
	r.launched = true
	r.aborted = false // a Launch after our own timeout still wins: the host saw every confirmation
	l.sendTo(slices.DeleteFunc(slices.Clone(r.seats), func(p transport.PeerID) bool { return p == from || p == r.host }),
		lobbyfb.BodyLaunch, v)
	l.started(r)
	if l.v.term == r.term && !l.isHost {
		l.v.phase = PhaseStarted
	}
}

func (l *Lobby) started(r *round) {
	m := r.match.clone()
	l.match = &m
	l.emit(Event{Kind: EventStarted, Match: r.match.clone()})
}

func (l *Lobby) onAbort(from transport.PeerID, v *lobbyfb.AbortT) {
	r := l.rnd
	if r == nil || v.Term != r.term || v.Round != r.num || !r.live() ||
		(from != r.host && !slices.Contains(r.seats, from)) {
		l.stats.Ignored++
		return
	}
	l.abortRound(StartReason(v.Reason), transport.PeerID(v.Peer), l.isHost)
}

// abortRound abandons the live round: everyone hears of it if tell is set,
// and the host reopens the lobby.
func (l *Lobby) abortRound(reason StartReason, peer transport.PeerID, tell bool) {
	r := l.rnd
	if r == nil || !r.live() {
		return
	}
	r.aborted = true
	l.log.Debug("start round failed", "round", r.num, "reason", reason.String(), "peer", string(peer))
	if tell {
		to := r.seats
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
}

// --- hashes -------------------------------------------------------------------

// Domain-separated SHA-256 over a canonical encoding (not the FlatBuffers
// bytes, which need not be canonical).
const (
	tagDraft  = "peerplay/lobby/draft/v1"
	tagCommit = "peerplay/lobby/commit/v1"
	tagSeed   = "peerplay/lobby/seed/v1"
	tagMatch  = "peerplay/lobby/match/v1"
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
