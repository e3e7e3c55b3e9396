package chat

import (
	"fmt"
	"slices"
	"sync"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/peerplay/peerplay/chat/internal/chatfb"
	"github.com/peerplay/peerplay/internal/safetext"
	"github.com/peerplay/peerplay/netcode/transport"
)

// Limits of chat lines.
const (
	// MaxNameRunes is the longest display name, in runes; longer names are
	// cut.
	MaxNameRunes = 32
	// MaxRunesLimit is the largest Config.MaxRunes.
	MaxRunesLimit = 1000
)

// The bus topics chat uses; other applications of the same Bus must stay
// outside the "chat/" prefix.
const (
	TopicPrefix  = "chat/"
	topicAll     = "chat/all"
	topicTeam    = "chat/team"
	topicDirect  = "chat/dm"
	topicProfile = "chat/profile"
)

// Config configures a Chat. The zero value is usable: every field says its
// default.
type Config struct {
	// Name is the local display name (cleaned, cut to MaxNameRunes); ""
	// means the PeerID.
	Name string
	// Team is the local team, for SayTeam; 0 means none (SayTeam then
	// reaches the peers without a team).
	Team int
	// MaxRunes is the longest line, in runes, on send and on receipt; 0
	// means 280, at most MaxRunesLimit.
	MaxRunes int
	// Bus configures the bus the chat runs on (rate limit, history, clock,
	// logger).
	Bus BusConfig
	// Names, when set, owns the display names the chat shows: a *lobby.Lobby
	// (its agreed, unique Member.Name) in a game that runs both, so a name
	// never differs between the roster and the chat (CONTRIBUTING.md,
	// "Display names"). A peer it names "" falls back to the name the peer
	// announced. nil (the default) shows the announced names (Name,
	// SetName).
	Names NameSource
}

// NameSource owns display names: *lobby.Lobby implements it.
type NameSource interface {
	// DisplayName returns p's display name, or "" if it has none.
	DisplayName(p transport.PeerID) string
}

// Kind says what a Message is.
type Kind int

const (
	// KindUnknown is the zero value.
	KindUnknown Kind = iota
	// KindText is a line someone said.
	KindText
	// KindJoined is a system message: From joined the chat.
	KindJoined
	// KindLeft is a system message: From left.
	KindLeft
)

// String returns "text", "joined", "left" or "unknown(N)".
func (k Kind) String() string {
	switch k {
	case KindText:
		return "text"
	case KindJoined:
		return "joined"
	case KindLeft:
		return "left"
	}
	return fmt.Sprintf("unknown(%d)", int(k))
}

// Channel is who a line was said to.
type Channel int

const (
	// ChannelUnknown is the zero value (system messages).
	ChannelUnknown Channel = iota
	// ChannelEveryone: every peer.
	ChannelEveryone
	// ChannelTeam: the sender's team (Message.Team).
	ChannelTeam
	// ChannelDirect: one peer (Message.To).
	ChannelDirect
)

// String returns "everyone", "team", "direct" or "unknown(N)".
func (c Channel) String() string {
	switch c {
	case ChannelEveryone:
		return "everyone"
	case ChannelTeam:
		return "team"
	case ChannelDirect:
		return "direct"
	}
	return fmt.Sprintf("unknown(%d)", int(c))
}

// Message is one chat line or system message, as Poll hands it out.
type Message struct {
	Kind    Kind
	Channel Channel
	From    transport.PeerID
	// Name is the sender's display name as it announced it (cleaned).
	Name string
	// To is the other party of a direct message.
	To transport.PeerID
	// Team is the team a team line was said to (the sender's).
	Team int
	// Text is cleaned: valid UTF-8, no control characters, at most
	// Config.MaxRunes runes.
	Text string
	// Seq and Stamp place the line in the order every peer shows.
	Seq, Stamp uint64
	// History is set for a line said before the local peer joined.
	History bool
	// Via is, for a History line, the peer that relayed it when we met:
	// its origin (From) is only as trustworthy as Via, which can make up
	// lines of others. Empty for a live line, which From sent itself.
	Via transport.PeerID
}

func (m Message) String() string {
	switch m.Kind {
	case KindJoined:
		return fmt.Sprintf("* %s joined", m.Name)
	case KindLeft:
		return fmt.Sprintf("* %s left", m.Name)
	case KindText:
		var s string
		switch m.Channel {
		case ChannelTeam:
			s = fmt.Sprintf("[team %d] %s: %s", m.Team, m.Name, m.Text)
		case ChannelDirect:
			s = fmt.Sprintf("[%s -> %s] %s", m.From, m.To, m.Text)
		default:
			s = fmt.Sprintf("%s: %s", m.Name, m.Text)
		}
		if m.History && m.Via != "" && m.Via != m.From {
			s += fmt.Sprintf(" (relayed by %s)", m.Via)
		}
		return s
	}
	return m.Kind.String()
}

