package lobby

// Competing host claims: which lobby a peer follows when two meet (the
// package doc's "Threat model" and "Entering a running match" give the
// rules; this file is their code, moved out of host.go).

import (
	"slices"

	"github.com/peerplay/peerplay/lobby/internal/lobbyfb"
	"github.com/peerplay/peerplay/netcode/transport"
)

// claim orders competing lobbies outside a migration: the larger roster
// wins, then the smaller host PeerID. The term does not count (the
// claimant writes it); a roster counts only the members connected to the
// receiver, and a competing claim cannot count the members of the
// receiver's own lobby (they follow the receiver's host, and would have
// said goodbye to it otherwise): so a claim cannot be inflated with
// made-up or borrowed members.
//
// A lobby whose match runs is never left for one without, and a lone peer
// (size 1: a player restarted after a crash, whose fresh lobby founded
// itself before the host's snapshot reached it) joins a lobby whose match
// runs whatever the host IDs: otherwise the tie could make the running
// match's host follow the restarted player's empty lobby. A liar claiming
// a running match attracts only peers that have no lobby yet, as any
// first claim does (see "Limits").
type claim struct {
	size    int
	host    transport.PeerID
	running bool
}

func (a claim) beats(b claim) bool {
	switch {
	case b.running && !a.running:
		return false
	case a.running && !b.running && b.size <= 1:
		return true
	case a.size != b.size:
		return a.size > b.size
	}
	return a.host < b.host
}

// ourClaim weighs the lobby we follow.
func (l *Lobby) ourClaim() claim {
	n := 0
	for _, id := range l.v.ids() {
		if id == l.local || id == l.v.host || l.connected[id] {
			n++
		}
	}
	return claim{size: n, host: l.v.host, running: l.v.phase == PhaseStarted}
}

// theirClaim weighs a competing claim.
func (l *Lobby) theirClaim(host transport.PeerID, ids []transport.PeerID, running bool) claim {
	n := 1
	for _, id := range ids {
		if id != host && id != l.local && l.connected[id] && l.v.index(id) < 0 {
			n++
		}
	}
	return claim{size: n, host: host, running: running}
}

// hostRestarted reports whether s, from our host, is the claim of a
// restarted host: we are a member of its running match, and s shows a
// lobby without us and without a match. Only our host can send it, and
// a host can always make us migrate by going silent: it gains nothing.
func (l *Lobby) hostRestarted(from transport.PeerID, s *lobbyfb.SnapshotT) bool {
	if from != l.v.host || l.isHost || l.mig.active || l.v.phase != PhaseStarted ||
		Phase(s.Phase)+PhaseDiscovering == PhaseStarted || l.v.index(l.local) < 0 {
		return false
	}
	return !slices.ContainsFunc(s.Members, func(m *lobbyfb.MemberT) bool { return m != nil && transport.PeerID(m.Id) == l.local })
}

// weighClaim decides whether to follow a host claim (a Snapshot) from a
// peer that is not our host in our term. The rules (package doc, "Threat
// model"): a peer without a host takes the best claim it hears; a peer
// whose host stepped down for X takes X's claim; during a migration the
// peer observes (its host left its view of the mesh), a claim of a higher
// term is taken only from a member of the lobby no later in admission
// order than the successor it waits for; otherwise a term change is
// refused, and a competing lobby is joined only if it is larger (ties:
// the smaller host PeerID).
func (l *Lobby) weighClaim(from transport.PeerID, term uint32, ids []transport.PeerID, running bool) bool {
	switch {
	case l.v.host == "":
		return true
	case l.stale != "" && !l.isHost:
		if from == l.stale {
			return true
		}
		l.stats.Ignored++
		return false
	case l.mig.active:
		if term == l.v.term && from == l.mig.old {
			return true // the old host is back
		}
		i, c := l.v.index(from), l.v.index(l.mig.cand)
		if i >= 0 && from != l.mig.old && term > l.v.term && term-l.v.term <= MaxMembers && (c < 0 || i <= c) {
			return true
		}
		if i >= 0 && term-l.v.term > MaxMembers {
			l.refuse(from, ErrRefusedClaim)
		} else {
			l.stats.Ignored++
		}
		return false
	case from == l.v.host || l.v.index(from) >= 0:
		// Our host with another term, or a member of our lobby claiming to
		// host it: a host changes only by a migration we observe. A
		// higher term is a lie; the same term can be an honest member
		// that took over after a migration we did not see the same way
		// (its claim lists us, we answer NotHost, and the lobbies merge).
		if term > l.v.term || from == l.v.host {
			l.refuse(from, ErrRefusedClaim)
		} else {
			l.stats.Ignored++
		}
		return false
	case l.theirClaim(from, ids, running).beats(l.ourClaim()):
		return true
	}
	if slices.Contains(ids, l.local) && !l.followed[from] {
		l.refuse(from, ErrRefusedClaim) // it lists us, but we never followed it
	} else {
		l.stats.Ignored++ // a weaker lobby, or one we left whose roster is behind
	}
	return false
}
