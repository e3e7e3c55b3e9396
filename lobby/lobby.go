package lobby

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/peerplay/peerplay/internal/drain"
	"github.com/peerplay/peerplay/internal/safetext"
	"github.com/peerplay/peerplay/lobby/internal/lobbyfb"
	"github.com/peerplay/peerplay/netcode/transport"
)

// maxPerPoll bounds the messages one Poll reads, so that a flood cannot
// stall a frame; the rest wait in the Conn for the next Poll.
const maxPerPoll = 1024

// Lobby is the local peer's end of a lobby over one Reliable Conn. It
// starts no goroutine and never calls game code: the game calls Poll each
// frame (or whenever it likes) and reads State. It is safe for concurrent
// use.
//
// The Lobby owns the Conn's receive side (it calls TryRecv): give it a
// channel of its own. It does not close the Conn.
type Lobby struct {
	conn  transport.Conn
	cfg   Config
	log   *slog.Logger
	local transport.PeerID

	mu        sync.Mutex // guards all following fields
	enc       encoder
	now       time.Time // Config.Now, read once per call
	closed    bool
	prof      profile // what the local peer asks the host for
	profSent  bool    // prof changed and the host's roster does not show it yet
	v         view    // the lobby as the host last described it
	isHost    bool
	kicked    bool
	stale     transport.PeerID // our host stepped down for this peer: accept its next claim
	staleEnd  time.Time        // ... until then; then look for a host afresh
	full      bool             // the host last turned us away: full
	helloAt   uint64           // term<<32|version of the snapshot we last answered with a Hello
	connected map[transport.PeerID]bool
	seen      map[transport.PeerID]bool // ever in Peers(): only those can be "disconnected"
	leftMsg   map[transport.PeerID]bool // sent Leave since they last said Hello
	discover  time.Time                 // when to found the lobby if no host appears
	mig       migration
	cdEnd     time.Time          // end of the countdown, local clock
	cdMembers []transport.PeerID // players (members not watching) when the countdown started
	forced    bool               // host: the countdown comes from Start
	rnd       *round
	early     map[transport.PeerID]*lobbyfb.CommitT          // commits ahead of their Propose
	nextProp  *lobbyfb.ProposeT                              // a Propose that came while our reveal was out
	excluded  map[transport.PeerID]bool                      // withheld a reveal in a round we revealed in
	exclOrder []transport.PeerID                             // excluded, in order
	refusals  map[transport.PeerID]map[transport.PeerID]bool // host: p -> seats that refused to be seated with p
	reopened  map[transport.PeerID]bool                      // host: unreadied by Reopen, not heard from since
	reopenAt  uint32                                         // host: the round its last Reopen moved to
	followed  map[transport.PeerID]bool                      // hosts we followed (bounded)
	banDue    map[transport.PeerID]time.Time                 // host: when to report its own kick
	deferBan  transport.PeerID                               // host: kicking it now; EventBanned later
	match     *Match                                         // the match the local peer is seated in
	run       *Match                                         // the running match as known here (seated, watching, or host)
	freed     map[int]bool                                   // host: seats of run whose player left for good
	served    map[transport.PeerID]time.Time                 // host: when each peer's running-match request was last answered
	askAt     time.Time                                      // member: when to repeat an unanswered join/watch request
	dirty     bool                                           // host: broadcast a snapshot at the end of this call
	greet     []transport.PeerID                             // host: peers to send the current snapshot to
	events    drain.Queue[Event]
	stats     Stats
}

type profile struct {
	name        string
	team, seat  int
	ready       bool
	watch, join bool
}

// view is the lobby as the host describes it in a Snapshot.
type view struct {
	host          transport.PeerID
	term, version uint32
	phase         Phase // PhaseOpen..PhaseStarted, or PhaseUnknown before any host
	round         uint32
	settings      Settings
	members       []Member
	banned        []transport.PeerID
}

func (v view) clone() view {
	v.settings = v.settings.clone()
	v.members = slices.Clone(v.members)
	v.banned = slices.Clone(v.banned)
	return v
}