// Stats counts what the chat dropped, on top of its Bus's counters.
type Stats struct {
	Bus BusStats
	// Rejected counts received lines dropped: not valid UTF-8, empty once
	// cleaned, too long, or not a chat line.
	Rejected uint64
	// Muted counts lines hidden because their sender is muted.
	Muted uint64
}

// Chat is text chat for the peers of a room: to everyone, to one's team,
// or to one peer, in the same order on every peer, with history for late
// joiners, limits on every line, per-sender rate limits, local mute and
// join/leave system messages. It runs on a Bus (Chat.Bus) whose other
// topics the application may use. Like the Bus it starts no goroutine: the
// game calls Poll. It is safe for concurrent use.
type Chat struct {
	bus   *Bus
	sub   *Subscription
	cfg   Config
	local transport.PeerID

	mu       sync.Mutex // guards all following fields
	b        *flatbuffers.Builder
	closed   bool
	name     string
	team     int
	announce bool // our profile must go out (a peer joined, or it changed)
	profiles map[transport.PeerID]profile
	present  map[transport.PeerID]bool // announced as joined, not yet left
	muted    map[transport.PeerID]bool
	stats    Stats
	polled   []Message // PollMessages' reused result
}

type profile struct {
	name string
	team int
}

// New starts a chat, and the Bus under it, on conn: a Reliable channel no
// one else reads.
func New(conn transport.Conn, cfg Config) (*Chat, error) {
	switch {
	case cfg.MaxRunes < 0 || cfg.MaxRunes > MaxRunesLimit:
		return nil, fmt.Errorf("%w: MaxRunes %d outside 0..%d", ErrInvalidConfig, cfg.MaxRunes, MaxRunesLimit)
	case int64(int32(cfg.Team)) != int64(cfg.Team):
		return nil, fmt.Errorf("%w: Team %d does not fit 32 bits", ErrInvalidConfig, cfg.Team)
	}
	if cfg.MaxRunes == 0 {
		cfg.MaxRunes = 280
	}
	bus, err := NewBus(conn, cfg.Bus)
	if err != nil {
		return nil, err
	}
	cfg.Bus = bus.Config()
	c := &Chat{
		bus:      bus,
		sub:      bus.Subscribe(TopicPrefix),
		cfg:      cfg,
		local:    bus.Local(),
		b:        flatbuffers.NewBuilder(256),
		name:     safetext.Name(cfg.Name, MaxNameRunes),
		team:     cfg.Team,
		announce: true,
		profiles: make(map[transport.PeerID]profile),
		present:  make(map[transport.PeerID]bool),
		muted:    make(map[transport.PeerID]bool),
	}
	if c.name == "" {
		c.name = safetext.Name(string(c.local), MaxNameRunes)
	}
	return c, nil
}

// Bus returns the bus the chat runs on, for other topics (outside
// TopicPrefix).
func (c *Chat) Bus() *Bus { return c.bus }

// Say sends a line to everyone.
func (c *Chat) Say(text string) error {
	return c.say(topicAll, nil, text)
}

// SayTeam sends a line to the peers whose chat announced the local team
// (and to the local peer).
func (c *Chat) SayTeam(text string) error {
	c.mu.Lock()
	to := []transport.PeerID{c.local}
	for p, pr := range c.profiles {
		if pr.team == c.team && c.present[p] {
			to = append(to, p)
		}
	}
	c.mu.Unlock()
	slices.Sort(to)
	return c.say(topicTeam, to, text)
}

// Whisper sends a line to one peer (and shows it to the local peer). The
// peer must have announced itself to the chat.
func (c *Chat) Whisper(to transport.PeerID, text string) error {
	c.mu.Lock()
	ok := c.present[to]
	c.mu.Unlock()
	if !ok || to == c.local {
		return fmt.Errorf("%w: %s", ErrUnknownPeer, to)
	}
	return c.say(topicDirect, []transport.PeerID{to, c.local}, text)
}

func (c *Chat) say(topic string, to []transport.PeerID, text string) error {
	clean, ok := safetext.Clean(text, c.cfg.MaxRunes)
	if !ok || clean == "" {
		return fmt.Errorf("%w: empty, longer than %d runes, or not UTF-8", ErrInvalidText, c.cfg.MaxRunes)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	payload := slices.Clone(encodeLine(c.b, line{kind: chatfb.KindText, text: clean, name: c.name, team: c.team}))
	c.mu.Unlock()
	if to == nil {
		return c.bus.Publish(topic, payload)
	}
	return c.bus.PublishTo(topic, to, payload)
}

// SetName changes the local display name; peers learn it with the next
// line and from the profile sent at the next Poll.
func (c *Chat) SetName(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := safetext.Name(name, MaxNameRunes); n != "" {
		c.name = n
		c.announce = true
	}
}

// SetTeam changes the local team (for SayTeam, both ways).
func (c *Chat) SetTeam(team int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.team = int(int32(team))
	c.announce = true
}

// Mute hides p's lines from the local peer (nobody else is told).
func (c *Chat) Mute(p transport.PeerID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.muted[p] = true
}

// Unmute shows p's lines again (those said meanwhile stay hidden).
func (c *Chat) Unmute(p transport.PeerID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.muted, p)
}

