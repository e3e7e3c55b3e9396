package netcode

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/netcode/transport"
)

// LinkType says how the selected ICE candidate pair reaches a peer.
type LinkType int

// Link types, from most to least direct. A pair's type is the less
// direct of its two candidates' types (relay > srflx > prflx > host).
const (
	LinkUnknown LinkType = iota // no pair selected yet
	LinkHost                    // both candidates are host addresses (same LAN or loopback)
	LinkPrflx                   // direct through NAT; an address learned from connectivity checks (hole punching)
	LinkSrflx                   // direct through NAT; an address learned from STUN
	LinkRelay                   // through a TURN server
)

// String returns "host", "srflx", "prflx", "relay" or "unknown".
func (t LinkType) String() string {
	switch t {
	case LinkHost:
		return "host"
	case LinkSrflx:
		return "srflx"
	case LinkPrflx:
		return "prflx"
	case LinkRelay:
		return "relay"
	case LinkUnknown:
		return "unknown"
	default:
		return fmt.Sprintf("unknown(%d)", int(t))
	}
}

// Class says whether the link is direct or relayed.
func (t LinkType) Class() LinkClass {
	switch t {
	case LinkHost, LinkPrflx, LinkSrflx:
		return LinkDirect
	case LinkRelay:
		return LinkRelayed
	default:
		return LinkClassUnknown
	}
}

// LinkClass is what an application shows of a link without knowing ICE:
// packets go straight between the two peers (through their NATs, if
// any), or through a TURN server, which costs latency and the server's
// bandwidth.
type LinkClass int

// Link classes.
const (
	LinkClassUnknown LinkClass = iota // no pair selected yet
	LinkDirect                        // host, srflx or prflx: peer to peer
	LinkRelayed                       // relay: through a TURN server
)

// String returns "direct", "relayed" or "unknown".
func (c LinkClass) String() string {
	switch c {
	case LinkDirect:
		return "direct"
	case LinkRelayed:
		return "relayed"
	case LinkClassUnknown:
		return "unknown"
	default:
		return fmt.Sprintf("unknown(%d)", int(c))
	}
}

func linkTypeOf(t webrtc.ICECandidateType) LinkType {
	switch t {
	case webrtc.ICECandidateTypeHost:
		return LinkHost
	case webrtc.ICECandidateTypeSrflx:
		return LinkSrflx
	case webrtc.ICECandidateTypePrflx:
		return LinkPrflx
	case webrtc.ICECandidateTypeRelay:
		return LinkRelay
	default:
		return LinkUnknown
	}
}

// Stats is a snapshot of the mesh.
type Stats struct {
	Local transport.PeerID
	// Signaling is true while the signaling server is reachable.
	Signaling bool
	// EventsDropped counts events dropped because nobody polled.
	EventsDropped uint64
	// Impersonations counts links refused because the remote's DTLS
	// certificate did not prove the ID it claimed (each also reported as
	// EventRefused with an *IdentityError).
	Impersonations uint64
	// Peers lists every peer with a PeerConnection, sorted by ID.
	Peers []PeerStats
}

// Peer returns the stats of one peer.
func (s Stats) Peer(id transport.PeerID) (PeerStats, bool) {
	for _, p := range s.Peers {
		if p.Peer == id {
			return p, true
		}
	}
	return PeerStats{}, false
}

