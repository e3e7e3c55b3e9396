package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/pion/datachannel"
	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
)

// PionConfig chooses the data channel of a PionPair.
type PionConfig struct {
	// Reliable selects a reliable ordered channel; the zero value is the
	// lockstep channel: unordered, maxRetransmits 0.
	Reliable bool
	// Count wraps each peer's UDP sockets to count what goes on the wire
	// (PionPair.WireA, WireB). It costs a few atomic adds per packet and
	// turns off ICE's allocation-free address path, so latency rungs leave
	// it off.
	Count bool
}

// PionPair is two pion PeerConnections in one process, connected over
// loopback UDP4 only (IP filter, mDNS off), each holding one negotiated,
// detached data channel with ID 1. It is the "raw pion" rung every
// comparison is divided by.
type PionPair struct {
	A, B     *webrtc.PeerConnection
	ChA, ChB datachannel.ReadWriteCloserDeadliner
	// WireA and WireB count the UDP datagrams each side sent (nil unless
	// PionConfig.Count).
	WireA, WireB *WireCounter
}

// NewPionPair connects a pair; it gives up when ctx is done.
func NewPionPair(ctx context.Context, cfg PionConfig) (*PionPair, error) {
	p := &PionPair{}
	var err error
	if cfg.Count {
		p.WireA, p.WireB = &WireCounter{}, &WireCounter{}
	}
	if p.A, err = newLoopbackPC(p.WireA); err != nil {
		return nil, err
	}
	if p.B, err = newLoopbackPC(p.WireB); err != nil {
		_ = p.A.Close()
		return nil, err
	}
	init := &webrtc.DataChannelInit{Negotiated: ptr(true), ID: ptr(uint16(1))}
	if !cfg.Reliable {
		init.Ordered, init.MaxRetransmits = ptr(false), ptr(uint16(0))
	}
	openA, errA := openDetached(p.A, "bench", init)
	openB, errB := openDetached(p.B, "bench", init)
	if err := errors.Join(errA, errB); err != nil {
		p.Close()
		return nil, err
	}
	if err := Connect(ctx, p.A, p.B); err != nil {
		p.Close()
		return nil, err
	}
	for _, w := range []struct {
		ch  <-chan datachannel.ReadWriteCloserDeadliner
		dst *datachannel.ReadWriteCloserDeadliner
	}{{openA, &p.ChA}, {openB, &p.ChB}} {
		select {
		case c := <-w.ch:
			if c == nil {
				p.Close()
				return nil, errors.New("bench: detach failed")
			}
			*w.dst = c
		case <-ctx.Done():
			p.Close()
			return nil, fmt.Errorf("bench: data channel open: %w", ctx.Err())
		}
	}
	return p, nil
}

// Close closes both PeerConnections and waits for pion's goroutines.
func (p *PionPair) Close() {
	for _, c := range []datachannel.ReadWriteCloserDeadliner{p.ChA, p.ChB} {
		if c != nil {
			_ = c.Close()
		}
	}
	for _, pc := range []*webrtc.PeerConnection{p.A, p.B} {
		if pc != nil {
			_ = pc.GracefulClose()
		}
	}
}

func ptr[T any](v T) *T { return &v }

// LoopbackAPI returns a webrtc.API restricted to loopback UDP4 with mDNS
// off and detached data channels. If wire is not nil, every UDP datagram
// sent is counted in it.
func LoopbackAPI(wire *WireCounter) (*webrtc.API, error) {
	var se webrtc.SettingEngine
	se.DetachDataChannels()
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	se.LoggerFactory = lf
	if wire != nil {
		n, err := countingNetFor(wire)
		if err != nil {
			return nil, err
		}
		se.SetNet(n)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se)), nil
}

func newLoopbackPC(wire *WireCounter) (*webrtc.PeerConnection, error) {
	api, err := LoopbackAPI(wire)
	if err != nil {
		return nil, err
	}
	return api.NewPeerConnection(webrtc.Configuration{})
}

// openDetached creates a negotiated channel and returns where its detached
// form will arrive once open (nil on a detach error).
func openDetached(pc *webrtc.PeerConnection, label string, init *webrtc.DataChannelInit) (<-chan datachannel.ReadWriteCloserDeadliner, error) {
	dc, err := pc.CreateDataChannel(label, init)
	if err != nil {
		return nil, err
	}
	ch := make(chan datachannel.ReadWriteCloserDeadliner, 1)
	dc.OnOpen(func() {
		raw, err := dc.DetachWithDeadline()
		if err != nil {
			raw = nil
		}
		ch <- raw
	})
	return ch, nil
}

// Connect runs a non-trickle offer/answer between a (offerer) and b.
func Connect(ctx context.Context, a, b *webrtc.PeerConnection) error {
	offer, err := a.CreateOffer(nil)
	if err != nil {
		return err
	}
	gatherA := webrtc.GatheringCompletePromise(a)
	if err := a.SetLocalDescription(offer); err != nil {
		return err
	}
	if err := waitDone(ctx, gatherA); err != nil {
		return err
	}
	if err := b.SetRemoteDescription(*a.LocalDescription()); err != nil {
		return err
	}
	answer, err := b.CreateAnswer(nil)
	if err != nil {
		return err
	}
	gatherB := webrtc.GatheringCompletePromise(b)
	if err := b.SetLocalDescription(answer); err != nil {
		return err
	}
	if err := waitDone(ctx, gatherB); err != nil {
		return err
	}
	return a.SetRemoteDescription(*b.LocalDescription())
}

func waitDone(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("bench: ICE gathering: %w", ctx.Err())
	}
}