// Muted reports whether p is muted.
func (c *Chat) Muted(p transport.PeerID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.muted[p]
}

// Members returns the peers present in the chat (announced, not left),
// sorted, with their names.
func (c *Chat) Members() map[transport.PeerID]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[transport.PeerID]string, len(c.present))
	for p := range c.present {
		out[p] = c.profiles[p].name
		if c.cfg.Names != nil {
			if n := c.cfg.Names.DisplayName(p); n != "" {
				out[p] = n
			}
		}
	}
	return out
}

// Stats returns the chat's counters and its bus's.
func (c *Chat) Stats() Stats {
	s := c.bus.Stats()
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stats
	st.Bus = s
	return st
}

// PollMessages runs the bus and returns the messages since the last call,
// in the order every peer shows them. Call it every frame. It follows the
// drain convention (CONTRIBUTING.md): the returned slice is reused and
// valid until the next PollMessages (or Poll); the subscription under it
// keeps the newest Bus.QueueLen deliveries and counts the oldest it drops
// (Stats.Bus.Overflow).
func (c *Chat) PollMessages() []Message {
	ds := c.sub.PollDeliveries()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	out := c.polled[:0]
	for _, d := range ds {
		switch d.Kind {
		case DeliveryJoined:
			c.announce = true // tell the newcomer who we are
		case DeliveryLeft:
			if c.present[d.From] {
				delete(c.present, d.From)
				out = append(out, Message{Kind: KindLeft, From: d.From, Name: c.nameOf(d.From)})
			}
		case DeliveryMessage:
			if m, ok := c.message(d); ok {
				out = append(out, m)
			}
		}
	}
	if c.announce {
		p := slices.Clone(encodeLine(c.b, line{kind: chatfb.KindProfile, name: c.name, team: c.team}))
		if err := c.bus.PublishWith(topicProfile, p, Options{NoHistory: true}); err == nil {
			c.announce = false // else (rate limit) retry at the next Poll
		}
	}
	clear(out[len(out):cap(out)]) // drop old references
	c.polled = out
	return out
}

// Poll is PollMessages returning a copy the caller owns.
//
// Deprecated: use PollMessages (the drain convention, CONTRIBUTING.md); its
// slice is valid until the next call.
func (c *Chat) Poll() []Message {
	m := c.PollMessages()
	if len(m) == 0 {
		return nil
	}
	return slices.Clone(m)
}

func (c *Chat) nameOf(p transport.PeerID) string {
	if c.cfg.Names != nil {
		if n := c.cfg.Names.DisplayName(p); n != "" {
			return n
		}
	}
	if pr, ok := c.profiles[p]; ok && pr.name != "" {
		return pr.name
	}
	return safetext.Name(string(p), MaxNameRunes)
}

// message turns a delivery into a chat message, or drops it.
func (c *Chat) message(d Delivery) (Message, bool) {
	l, err := decodeLine(d.Payload)
	if err != nil {
		c.stats.Rejected++
		return Message{}, false
	}
	name := safetext.Name(l.name, MaxNameRunes)
	if d.Topic == topicProfile {
		if l.kind != chatfb.KindProfile || d.From == c.local {
			if d.From != c.local {
				c.stats.Rejected++
			}
			return Message{}, false
		}
		c.profiles[d.From] = profile{name: name, team: l.team}
		if d.History || c.present[d.From] {
			return Message{}, false
		}
		c.present[d.From] = true
		return Message{Kind: KindJoined, From: d.From, Name: c.nameOf(d.From), Seq: d.Seq, Stamp: d.Stamp}, true
	}
	m := Message{Kind: KindText, From: d.From, Team: l.team, Seq: d.Seq, Stamp: d.Stamp, History: d.History}
	if d.History {
		m.Via = d.Via
	}
	switch d.Topic {
	case topicAll:
		m.Channel = ChannelEveryone
	case topicTeam:
		m.Channel = ChannelTeam
	case topicDirect:
		m.Channel = ChannelDirect
		for _, p := range d.To {
			if p != d.From {
				m.To = p
			}
		}
	default:
		return Message{}, false // a topic of a later version
	}
	text, ok := safetext.Clean(l.text, c.cfg.MaxRunes)
	if l.kind != chatfb.KindText || !ok || text == "" {
		c.stats.Rejected++
		return Message{}, false
	}
	if c.muted[d.From] {
		c.stats.Muted++
		return Message{}, false
	}
	m.Text = text
	m.Name = name
	if c.cfg.Names != nil {
		if n := c.cfg.Names.DisplayName(d.From); n != "" {
			m.Name = n
		}
	}
	if m.Name == "" {
		m.Name = c.nameOf(d.From)
	}
	return m, true
}

// Close stops the chat and its bus. It does not close the Conn. Close is
// idempotent.
func (c *Chat) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return c.bus.Close()
}