// PeerStats describes the link to one peer.
type PeerStats struct {
	Peer transport.PeerID
	// Name is the peer's Config.Name, from its handshake.
	Name string
	// Connected is true once the handshake is done and while the peer is
	// in Peers.
	Connected bool
	// State is pion's connection state ("connected", "disconnected", ...).
	State string
	// Link is the type of the selected candidate pair; LocalCandidate and
	// RemoteCandidate are its two ends' types. Link.Class(), Direct and
	// Relayed say what matters to a player: direct or through a relay
	// (a direct link through NATs may be srflx or prflx; see "Stats" in
	// the package doc).
	Link                            LinkType
	LocalCandidate, RemoteCandidate LinkType
	// RelayProtocol is how this end reaches its TURN server when
	// LocalCandidate is LinkRelay: "udp", "tcp" or "tls" (TURN over TCP
	// or TLS: a network that blocks UDP, where every packet also waits
	// for the TCP stream's retransmissions, so latency is higher and
	// spikier). "" when this end is not relayed, or in the browser build.
	// The remote end's transport to its TURN server is not known here
	// (ICE candidates do not carry it). Describe puts it in words.
	RelayProtocol string
	// RTT is the median round trip of the last pings on the ping channel
	// (an unreliable data channel), and RTTJitter the mean absolute
	// difference between consecutive samples. RTTSamples counts them.
	RTT, RTTJitter time.Duration
	RTTSamples     int
	// ICERTT is the selected pair's STUN round trip. In browsers it and
	// the counters below come from getStats() (currentRoundTripTime,
	// packetsSent, ...), refreshed at most every 500 ms, so they lag by
	// up to that and read zero until the browser first answered.
	ICERTT time.Duration
	// PacketsSent ... BytesReceived count UDP packets and bytes on the
	// selected ICE candidate pair.
	PacketsSent, PacketsReceived uint64
	BytesSent, BytesReceived     uint64
	// ICERestarts counts ICE restarts made with this peer after it was
	// lost (EventDisconnected).
	ICERestarts int
	// UpgradeProbes counts ICE restarts made with this peer while its
	// link was relayed, to find a direct path (Config.UpgradeProbes).
	UpgradeProbes int
	// Memory is what this mesh holds for the peer now (its budget's use:
	// unfinished chunked messages plus queued inbox messages), out of
	// Config.PeerMemory. OverBudget counts the times the peer hit that
	// budget (a Reliable channel stopped reading it until the game took
	// messages, or a message was dropped: ChannelStats.DroppedBudget and
	// DroppedInbox).
	Memory     int64
	OverBudget uint64
	// Channels has one entry per Config.Channels entry, same order.
	Channels []ChannelStats
	// Control counts the mesh's own control and ping traffic.
	Control ChannelStats
}

// Direct reports whether packets to the peer go straight to it, without
// a TURN relay (Link is host, srflx or prflx).
func (p PeerStats) Direct() bool { return p.Link.Class() == LinkDirect }

// Relayed reports whether packets to the peer go through a TURN server
// (Link is relay).
func (p PeerStats) Relayed() bool { return p.Link.Class() == LinkRelayed }

// Describe says how packets reach the peer, for a player: "direct",
// "relayed", "relayed over TCP" or "relayed over TLS" (this end reaches
// its TURN server over TCP or TLS, e.g. behind a firewall that blocks
// UDP; expect a higher ping), or "connecting" while no pair is selected.
func (p PeerStats) Describe() string {
	switch p.Link.Class() {
	case LinkDirect:
		return "direct"
	case LinkRelayed:
		switch p.RelayProtocol {
		case "tcp":
			return "relayed over TCP"
		case "tls":
			return "relayed over TLS"
		}
		return "relayed"
	}
	return "connecting"
}

// Dropped sums every channel's drops.
func (p PeerStats) Dropped() uint64 {
	var n uint64
	for _, c := range append(slices.Clip(p.Channels), p.Control) {
		n += c.DroppedInbox + c.DroppedStale + c.Malformed + c.TooLarge + c.ChunkTimeouts + c.DroppedBudget
	}
	return n
}

// ChannelStats counts one channel's traffic with one peer. Messages and
// bytes are application messages (a chunked message counts once).
type ChannelStats struct {
	Label                          string
	MessagesSent, MessagesReceived uint64
	BytesSent, BytesReceived       uint64
	// DroppedInbox counts Unreliable messages dropped because the inbox
	// or the peer's memory budget was full.
	DroppedInbox uint64
	// DroppedStale counts Unreliable sends dropped because SCTP already
	// held MaxUnreliableBuffered bytes for the peer.
	DroppedStale uint64
	// Malformed counts received messages that broke the framing
	// (dropped).
	Malformed uint64
	// TooLarge counts received messages above the channel's
	// MaxMessageBytes (dropped unread: a chunked one is skipped, never
	// reassembled).
	TooLarge uint64
	// ChunkTimeouts counts unfinished chunked messages dropped after
	// Config.ChunkTimeout without a chunk.
	ChunkTimeouts uint64
	// DroppedBudget counts Reliable messages dropped because the peer's
	// memory budget (Config.PeerMemory) was full of its unfinished chunked
	// messages, with nothing queued that the game could take.
	DroppedBudget uint64
}

type transportCounters struct {
	PacketsSent, PacketsReceived uint64
	BytesSent, BytesReceived     uint64
	ICERTT                       time.Duration
}