func (v view) index(id transport.PeerID) int {
	return slices.IndexFunc(v.members, func(m Member) bool { return m.ID == id })
}

// playerIDs lists the members that do not watch (a watcher coming or
// going does not cancel a countdown).
func (v view) playerIDs() []transport.PeerID {
	var ids []transport.PeerID
	for _, m := range v.members {
		if !m.Watching {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

func (v view) ids() []transport.PeerID {
	ids := make([]transport.PeerID, len(v.members))
	for i, m := range v.members {
		ids[i] = m.ID
	}
	return ids
}

type migration struct {
	active   bool
	old      transport.PeerID // the host that left
	skip     int              // candidates passed over after a timeout
	cand     transport.PeerID // the successor we wait for
	deadline time.Time
}

// New joins the lobby on conn, which must be a Reliable channel that no
// one else reads. The lobby then listens for a host for
// Config.DiscoveryDelay and founds the lobby itself if none speaks up.
func New(conn transport.Conn, cfg Config) (*Lobby, error) {
	if conn == nil {
		return nil, fmt.Errorf("%w: nil Conn", ErrInvalidConfig)
	}
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	local := conn.Local()
	if local == "" || len(local) > MaxPeerIDSize {
		return nil, fmt.Errorf("%w: local PeerID %q (1..%d bytes)", ErrInvalidConfig, local, MaxPeerIDSize)
	}
	l := &Lobby{
		conn:      conn,
		cfg:       c,
		log:       c.Logger.With("pkg", "lobby", "local", string(local)),
		local:     local,
		prof:      profile{name: c.Name, team: c.Team, seat: c.Seat, watch: c.Watch},
		connected: make(map[transport.PeerID]bool),
		seen:      make(map[transport.PeerID]bool),
		leftMsg:   make(map[transport.PeerID]bool),
		early:     make(map[transport.PeerID]*lobbyfb.CommitT),
		excluded:  make(map[transport.PeerID]bool),
		refusals:  make(map[transport.PeerID]map[transport.PeerID]bool),
		followed:  make(map[transport.PeerID]bool),
		banDue:    make(map[transport.PeerID]time.Time),
		freed:     make(map[int]bool),
		served:    make(map[transport.PeerID]time.Time),
	}
	l.now = c.Now()
	l.discover = l.now.Add(c.DiscoveryDelay)
	return l, nil
}

// Local returns the local peer's ID.
func (l *Lobby) Local() transport.PeerID { return l.local }

// PollEvents reads what arrived, runs the timers (discovery, countdown,
// start round, migration) and returns the events since the last call,
// oldest first. Call it every frame. It follows the drain convention
// (CONTRIBUTING.md): the returned slice is reused and valid until the next
// PollEvents (or Poll); the queue keeps the newest MaxEvents and counts the
// oldest it drops in Stats.EventsDropped.
func (l *Lobby) PollEvents() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.now = l.cfg.Now()
		l.refreshPeers()
		for range maxPerPoll {
			m, ok := l.conn.TryRecv()
			if !ok {
				break
			}
			l.handle(m)
		}
		l.timers()
		l.flush()
	}
	return l.events.Drain()
}

// Poll is PollEvents returning a copy the caller owns.
//
// Deprecated: use PollEvents (the drain convention, CONTRIBUTING.md); its
// slice is valid until the next call.
func (l *Lobby) Poll() []Event {
	ev := l.PollEvents()
	if len(ev) == 0 {
		return nil
	}
	return slices.Clone(ev)
}

// DisplayName returns p's display name as the lobby agreed it (cleaned and
// unique: Member.Name), or "" when p is not a member. The lobby owns display
// names (CONTRIBUTING.md, "Display names"): chat.Config.Names takes a Lobby.
func (l *Lobby) DisplayName(p transport.PeerID) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.v.members {
		if m.ID == p {
			return m.Name
		}
	}
	return ""
}

