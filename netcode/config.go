package netcode

import (
	"cmp"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/netcode/internal/wire"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

// MaxUnreliableSize is the largest message an Unreliable channel carries:
// one SCTP packet, so a lost fragment never takes a whole message with it.
// Send returns transport.ErrTooLarge above it.
const MaxUnreliableSize = 1150

// MaxChannels is the largest number of application channels in a Config.
const MaxChannels = wire.MaxChannels

// ChannelSpec names one application channel of the mesh. Every peer of a
// room must list the same channels in the same order: the handshake
// refuses a peer whose table differs.
type ChannelSpec struct {
	// Label names the channel in Mesh.Channel; 1 to 255 bytes, unique.
	Label string
	// Reliability is transport.Reliable or transport.Unreliable.
	Reliability transport.Reliability
	// MaxMessageBytes is the largest message on this channel, sent (Send
	// returns transport.ErrTooLarge above it) or received (a bigger one is
	// dropped unread, counted in ChannelStats.TooLarge, never
	// reassembled). 0 means Config.MaxMessageSize (16 MiB) for a Reliable
	// channel and MaxUnreliableSize for an Unreliable one, which is also
	// the most an Unreliable channel allows. Every peer of a room should
	// use the same limits (the handshake does not compare them).
	MaxMessageBytes int
}

// ICEServer is a STUN or TURN server, as handed out by signaling: the one
// ICEServer type of the SDK (an alias of signaling's).
type ICEServer = sigclient.ICEServer

// Config configures Join. The zero value of every optional field is the
// documented default. Join copies the Config; the caller may reuse it.
type Config struct {
	// SignalURL is the signaling server's WebSocket URL (ws:// or
	// wss://). Required.
	SignalURL string
	// Room is the room to join. Required.
	Room string
	// Channels lists the application channels, 1 to MaxChannels.
	// Required. Each becomes one pre-negotiated data channel per peer,
	// with SCTP stream ID 2+index (IDs 0 and 1 are the mesh's own control
	// and ping channels).
	Channels []ChannelSpec
	// ICEServers, when non-nil, are the STUN/TURN servers used, replacing
	// the ones signaling hands out; an empty non-nil slice means none
	// (host candidates only). nil means: the signaling server's.
	ICEServers []ICEServer
	// RelayOnly makes every link go through a TURN relay (ICE transport
	// policy "relay"): peers never learn each other's IP addresses, at
	// the cost of a detour through the TURN server. It needs a TURN server
	// (a turn: or turns: URL) among the ICE servers: Join fails with
	// ErrInvalidConfig without one. false means: any candidate (host,
	// server-reflexive, relay), the most direct pair wins.
	RelayOnly bool

	// GameID identifies the game. Signaling refuses to seat it in a room
	// of another game, and peers whose GameID differs refuse each other in
	// the handshake. At most 255 bytes.
	GameID string
	// Build identifies the game's build (version, commit): peers whose
	// Build differs refuse each other in the handshake, so that players
	// of incompatible builds never simulate together. At most 255 bytes.
	Build string
	// Name is this player's display name, sent to signaling and to peers
	// in the handshake (Stats reports it). At most 255 bytes. It is the
	// name the player asked for; once a lobby runs, the lobby owns the
	// name shown (lobby.Member.Name; CONTRIBUTING.md, "Display names").
	Name string
	// Password and Token are passed to the signaling server.
	Password, Token string
	// Identity is this player's key: the mesh ID (Mesh.Local) is derived
	// from it and every link proves it (see "Threat model" in the package
	// doc). Keep one (NewIdentity, MarshalIdentity, ParseIdentity) so a
	// player keeps its ID across runs. nil means a fresh key per Mesh.
	// The browser build cannot use it (see the package doc).
	Identity *Identity

	// Logger receives the mesh's logs and pion's, pion's under the
	// attribute "pion" = scope (native builds: in browsers pion drives
	// the browser's WebRTC and logs nothing itself). nil discards them.
	Logger *slog.Logger
	// SettingEngine, if set, is called on the pion SettingEngine after
	// netcode's own settings, just before the API is built: the escape
	// hatch for tests (SetNet for a virtual network, SetIPFilter,
	// SetICEMulticastDNSMode) and for tuning. Native builds only in
	// effect: on js/wasm pion's engine has only DetachDataChannels, which
	// netcode does not use there; the hook is called but nothing it can
	// set changes the browser's behaviour (start the browser with flags,
	// e.g. --allow-loopback-in-peer-connection, for that).
	SettingEngine func(*webrtc.SettingEngine)

	// InboxLen bounds each channel's inbox per peer, in messages. 0 means
	// 1024.
	InboxLen int
	// InboxBytes bounds each channel's inbox per peer, in bytes (a single
	// message larger than that is still accepted into an empty inbox). 0
	// means 32 MiB.
	InboxBytes int
	// MaxMessageSize is the default ChannelSpec.MaxMessageBytes of the
	// Reliable channels. 0 means 16 MiB.
	MaxMessageSize int
	// PeerMemory is the memory budget of one remote peer: the bytes this
	// mesh holds for it across all its application channels (buffers of
	// its unfinished chunked messages plus its messages queued in the
	// inboxes, counted by allocated size). A Reliable channel that needs
	// more stops reading the peer (back-pressure: SCTP's window fills and
	// the sender's Send fails with ErrSlowConsumer) while the game can
	// make room by taking the peer's queued messages; if only unfinished
	// chunked messages fill it, the message that needs more is dropped
	// (ChannelStats.DroppedBudget). An Unreliable message that does not
	// fit is dropped (DroppedInbox). Each is counted in
	// PeerStats.OverBudget; other peers are unaffected. pion's SCTP stack
	// holds up to another 1 MiB per peer. It must be at least 64 KiB above
	// the largest MaxMessageBytes of a Reliable channel (a chunked message
	// is received in a 64 KiB buffer, then in one of its full size). 0
	// means 8 MiB plus that largest size (24 MiB with the defaults).
	PeerMemory int
	// ChunkTimeout drops an unfinished chunked message (and frees its
	// memory) when no chunk of it arrived for that long, not counting time
	// in which the peer's data waited for the game to take messages;
	// counted in ChannelStats.ChunkTimeouts. 0 means 10 s.
	ChunkTimeout time.Duration
	// MaxReliableBuffered is how many bytes a Reliable channel may have
	// queued in SCTP towards one peer before Send fails with
	// ErrSlowConsumer. 0 means 16 MiB.
	MaxReliableBuffered int
	// MaxUnreliableBuffered is how many bytes an Unreliable channel may
	// have queued in SCTP towards one peer before Send drops new messages
	// (counted in Stats as DroppedStale): stale game datagrams are worth
	// less than fresh ones. 0 means 32 KiB.
	MaxUnreliableBuffered int

	// ICEDisconnectedTimeout, ICEFailedTimeout and ICEKeepalive tune
	// pion's ICE agent. 0 means 2 s, 5 s and 500 ms (pion's defaults are
	// 5 s, 25 s, 2 s: slow for games). Native builds only: a page cannot
	// tune the browser's ICE agent, so in browsers its own consent checks
	// and timers decide when a link is disconnected or failed (slower
	// than these defaults); PeerTimeout and ICERestarts, which netcode
	// runs itself, still bound how long a lost peer is kept.
	ICEDisconnectedTimeout, ICEFailedTimeout, ICEKeepalive time.Duration
	// SCTPRTOMax caps SCTP's retransmission timeout, which otherwise
	// never goes below 1 s. 0 means 200 ms. Native builds only: in
	// browsers the browser's SCTP stack keeps its own retransmission
	// timeouts, so a lost message on a Reliable channel may wait longer
	// (Unreliable channels, which never retransmit, are unaffected).
	SCTPRTOMax time.Duration
	// ConnectTimeout bounds the time from the first offer to a finished
	// handshake; a peer that takes longer fails (and is retried while it
	// stays in the room). 0 means 15 s.
	ConnectTimeout time.Duration
	// PeerTimeout is how long a connected peer may stay disconnected
	// (while ICE restarts are tried) before it is dropped with
	// EventFailed. 0 means 15 s.
	PeerTimeout time.Duration
	// ICERestarts is how many ICE restarts the offering side tries per
	// disconnection. 0 means 3; negative means none.
	ICERestarts int
	// UpgradeProbes is how many quick ICE restarts the offering side
	// makes while a link runs through a TURN relay, to find a direct path
	// that did not work at first or appeared later (the link moves to it
	// with its data channels; see "Relay to direct" in the package doc):
	// the first after 1 s relayed, each next one twice as long after the
	// one before (1, 2, 4, 8, 16 s), capped at UpgradeInterval; after
	// them, one every UpgradeInterval. Each costs a short pause of the
	// link (measured in netlab TestRelayUpgrade). Probes are made only
	// when both sides offered a direct (non-relay) candidate, so never
	// with RelayOnly on either side. 0 means 5; negative means no probe
	// at all. In browsers the offering side sees the pair only where
	// RTCIceTransport.getSelectedCandidatePair exists (Chromium;
	// elsewhere it never probes); browsertest does not cover the probes.
	UpgradeProbes int
	// UpgradeInterval is the time between the relay->direct probes that
	// follow the UpgradeProbes quick ones, for as long as the link stays
	// relayed (a player's network that changes mid-match: a router
	// reboot, a VPN dropped, a firewall rule lifted), and the cap of the
	// quick ones' doubling. A peer thus costs at most UpgradeProbes +
	// t/UpgradeInterval ICE restarts over t seconds of a relayed link,
	// whatever it offers. 0 means 60 s; below 1 s counts as 1 s;
	// negative means none after the quick probes (the link then stays
	// relayed until it is lost).
	UpgradeInterval time.Duration
	// PingInterval is the period of the RTT probes on the ping channel.
	// 0 means 500 ms.
	PingInterval time.Duration
	// EventQueueLen bounds the queue PollEvents drains. When it is full
	// the oldest event is dropped (and counted in Stats). 0 means 1024.
	EventQueueLen int

	// dial replaces signaling for in-package tests.
	dial dialFunc
	// testHello rewrites the Hello frame (in-package hostile-peer tests).
	testHello func([]byte) []byte
	// testClaim is the mesh ID put into signals instead of the real one
	// (red-team tests: a peer claiming another's ID).
	testClaim transport.PeerID
}

func (c *Config) setDefaults() {
	c.InboxLen = cmp.Or(c.InboxLen, 1024)
	c.InboxBytes = cmp.Or(c.InboxBytes, 32<<20)
	c.MaxMessageSize = cmp.Or(c.MaxMessageSize, 16<<20)
	largest := 0
	for i := range c.Channels {
		ch := &c.Channels[i]
		if ch.MaxMessageBytes == 0 {
			ch.MaxMessageBytes = c.MaxMessageSize
			if ch.Reliability == transport.Unreliable {
				ch.MaxMessageBytes = MaxUnreliableSize
			}
		}
		if ch.Reliability == transport.Reliable {
			largest = max(largest, ch.MaxMessageBytes)
		}
	}
	c.PeerMemory = cmp.Or(c.PeerMemory, 8<<20+largest)
	c.ChunkTimeout = cmp.Or(c.ChunkTimeout, 10*time.Second)
	c.MaxReliableBuffered = cmp.Or(c.MaxReliableBuffered, 16<<20)
	c.MaxUnreliableBuffered = cmp.Or(c.MaxUnreliableBuffered, 32<<10)
	c.EventQueueLen = cmp.Or(c.EventQueueLen, 1024)
	c.ICERestarts = cmp.Or(c.ICERestarts, 3)
	c.UpgradeProbes = cmp.Or(c.UpgradeProbes, 5)
	c.UpgradeInterval = cmp.Or(c.UpgradeInterval, time.Minute)
	c.ICEDisconnectedTimeout = cmp.Or(c.ICEDisconnectedTimeout, 2*time.Second)
	c.ICEFailedTimeout = cmp.Or(c.ICEFailedTimeout, 5*time.Second)
	c.ICEKeepalive = cmp.Or(c.ICEKeepalive, 500*time.Millisecond)
	c.SCTPRTOMax = cmp.Or(c.SCTPRTOMax, 200*time.Millisecond)
	c.ConnectTimeout = cmp.Or(c.ConnectTimeout, 15*time.Second)
	c.PeerTimeout = cmp.Or(c.PeerTimeout, 15*time.Second)
	c.PingInterval = cmp.Or(c.PingInterval, 500*time.Millisecond)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// validate checks a Config whose defaults are set; the error wraps
// ErrInvalidConfig.
func (c *Config) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, a...))
	}
	if c.dial == nil {
		u, err := url.Parse(c.SignalURL)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss" && u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("SignalURL %q is not a ws:// or wss:// URL", c.SignalURL)
		}
	}
	if c.Room == "" {
		return bad("Room is empty")
	}
	if len(c.Channels) == 0 || len(c.Channels) > MaxChannels {
		return bad("%d channels, want 1 to %d", len(c.Channels), MaxChannels)
	}
	seen := make(map[string]bool)
	for i, ch := range c.Channels {
		if ch.Label == "" || len(ch.Label) > wire.MaxString {
			return bad("channel %d: label must be 1 to %d bytes", i, wire.MaxString)
		}
		if seen[ch.Label] {
			return bad("channel label %q appears twice", ch.Label)
		}
		seen[ch.Label] = true
		if !ch.Reliability.Valid() {
			return bad("channel %q: reliability %v", ch.Label, ch.Reliability)
		}
		switch {
		case ch.MaxMessageBytes < 0 || ch.MaxMessageBytes > math.MaxInt32:
			return bad("channel %q: MaxMessageBytes %d", ch.Label, ch.MaxMessageBytes)
		case ch.Reliability == transport.Unreliable && ch.MaxMessageBytes > MaxUnreliableSize:
			return bad("channel %q: MaxMessageBytes %d above MaxUnreliableSize", ch.Label, ch.MaxMessageBytes)
		case ch.Reliability == transport.Reliable && ch.MaxMessageBytes > c.PeerMemory-wire.FirstCap:
			return bad("channel %q: MaxMessageBytes %d needs a PeerMemory of at least %d (it is %d)",
				ch.Label, ch.MaxMessageBytes, ch.MaxMessageBytes+wire.FirstCap, c.PeerMemory)
		}
	}
	if c.RelayOnly && c.ICEServers != nil && !hasTURN(c.ICEServers) {
		return bad("RelayOnly needs a TURN server (a turn: or turns: URL) in ICEServers")
	}
	if len(c.GameID) > wire.MaxString || len(c.Build) > wire.MaxString || len(c.Name) > wire.MaxString {
		return bad("GameID, Build and Name must be at most %d bytes", wire.MaxString)
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"InboxLen", c.InboxLen}, {"InboxBytes", c.InboxBytes}, {"MaxMessageSize", c.MaxMessageSize},
		{"MaxReliableBuffered", c.MaxReliableBuffered}, {"MaxUnreliableBuffered", c.MaxUnreliableBuffered},
		{"EventQueueLen", c.EventQueueLen}, {"PeerMemory", c.PeerMemory}} {
		if v.n < 0 {
			return bad("%s is negative", v.name)
		}
	}
	for _, v := range []struct {
		name string
		d    time.Duration
	}{{"ICEDisconnectedTimeout", c.ICEDisconnectedTimeout}, {"ICEFailedTimeout", c.ICEFailedTimeout},
		{"ICEKeepalive", c.ICEKeepalive}, {"SCTPRTOMax", c.SCTPRTOMax}, {"ConnectTimeout", c.ConnectTimeout},
		{"PeerTimeout", c.PeerTimeout}, {"PingInterval", c.PingInterval}, {"ChunkTimeout", c.ChunkTimeout}} {
		if v.d < 0 {
			return bad("%s is negative", v.name)
		}
	}
	return nil
}

// copyConfig returns a deep copy of c's slices, so the caller may reuse c.
func copyConfig(c Config) Config {
	c.Channels = append([]ChannelSpec(nil), c.Channels...)
	if c.ICEServers != nil {
		servers := make([]ICEServer, len(c.ICEServers))
		for i, s := range c.ICEServers {
			s.URLs = append([]string(nil), s.URLs...)
			servers[i] = s
		}
		c.ICEServers = servers
	}
	return c
}

// hasTURN reports whether servers name a TURN server.
func hasTURN(servers []ICEServer) bool {
	for _, s := range servers {
		for _, u := range s.URLs {
			u = strings.ToLower(u)
			if strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:") {
				return true
			}
		}
	}
	return false
}