// rttWindow keeps the last rttWindowLen RTT samples of one peer.
type rttWindow struct {
	mu      sync.Mutex // guards following
	samples [rttWindowLen]time.Duration
	n, next int
}

const rttWindowLen = 32

func (w *rttWindow) add(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.samples[w.next] = d
	w.next = (w.next + 1) % rttWindowLen
	w.n = min(w.n+1, rttWindowLen)
}

// summary returns the median and the mean absolute difference of
// consecutive samples, oldest first.
func (w *rttWindow) summary() (median, jitter time.Duration, n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == 0 {
		return 0, 0, 0
	}
	ordered := make([]time.Duration, 0, w.n)
	for i := range w.n {
		ordered = append(ordered, w.samples[(w.next-w.n+i+rttWindowLen)%rttWindowLen])
	}
	var sum time.Duration
	for i := 1; i < len(ordered); i++ {
		d := ordered[i] - ordered[i-1]
		sum += max(d, -d)
	}
	if len(ordered) > 1 {
		jitter = sum / time.Duration(len(ordered)-1)
	}
	slices.Sort(ordered)
	median = ordered[len(ordered)/2]
	if len(ordered)%2 == 0 {
		median = (ordered[len(ordered)/2-1] + ordered[len(ordered)/2]) / 2
	}
	return median, jitter, w.n
}

// Stats returns a snapshot of every peer's link.
func (m *Mesh) Stats() Stats {
	m.mu.RLock()
	s := Stats{Local: m.local, Signaling: m.sigUpShared, EventsDropped: m.eventsDropped, Impersonations: m.impersonations}
	type entry struct {
		id        transport.PeerID // read under mu: the loop may rekey a peer
		p         *peer
		connected bool
	}
	peers := make([]entry, 0, len(m.peers))
	for id, p := range m.peers {
		peers = append(peers, entry{id, p, m.connected[id] == p})
	}
	m.mu.RUnlock()
	slices.SortFunc(peers, func(a, b entry) int { return cmp.Compare(a.id, b.id) })
	for _, e := range peers {
		p := e.p
		ps := PeerStats{Peer: e.id, Connected: e.connected, State: p.pc.ConnectionState().String()}
		p.mu.Lock()
		ps.Name, ps.ICERestarts, ps.UpgradeProbes = p.name, p.iceRestarts, p.upgradeProbes
		p.mu.Unlock()
		ps.Memory, ps.OverBudget = p.budget.held(), p.budget.over.Load()
		ps.RTT, ps.RTTJitter, ps.RTTSamples = p.rtt.summary()
		ps.LocalCandidate, ps.RemoteCandidate = selectedPair(p.pc)
		ps.Link = max(ps.LocalCandidate, ps.RemoteCandidate)
		if ps.LocalCandidate == LinkRelay {
			ps.RelayProtocol = relayProtocol(p.pc)
		}
		ts := transportStats(p.pc)
		ps.PacketsSent, ps.PacketsReceived = ts.PacketsSent, ts.PacketsReceived
		ps.BytesSent, ps.BytesReceived, ps.ICERTT = ts.BytesSent, ts.BytesReceived, ts.ICERTT
		for i, l := range p.links {
			ps.Channels = append(ps.Channels, l.stats(m.cfg.Channels[i].Label))
		}
		ctl, png := p.ctrl.stats(controlLabel), p.ping.stats(pingLabel)
		ps.Control = ChannelStats{Label: "control",
			MessagesSent: ctl.MessagesSent + png.MessagesSent, MessagesReceived: ctl.MessagesReceived + png.MessagesReceived,
			BytesSent: ctl.BytesSent + png.BytesSent, BytesReceived: ctl.BytesReceived + png.BytesReceived,
			Malformed: ctl.Malformed + png.Malformed}
		s.Peers = append(s.Peers, ps)
	}
	return s
}

func selectedPair(pc *webrtc.PeerConnection) (local, remote LinkType) {
	sctp := pc.SCTP()
	if sctp == nil {
		return
	}
	dtls := sctp.Transport()
	if dtls == nil || dtls.ICETransport() == nil {
		return
	}
	pair, err := dtls.ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local == nil || pair.Remote == nil {
		return
	}
	return linkTypeOf(pair.Local.Typ), linkTypeOf(pair.Remote.Typ)
}
