package lobby

import (
	"fmt"
	"slices"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// Limits every peer enforces on what it sends and accepts.
const (
	// MaxMembers is the most members a lobby holds, and the largest
	// Settings.MaxPlayers.
	MaxMembers = 32
	// MaxNameRunes is the longest display name, in runes; longer names are
	// cut.
	MaxNameRunes = 32
	// MaxSettingsSize is the largest Settings.Data, in bytes.
	MaxSettingsSize = 2048
	// MaxPeerIDSize is the longest PeerID the lobby accepts, in bytes.
	MaxPeerIDSize = 64
	// MaxMessageSize is the largest lobby message, in bytes; anything
	// bigger is dropped unread. Every message the lobby builds within the
	// limits above fits.
	MaxMessageSize = 16 << 10
)

// Phase is where the lobby stands, as the local peer sees it.
type Phase int

const (
	// PhaseUnknown is the zero value.
	PhaseUnknown Phase = iota
	// PhaseDiscovering: no host yet; the peer listens for one for
	// Config.DiscoveryDelay, then founds the lobby itself.
	PhaseDiscovering
	// PhaseOpen: members come and go, change their profile and get ready.
	PhaseOpen
	// PhaseCountdown: everyone is ready (or the host called Start); the
	// round starts when the countdown ends unless something changes.
	PhaseCountdown
	// PhaseStarting: the seats are fixed and the peers are agreeing on the
	// seed.
	PhaseStarting
	// PhaseStarted: the Match is agreed; Lobby.Match returns it.
	PhaseStarted
	// PhaseMigrating: the host left; the members wait for the successor's
	// claim.
	PhaseMigrating
	// PhaseClosed: Close was called.
	PhaseClosed
)

var phaseNames = [...]string{"unknown", "discovering", "open", "countdown", "starting", "started", "migrating", "closed"}

// String returns a short lower-case name, or "unknown(N)".
func (p Phase) String() string {
	if p >= 0 && int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("unknown(%d)", int(p))
}

// Member is one member of the lobby, as the host's roster shows it.
type Member struct {
	ID transport.PeerID
	// Name is unique in the lobby: when a peer asks for a name another
	// member holds, the host gives it "name (2)" and Requested keeps the
	// name asked for.
	Name      string
	Requested string
	// Team is the team the member prefers (0: none); it is copied into
	// Match.Teams.
	Team int
	// Seat is the seat the member prefers, 1-based (0: any); the host
	// honours it when the seat exists and nobody earlier asked for it.
	Seat  int
	Ready bool
	// Late is set for a member admitted while a match was starting or
	// running: it is not seated in that match (unless the host seats it
	// into an open seat: see Lobby.JoinRunning).
	Late bool
	// Watching is set for a member that asked to spectate (Lobby.Watch):
	// it is never seated, and does not count for MinPlayers or the
	// ready check.
	Watching bool
}

// Settings are the host's game settings.
type Settings struct {
	// MaxPlayers bounds the lobby's players, 1..MaxMembers; watchers
	// (Member.Watching) come on top, up to MaxMembers members in all.
	MaxPlayers int
	// Data is opaque to the lobby (at most MaxSettingsSize bytes): the
	// game's own settings, agreed with the Match. The lobby copies it; the
	// caller keeps ownership of the slice it passes.
	Data []byte
	// LateJoin lets a newcomer that asks (Lobby.JoinRunning) take an open
	// seat of the running match: a reserved seat still empty (OpenSeats)
	// or a seat whose player left the lobby for good (a goodbye, a kick).
	// Members see it in State().Settings. false (the default): a newcomer
	// is Late and waits for the next match.
	LateJoin bool
	// OpenSeats is how many empty seats the next match reserves for
	// newcomers, after the players' seats (Match.Reserved, what
	// lockstep.Config.Reserved wants); seats beyond MaxMembers in all
	// are not reserved. 0 (the default): none.
	OpenSeats int
}

func (s Settings) clone() Settings {
	s.Data = slices.Clone(s.Data)
	return s
}

func (s Settings) equal(o Settings) bool {
	return s.MaxPlayers == o.MaxPlayers && string(s.Data) == string(o.Data) &&
		s.LateJoin == o.LateJoin && s.OpenSeats == o.OpenSeats
}

// Match is what every seated peer agreed on when the lobby started.
type Match struct {
	// Seats lists the players; a player's index is its seat (what
	// lockstep.Config.Seats wants). A reserved seat not taken yet holds
	// the placeholder ReservedID(i); in the match a newcomer took it,
	// Seats holds the newcomer (Lobby.Running, EventSeated).
	Seats []transport.PeerID
	// Reserved lists the seats that started empty (Settings.OpenSeats),
	// by their current occupant or placeholder: what
	// lockstep.Config.Reserved wants. nil: none.
	Reserved []transport.PeerID
	// Teams holds each seat's team preference, aligned with Seats.
	Teams []int
	// Seed is combined from a nonce of every seated peer (see the package
	// doc, "Seed"): no single peer chose it.
	Seed     uint64
	Settings Settings
	// Round identifies the start round within the host's term.
	Term, Round uint32
}

func (m Match) clone() Match {
	m.Seats = slices.Clone(m.Seats)
	m.Reserved = slices.Clone(m.Reserved)
	m.Teams = slices.Clone(m.Teams)
	m.Settings = m.Settings.clone()
	return m
}

// Seat returns p's seat index in the match, or -1.
func (m Match) Seat(p transport.PeerID) int { return slices.Index(m.Seats, p) }

// State is a copy of the lobby as the local peer sees it; the caller owns
// it.
type State struct {
	Phase Phase
	Local transport.PeerID
	// Host is the current host ("" while discovering or migrating).
	Host transport.PeerID
	// Term counts host changes; Version counts changes within a term.
	Term, Version uint32
	// Joined reports whether the local peer is a member.
	Joined bool
	// Kicked reports whether the host kicked the local peer.
	Kicked bool
	// Members in admission order (the order host migration follows).
	Members  []Member
	Settings Settings
	// Countdown is the time left in PhaseCountdown.
	Countdown time.Duration
	// Banned lists the peers the host kicked; they cannot join again.
	Banned []transport.PeerID
	// Excluded lists the peers the local peer will not be seated with in
	// this lobby: each withheld its reveal in a start round after the
	// others revealed (see the package doc, "Threat model").
	Excluded []transport.PeerID
}

// Member returns the member with this ID.
func (s State) Member(id transport.PeerID) (Member, bool) {
	for _, m := range s.Members {
		if m.ID == id {
			return m, true
		}
	}
	return Member{}, false
}

// Listing is what an application may publish about the lobby in a room
// listing (for example the signaling server's room metadata).
type Listing struct {
	Players    int // members that are not watching
	MaxPlayers int
	// State is "open", "countdown", "starting", "started", or "" before
	// there is a host.
	State string
}

// Listing returns the room-listing view of s.
func (s State) Listing() Listing {
	l := Listing{MaxPlayers: s.Settings.MaxPlayers}
	for _, m := range s.Members {
		if !m.Watching {
			l.Players++
		}
	}
	switch s.Phase {
	case PhaseOpen, PhaseCountdown, PhaseStarting, PhaseStarted:
		l.State = s.Phase.String()
	}
	return l
}

// EventKind says what an Event reports.
type EventKind int

const (
	// EventUnknown is the zero value.
	EventUnknown EventKind = iota
	// EventJoined: Member joined the lobby (the local peer too).
	EventJoined
	// EventLateArrival: Member joined while a match was starting or
	// running; it is not seated in that match.
	EventLateArrival
	// EventLeft: Peer left the lobby; Reason says how.
	EventLeft
	// EventUpdated: Member changed name, team, seat or ready.
	EventUpdated
	// EventRenamed: Member asked for a name another member holds; the host
	// named it Member.Name (Member.Requested is what it asked for).
	EventRenamed
	// EventHostChanged: Peer is now the host (founding, migration, or two
	// lobbies merging).
	EventHostChanged
	// EventSettingsChanged: the host changed Settings.
	EventSettingsChanged
	// EventCountdown: the countdown started; Countdown is its length.
	EventCountdown
	// EventCountdownCancelled: the countdown stopped; Reason says why
	// (ReasonUnready, ReasonJoined, ReasonLeft, ReasonSettings,
	// ReasonKicked).
	EventCountdownCancelled
	// EventStarting: the seats are fixed and the seed is being agreed.
	EventStarting
	// EventStarted: the Match is agreed; Match holds it.
	EventStarted
	// EventStartFailed: the round failed everywhere; Err is a *StartError.
	EventStartFailed
	// EventReopened: the host reopened the lobby after a match.
	EventReopened
	// EventRejected: the host turned the local peer away; Err is
	// ErrLobbyFull or ErrKicked.
	EventRejected
	// EventKicked: the host kicked the local peer (Err is ErrKicked).
	EventKicked
	// EventBanned: Peer is on the host's ban list (kicked): the game should
	// close its links to Peer and refuse it (netcode Mesh.Block). Reported
	// for every banned peer when the local peer first follows a host, then
	// for each new ban.
	EventBanned
	// EventUnbanned: the host lifted Peer's ban (Unban, or the ban list's
	// oldest entry made room): the game may accept Peer again
	// (Mesh.Unblock).
	EventUnbanned
	// EventRefused: the local peer refused Peer's message because it broke
	// the lobby's authority rules (a host claim it had no right to make, a
	// start message after the seed was fixed); Err says which
	// (ErrRefusedClaim, ...). Counted in Stats.Refused.
	EventRefused
	// EventRejoin: the local peer holds seat Seat of the running match
	// (Match) but did not start it here: a player whose process restarted
	// with the same identity. Start the session in that seat with
	// lockstep.Config.Join (see the package doc, "Entering a running
	// match").
	EventRejoin
	// EventSeated: Peer took the open seat Seat of the running match
	// (Match holds the seats now). For the local peer: start the session
	// with lockstep.Config.Join. For a peer already playing: call the
	// session's Rebind(Seat, Peer). A watcher hears it too (nothing to
	// do: its Spectator's stream carries the seat's inputs).
	EventSeated
	// EventWatch: the local peer, watching (Lobby.Watch), can follow the
	// running match (Match): subscribe a lockstep.Spectator to Source,
	// with Witnesses for checksums.
	EventWatch
)

var eventNames = [...]string{"unknown", "joined", "late-arrival", "left", "updated", "renamed", "host-changed",
	"settings-changed", "countdown", "countdown-cancelled", "starting", "started", "start-failed", "reopened",
	"rejected", "kicked", "banned", "unbanned", "refused", "rejoin", "seated", "watch"}

// String returns a short lower-case name, or "unknown(N)".
func (k EventKind) String() string {
	if k >= 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return fmt.Sprintf("unknown(%d)", int(k))
}

// Reason qualifies EventLeft and EventCountdownCancelled.
type Reason int

const (
	// ReasonUnknown is the zero value.
	ReasonUnknown Reason = iota
	// ReasonLeft: the peer closed its lobby (or went to another host).
	ReasonLeft
	// ReasonDisconnected: the peer dropped off the mesh.
	ReasonDisconnected
	// ReasonKicked: the host kicked the peer.
	ReasonKicked
	// ReasonUnready: a member is no longer ready.
	ReasonUnready
	// ReasonJoined: a peer joined during the countdown.
	ReasonJoined
	// ReasonSettings: the host changed the settings.
	ReasonSettings
	// ReasonHostChanged: the host changed.
	ReasonHostChanged
)

var reasonNames = [...]string{"unknown", "left", "disconnected", "kicked", "unready", "joined", "settings", "host changed"}

// String returns a short lower-case name, or "unknown(N)".
func (r Reason) String() string {
	if r >= 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("unknown(%d)", int(r))
}

// Event is one thing that happened in the lobby, returned by Poll. Fields
// other than Kind are set as the kind's comment says.
type Event struct {
	Kind      EventKind
	Peer      transport.PeerID
	Member    Member
	Reason    Reason
	Err       error
	Match     Match
	Countdown time.Duration
	// Seat is the seat of EventRejoin and EventSeated.
	Seat int
	// Source and Witnesses are EventWatch's streaming seats: Source sends
	// the inputs, Witnesses their checksums (lockstep.SpectatorConfig).
	Source    transport.PeerID
	Witnesses []transport.PeerID
}

func (e Event) String() string {
	switch e.Kind {
	case EventJoined, EventLateArrival, EventUpdated:
		return fmt.Sprintf("%s %s %q", e.Kind, e.Peer, e.Member.Name)
	case EventRenamed:
		return fmt.Sprintf("%s %s %q -> %q", e.Kind, e.Peer, e.Member.Requested, e.Member.Name)
	case EventLeft:
		return fmt.Sprintf("%s %s (%s)", e.Kind, e.Peer, e.Reason)
	case EventCountdown:
		return fmt.Sprintf("%s %v", e.Kind, e.Countdown)
	case EventCountdownCancelled:
		return fmt.Sprintf("%s (%s)", e.Kind, e.Reason)
	case EventStarted:
		return fmt.Sprintf("%s seats=%v seed=%#x", e.Kind, e.Match.Seats, e.Match.Seed)
	case EventStartFailed, EventRejected, EventKicked:
		return fmt.Sprintf("%s: %v", e.Kind, e.Err)
	case EventHostChanged:
		return fmt.Sprintf("%s %s", e.Kind, e.Peer)
	case EventRejoin, EventSeated:
		return fmt.Sprintf("%s %s seat %d", e.Kind, e.Peer, e.Seat)
	case EventWatch:
		return fmt.Sprintf("%s source %s", e.Kind, e.Source)
	}
	return e.Kind.String()
}

// Stats counts the lobby's traffic problems.
type Stats struct {
	// Malformed counts messages dropped by the decoder.
	Malformed uint64
	// Ignored counts well-formed messages dropped because they made no
	// sense from their sender (a snapshot from a peer that is not the
	// host, a commit for another round, ...).
	Ignored uint64
	// SendErrors counts failed Sends (slow consumer, peer gone).
	SendErrors uint64
	// Refused counts messages refused under the authority rules (see the
	// package doc, "Threat model"); each is also an EventRefused naming
	// the sender.
	Refused uint64
	// Oversized counts messages above MaxMessageSize, dropped unread.
	Oversized uint64
	// EventsDropped counts events dropped, oldest first, because more
	// than MaxEvents waited for PollEvents.
	EventsDropped uint64
}