// State returns a copy of the lobby as the local peer sees it.
func (l *Lobby) State() State {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := State{
		Phase:    l.phaseLocked(),
		Local:    l.local,
		Term:     l.v.term,
		Version:  l.v.version,
		Kicked:   l.kicked,
		Members:  slices.Clone(l.v.members),
		Settings: l.v.settings.clone(),
		Banned:   slices.Clone(l.v.banned),
		Excluded: slices.Clone(l.exclOrder),
	}
	if !l.mig.active {
		s.Host = l.v.host
	}
	s.Joined = l.v.index(l.local) >= 0 && !l.kicked
	if s.Phase == PhaseCountdown {
		s.Countdown = max(0, l.cdEnd.Sub(l.cfg.Now()))
	}
	return s
}

func (l *Lobby) phaseLocked() Phase {
	switch {
	case l.closed:
		return PhaseClosed
	case l.mig.active:
		return PhaseMigrating
	case l.v.host == "":
		return PhaseDiscovering
	}
	return l.v.phase
}

// Match returns the agreed Match once EventStarted has been reported, and
// until the host reopens the lobby. The start is delivered once, as
// EventStarted with Event.Match (the canonical path); Match is a snapshot
// of the same value for code that did not keep the event, e.g. after
// Stats.EventsDropped rose (CONTRIBUTING.md, "Each fact once").
func (l *Lobby) Match() (Match, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.match == nil {
		return Match{}, false
	}
	return l.match.clone(), true
}

// Stats returns the lobby's counters.
func (l *Lobby) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// Close tells the other peers that the local peer leaves and stops the
// lobby; later calls return ErrClosed and Poll returns nothing new. It
// does not close the Conn. Close is idempotent.
func (l *Lobby) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if err := l.conn.Broadcast(l.enc.encode(lobbyfb.BodyLeave, &lobbyfb.LeaveT{})); err != nil {
		l.log.Debug("leave", "err", err)
	}
	return nil
}

// SetName asks for a display name (cleaned and cut to MaxNameRunes; ""
// means the PeerID). The host renames duplicates: see EventRenamed.
func (l *Lobby) SetName(name string) error {
	return l.setProfile(func(p *profile) { p.name = safetext.Name(name, MaxNameRunes) })
}

// SetTeam sets the local team preference (0: none).
func (l *Lobby) SetTeam(team int) error {
	if int64(int32(team)) != int64(team) {
		return fmt.Errorf("%w: team %d", ErrInvalidSettings, team)
	}
	return l.setProfile(func(p *profile) { p.team = team })
}

// SetSeat sets the local seat preference, 1-based (0: any).
func (l *Lobby) SetSeat(seat int) error {
	if seat < 0 || seat > MaxMembers {
		return fmt.Errorf("%w: seat %d outside 0..%d", ErrInvalidSettings, seat, MaxMembers)
	}
	return l.setProfile(func(p *profile) { p.seat = seat })
}

// SetReady sets the local ready flag. When MinPlayers members are all
// ready, the host starts the countdown (unless Config.ManualStart).
func (l *Lobby) SetReady(ready bool) error {
	return l.setProfile(func(p *profile) { p.ready = ready })
}

func (l *Lobby) setProfile(f func(*profile)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.now = l.cfg.Now()
	f(&l.prof)
	if l.isHost {
		l.mutate(func(nv *view) {
			if i := nv.index(l.local); i >= 0 {
				nv.members[i] = l.memberFrom(l.local, l.prof, nv.members[i].Late, nv)
			}
		})
	} else {
		l.profSent = true
		l.sendHello()
	}
	l.flush()
	return nil
}

// --- membership -----------------------------------------------------------

func (l *Lobby) refreshPeers() {
	cur := l.conn.Peers()
	now := make(map[transport.PeerID]bool, len(cur))
	for _, p := range cur {
		now[p] = true
		if !l.connected[p] {
			l.seen[p] = true
			if l.isHost {
				l.greet = append(l.greet, p)
			}
		}
	}
	var gone []transport.PeerID
	for p := range l.connected {
		if !now[p] {
			gone = append(gone, p)
		}
	}
	slices.Sort(gone)
	l.connected = now
	for _, p := range gone {
		l.peerDown(p)
	}
}