// WireCounter counts UDP datagrams and their payload bytes (everything
// above the UDP header). Safe for concurrent use.
type WireCounter struct {
	packets, bytes atomic.Int64
	stun, sack     atomic.Int64
	kinds          [numWireKinds]struct{ packets, bytes atomic.Int64 }
}

// WireKind is what a sent UDP datagram was, told from its first byte and
// its size without decrypting it (RFC 7983 demultiplexing, then DTLS
// record sizes: see SACKWire).
type WireKind int

// The kinds of datagrams WireCounter tells apart.
const (
	// WireSTUN: ICE connectivity checks, keepalives and their answers.
	WireSTUN WireKind = iota
	// WireSACK: an SCTP packet of nothing but a SACK without gap blocks
	// (SACKWire bytes; a SACK with gap blocks counts as WireData, which
	// a loss-free link does not have), or of an I-FORWARD-TSN for one
	// stream, which has the same size.
	WireSACK
	// WireSmall: an SCTP packet too small for a DATA chunk with a
	// payload (a FORWARD-TSN, a HEARTBEAT ACK...).
	WireSmall
	// WireData: an SCTP packet big enough to carry DATA.
	WireData
	// WireOther: DTLS handshake and alerts, anything else.
	WireOther
	numWireKinds
)

// String names the kind.
func (k WireKind) String() string {
	return [...]string{"stun", "sack", "small", "data", "other"}[k]
}

// Kind returns the datagrams and UDP payload bytes of one kind counted
// so far.
func (w *WireCounter) Kind(k WireKind) (packets, bytes int64) {
	return w.kinds[k].packets.Load(), w.kinds[k].bytes.Load()
}

// Add counts one datagram of n bytes.
func (w *WireCounter) Add(n int) {
	w.packets.Add(1)
	w.bytes.Add(int64(n))
}

// SACKWire is the UDP payload of a DTLS 1.2 record (AES-128-GCM: 13
// bytes of header, 8 of explicit nonce, 16 of tag) holding an SCTP packet
// with nothing but a SACK without gap blocks (12-byte common header,
// 16-byte chunk): 65 bytes. No DATA-carrying packet has this size on a
// loss-free link (a DATA chunk is 16 bytes plus a payload padded to 4, so
// the smallest is 69), which is how the counter tells SACKs apart without
// decrypting.
const SACKWire = 13 + 8 + 16 + 12 + 16

// count counts the datagram b (n bytes of it sent): its size, and its
// kind when it is a STUN message (ICE checks and keepalives: first byte
// 0-3, RFC 7983) or an SCTP packet of a lone SACK (SACKWire bytes of DTLS
// application data).
func (w *WireCounter) count(b []byte, n int) {
	w.Add(n)
	k := WireOther
	switch {
	case n == 0:
	case b[0] < 4:
		w.stun.Add(1)
		k = WireSTUN
	case b[0] == 23 && n == SACKWire:
		w.sack.Add(1)
		k = WireSACK
	case b[0] == 23 && n < SACKWire:
		k = WireSmall
	case b[0] == 23:
		k = WireData
	}
	w.kinds[k].packets.Add(1)
	w.kinds[k].bytes.Add(int64(n))
}

// Kinds returns the STUN and lone-SACK datagrams counted so far.
func (w *WireCounter) Kinds() (stun, sack int64) {
	return w.stun.Load(), w.sack.Load()
}

// Load returns the datagrams and UDP payload bytes counted so far.
func (w *WireCounter) Load() (packets, bytes int64) {
	return w.packets.Load(), w.bytes.Load()
}

func countingNetFor(w *WireCounter) (transport.Net, error) {
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return &countingNet{Net: n, w: w}, nil
}

type countingNet struct {
	*stdnet.Net
	w *WireCounter
}

func (n *countingNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	return &countingUDPConn{UDPConn: c, w: n.w}, nil
}

func (n *countingNet) ListenPacket(network, address string) (net.PacketConn, error) {
	c, err := n.Net.ListenPacket(network, address)
	if err != nil {
		return nil, err
	}
	return &countingPacketConn{PacketConn: c, w: n.w}, nil
}

type countingUDPConn struct {
	transport.UDPConn
	w *WireCounter
}

func (c *countingUDPConn) count(b []byte, n int, err error) (int, error) {
	if err == nil {
		c.w.count(b, n)
	}
	return n, err
}

func (c *countingUDPConn) Write(b []byte) (int, error) {
	n, err := c.UDPConn.Write(b)
	return c.count(b, n, err)
}
func (c *countingUDPConn) WriteTo(b []byte, a net.Addr) (int, error) {
	n, err := c.UDPConn.WriteTo(b, a)
	return c.count(b, n, err)
}
func (c *countingUDPConn) WriteToUDP(b []byte, a *net.UDPAddr) (int, error) {
	n, err := c.UDPConn.WriteToUDP(b, a)
	return c.count(b, n, err)
}
func (c *countingUDPConn) WriteMsgUDP(b, oob []byte, a *net.UDPAddr) (int, int, error) {
	n, oobn, err := c.UDPConn.WriteMsgUDP(b, oob, a)
	if err == nil {
		c.w.count(b, n)
	}
	return n, oobn, err
}

type countingPacketConn struct {
	net.PacketConn
	w *WireCounter
}

func (c *countingPacketConn) WriteTo(b []byte, a net.Addr) (int, error) {
	n, err := c.PacketConn.WriteTo(b, a)
	if err == nil {
		c.w.count(b, n)
	}
	return n, err
}

// deadline is how long a measurement waits for one echo before it gives up.
const deadline = 2 * time.Second