// peerDown handles a peer that disconnected or sent Leave.
func (l *Lobby) peerDown(p transport.PeerID) {
	delete(l.early, p)
	if r := l.rnd; r != nil && r.live() && slices.Contains(r.seats, p) {
		if _, ok := r.reveals[p]; !ok && !r.revealed {
			// Our nonce is not out, so the round cannot complete anywhere:
			// call it off. After our reveal, another seat may hold its
			// nonce and launch: we wait for that until our deadline.
			l.abortRound(StartReasonLeft, p, l.isHost)
		}
	}
	switch {
	case l.isHost:
		if l.leftMsg[p] {
			l.freeSeat(p) // a goodbye: its seat of the running match is open
		}
		if l.v.index(p) >= 0 {
			l.mutate(func(nv *view) { nv.members = slices.DeleteFunc(nv.members, func(m Member) bool { return m.ID == p }) })
		}
	case p == l.v.host && !l.mig.active:
		l.startMigration(p)
	case l.mig.active && p == l.mig.cand:
		l.evalMigration()
	}
}

// memberFrom builds the roster row for a peer's profile, making the name
// unique among nv's other members.
func (l *Lobby) memberFrom(id transport.PeerID, p profile, late bool, nv *view) Member {
	want := p.name
	if want == "" {
		want = safetext.Name(string(id), MaxNameRunes)
	}
	name := uniqueName(want, id, nv.members)
	m := Member{ID: id, Name: name, Team: p.team, Seat: p.seat, Ready: p.ready, Late: late, Watching: p.watch}
	if name != want {
		m.Requested = want
	}
	return m
}

// uniqueName returns want, or "want (N)" with the smallest N >= 2 that no
// other member holds (names compare case-insensitively).
func uniqueName(want string, id transport.PeerID, members []Member) string {
	taken := func(n string) bool {
		return slices.ContainsFunc(members, func(m Member) bool { return m.ID != id && strings.EqualFold(m.Name, n) })
	}
	if !taken(want) {
		return want
	}
	for i := 2; ; i++ {
		suffix := " (" + strconv.Itoa(i) + ")"
		n := safetext.Truncate(want, MaxNameRunes-len(suffix)) + suffix
		if !taken(n) {
			return n
		}
	}
}

// mutate applies a host-side change, then the host's rules (countdown),
// reports the events and schedules a snapshot.
func (l *Lobby) mutate(f func(nv *view)) {
	nv := l.v.clone()
	f(&nv)
	l.hostRules(&nv)
	phase := l.v.phase
	l.setView(nv)
	l.dirty = true
	if nv.phase != phase {
		l.flush() // members see every phase change, even one undone in this Poll
	}
}

// hostRules starts or cancels the countdown.
func (l *Lobby) hostRules(nv *view) {
	players := 0
	for _, m := range nv.members {
		if !m.Watching {
			players++
		}
	}
	allReady := players >= l.cfg.MinPlayers &&
		!slices.ContainsFunc(nv.members, func(m Member) bool { return !m.Ready && !m.Watching })
	switch nv.phase {
	case PhaseOpen:
		if !l.cfg.ManualStart && allReady {
			l.beginCountdown(nv, false)
		}
	case PhaseCountdown:
		if !slices.Equal(nv.playerIDs(), l.cdMembers) || (!l.forced && !allReady) {
			nv.phase = PhaseOpen
			l.forced = false
		}
	}
}

func (l *Lobby) beginCountdown(nv *view, forced bool) {
	nv.phase = PhaseCountdown
	l.forced = forced
	l.cdEnd = l.now.Add(l.cfg.Countdown)
	l.cdMembers = nv.playerIDs()
}

// setView replaces the view and reports what changed.
func (l *Lobby) setView(nv view) {
	old := l.v
	l.v = nv
	if nv.host != old.host && nv.host != "" {
		l.emit(Event{Kind: EventHostChanged, Peer: nv.host})
	}
	for _, m := range nv.members {
		i := old.index(m.ID)
		switch {
		case i < 0 && m.Late:
			l.emit(Event{Kind: EventLateArrival, Peer: m.ID, Member: m})
		case i < 0:
			l.emit(Event{Kind: EventJoined, Peer: m.ID, Member: m})
		case old.members[i] != m:
			o := old.members[i]
			if o.Name != m.Name || o.Team != m.Team || o.Seat != m.Seat || o.Ready != m.Ready || o.Watching != m.Watching {
				l.emit(Event{Kind: EventUpdated, Peer: m.ID, Member: m})
			}
		}
		if m.Requested != "" && (i < 0 || old.members[i].Requested != m.Requested || old.members[i].Name != m.Name) {
			l.emit(Event{Kind: EventRenamed, Peer: m.ID, Member: m})
		}
	}
	var left []transport.PeerID
	for _, o := range old.members {
		if nv.index(o.ID) < 0 {
			left = append(left, o.ID)
			l.emit(Event{Kind: EventLeft, Peer: o.ID, Member: o, Reason: l.leaveReason(o.ID, old, nv)})
		}
	}
	for _, b := range nv.banned {
		if !slices.Contains(old.banned, b) && b != l.deferBan {
			l.emit(Event{Kind: EventBanned, Peer: b})
		}
	}
	for _, b := range old.banned {
		if !slices.Contains(nv.banned, b) {
			l.emit(Event{Kind: EventUnbanned, Peer: b})
		}
	}
	if old.host != "" && !old.settings.equal(nv.settings) {
		l.emit(Event{Kind: EventSettingsChanged})
	}
	switch {
	case nv.phase == PhaseCountdown && old.phase != PhaseCountdown:
		l.emit(Event{Kind: EventCountdown, Countdown: max(0, l.cdEnd.Sub(l.now))})
	case old.phase == PhaseCountdown && nv.phase == PhaseOpen:
		l.emit(Event{Kind: EventCountdownCancelled, Reason: cancelReason(old, nv, left)})
	case old.phase == PhaseStarted && nv.phase == PhaseOpen && old.host == nv.host:
		l.match, l.run = nil, nil
		l.prof.ready, l.prof.join = false, false
		clear(l.freed)
		l.emit(Event{Kind: EventReopened})
	}
	if nv.phase == PhaseStarting && (old.phase != PhaseStarting || old.round != nv.round) {
		l.emit(Event{Kind: EventStarting})
	}
}

func (l *Lobby) leaveReason(id transport.PeerID, old, nv view) Reason {
	switch {
	case slices.Contains(nv.banned, id) && !slices.Contains(old.banned, id):
		return ReasonKicked
	case l.leftMsg[id]:
		return ReasonLeft
	case !l.connected[id] && id != l.local:
		return ReasonDisconnected
	}
	return ReasonLeft
}

func cancelReason(old, nv view, left []transport.PeerID) Reason {
	switch {
	case old.host != nv.host:
		return ReasonHostChanged
	case len(left) > 0:
		for _, id := range left {
			if slices.Contains(nv.banned, id) {
				return ReasonKicked
			}
		}
		return ReasonLeft
	case len(nv.members) > len(old.members):
		return ReasonJoined
	case !old.settings.equal(nv.settings):
		return ReasonSettings
	}
	for _, m := range nv.members {
		if !m.Ready {
			return ReasonUnready
		}
	}
	return ReasonUnknown
}

// MaxEvents bounds the queue PollEvents drains. Overflow rule (the drain
// convention, CONTRIBUTING.md): the oldest event is dropped and counted in
// Stats.EventsDropped, so a game that stalled sees the latest facts; State
// and Match are the snapshot to resynchronise from.
const MaxEvents = 256

func (l *Lobby) emit(e Event) {
	if l.events.Push(e, MaxEvents) {
		l.stats.EventsDropped++
	}
}

// --- sending --------------------------------------------------------------

func (l *Lobby) send(to transport.PeerID, typ lobbyfb.Body, v any) {
	if to == l.local {
		return
	}
	if err := l.conn.Send(to, l.enc.encode(typ, v)); err != nil {
		l.stats.SendErrors++
		l.log.Debug("send", "to", string(to), "type", typ.String(), "err", err)
	}
}

// sendTo sends one message to several peers (never to the local peer).
func (l *Lobby) sendTo(peers []transport.PeerID, typ lobbyfb.Body, v any) {
	data := l.enc.encode(typ, v)
	for _, p := range peers {
		if p == l.local {
			continue
		}
		if err := l.conn.Send(p, data); err != nil {
			l.stats.SendErrors++
			l.log.Debug("send", "to", string(p), "type", typ.String(), "err", err)
		}
	}
}

func (l *Lobby) broadcast(typ lobbyfb.Body, v any) {
	if err := l.conn.Broadcast(l.enc.encode(typ, v)); err != nil {
		l.stats.SendErrors++
		l.log.Debug("broadcast", "type", typ.String(), "err", err)
	}
}

func (l *Lobby) sendHello() {
	if l.v.host == "" || l.v.host == l.local || l.kicked || l.mig.active {
		return
	}
	l.helloAt = uint64(l.v.term)<<32 | uint64(l.v.version)
	l.send(l.v.host, lobbyfb.BodyHello, l.hello())
}

func (l *Lobby) hello() *lobbyfb.HelloT {
	h := &lobbyfb.HelloT{
		Name: l.prof.name, Team: int32(l.prof.team), Seat: int32(l.prof.seat), Ready: l.prof.ready, Round: l.v.round,
		Watch: l.prof.watch, Join: l.prof.join,
	}
	if l.run != nil {
		h.MatchTerm, h.MatchRound = l.run.Term, l.run.Round
	}
	return h
}

// flush sends the host's snapshot: to everyone if it changed, else to the
// peers that just connected.
func (l *Lobby) flush() {
	if !l.isHost {
		l.greet = nil
		l.dirty = false
		return
	}
	switch {
	case l.dirty:
		l.v.version++
		l.broadcast(lobbyfb.BodySnapshot, l.snapshot())
	case len(l.greet) > 0:
		slices.Sort(l.greet)
		l.sendTo(slices.Compact(l.greet), lobbyfb.BodySnapshot, l.snapshot())
	}
	l.dirty = false
	l.greet = nil
}

func (l *Lobby) snapshot() *lobbyfb.SnapshotT {
	s := &lobbyfb.SnapshotT{
		Term: l.v.term, Version: l.v.version, Phase: lobbyfb.Phase(l.v.phase - PhaseDiscovering),
		Round: l.v.round, MaxPlayers: byte(l.v.settings.MaxPlayers), Settings: l.v.settings.Data,
		LateJoin: l.v.settings.LateJoin, OpenSeats: byte(l.v.settings.OpenSeats),
	}
	if l.v.phase == PhaseCountdown {
		s.CountdownMs = uint32(max(0, l.cdEnd.Sub(l.now)).Milliseconds())
	}
	for _, m := range l.v.members {
		s.Members = append(s.Members, &lobbyfb.MemberT{
			Id: string(m.ID), Name: m.Name, Requested: m.Requested, Team: int32(m.Team), Seat: int32(m.Seat),
			Ready: m.Ready, Late: m.Late, Watching: m.Watching,
		})
	}
	for _, b := range l.v.banned {
		s.Banned = append(s.Banned, string(b))
	}
	return s
}

// Banned returns the host's ban list as the local peer last heard it, in
// the order the peers were kicked: the peers a game should keep off its
// mesh (see the package doc, "Kick").
func (l *Lobby) Banned() []transport.PeerID {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.v.banned)
}
