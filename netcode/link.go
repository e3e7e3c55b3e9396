package netcode

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/netcode/internal/wire"
	"github.com/peerplay/peerplay/netcode/transport"
)

// Data channel IDs: the mesh's own two channels come first, then the
// application's in Config.Channels order.
const (
	controlChannelID   = 0 // reliable ordered: handshake, refusal, bye
	pingChannelID      = 1 // unordered, maxRetransmits 0: RTT probes
	firstUserChannelID = 2
)

const (
	controlLabel = "peerplay/control"
	pingLabel    = "peerplay/ping"
)

type linkKind int

const (
	linkUser linkKind = iota
	linkControl
	linkPing
)

// link is one data channel to one peer.
type link struct {
	p    *peer
	kind linkKind
	ch   *channel // linkUser only
	rel  transport.Reliability
	dc   *webrtc.DataChannel
	// pipe is set by the mesh loop when the channel opens, before the peer
	// is published as connected (which is what lets Send see the link).
	pipe *pipe

	wmu     sync.Mutex // serializes chunked writes; guards scratch
	scratch []byte

	msgsOut, bytesOut, msgsIn, bytesIn    atomic.Uint64
	droppedInbox, droppedStale, malformed atomic.Uint64
}

func ptr[T any](v T) *T { return &v }

// dataChannelInit returns the pre-negotiated settings of a channel.
func dataChannelInit(id uint16, rel transport.Reliability) *webrtc.DataChannelInit {
	init := &webrtc.DataChannelInit{Negotiated: ptr(true), ID: ptr(id)}
	if rel == transport.Unreliable {
		init.Ordered = ptr(false)
		init.MaxRetransmits = ptr(uint16(0))
	}
	return init
}

// send writes one application message. It never blocks for long: SCTP
// queues without bound, which is why the buffered amount is checked first.
func (l *link) send(p []byte) error {
	m := l.p.m
	switch l.rel {
	case transport.Unreliable:
		if l.pipe.buffered() > uint64(m.cfg.MaxUnreliableBuffered) {
			l.droppedStale.Add(1)
			return nil
		}
		if err := l.pipe.write(p); err != nil {
			return fmt.Errorf("%w: %s: %v", transport.ErrUnknownPeer, l.p.id, err)
		}
	default:
		l.wmu.Lock()
		defer l.wmu.Unlock()
		if b := l.pipe.buffered(); b > 0 && b+uint64(len(p)) > uint64(m.cfg.MaxReliableBuffered) {
			return fmt.Errorf("%w: %d bytes queued to %s", transport.ErrSlowConsumer, b, l.p.id)
		}
		var err error
		l.scratch, err = wire.Chunks(l.scratch, p, l.pipe.write)
		if cap(l.scratch) > 2*wire.ChunkSize {
			l.scratch = nil
		}
		if err != nil {
			return fmt.Errorf("%w: %s: %v", transport.ErrUnknownPeer, l.p.id, err)
		}
	}
	l.msgsOut.Add(1)
	l.bytesOut.Add(uint64(len(p)))
	return nil
}

// writeControl writes one frame on the control or ping channel.
func (l *link) writeControl(frame []byte) error {
	if l.pipe == nil {
		return errors.New("netcode: channel not open")
	}
	err := l.pipe.write(frame)
	if err == nil {
		l.msgsOut.Add(1)
		l.bytesOut.Add(uint64(len(frame)))
	}
	return err
}

// readLoop runs in its own goroutine until the data channel closes (or,
// for a Reliable channel, the peer goes away while the loop waits for
// inbox room).
func (l *link) readLoop() {
	buf := make([]byte, wire.ChunkSize)
	st := readState{ra: wire.Reassembler{Max: l.p.m.cfg.MaxMessageSize}}
	for {
		msg, err := l.pipe.read(buf)
		if err != nil {
			if errors.Is(err, errMessageTooBig) || errors.Is(err, errPipeOverflow) {
				// The message cannot be skipped (or the browser gave us
				// more than we can hold): this channel is stuck.
				l.malformed.Add(1)
				p := l.p
				p.m.post(func() { p.m.fail(p, err) })
			}
			return
		}
		if !l.handle(msg, &st) {
			return
		}
	}
}

// readState is a read loop's own state.
type readState struct {
	ra               wire.Reassembler // reliable application channels
	sawHello, sawBad bool             // control channel
}

// handle processes one received message; false stops the read loop.
func (l *link) handle(msg []byte, st *readState) bool {
	p := l.p
	switch l.kind {
	case linkControl:
		// Only what the mesh loop must act on is posted to it (the first
		// Hello, the first bad frame before it, Refuse, Bye), so a peer
		// flooding the control channel cannot grow the loop's queue.
		c, err := wire.DecodeControl(msg)
		switch {
		case err != nil || c.Kind == wire.KindHello && st.sawHello ||
			!st.sawHello && (c.Kind == wire.KindPing || c.Kind == wire.KindPong):
			if err == nil {
				err = fmt.Errorf("%w: %v frame before the hello", wire.ErrMalformed, c.Kind)
			}
			l.malformed.Add(1)
			if st.sawHello || st.sawBad {
				return true
			}
			st.sawBad = true
		case c.Kind == wire.KindHello:
			st.sawHello = true
		case c.Kind != wire.KindRefuse && c.Kind != wire.KindBye:
			l.malformed.Add(1)
			return true
		}
		if err == nil {
			l.msgsIn.Add(1)
			l.bytesIn.Add(uint64(len(msg)))
		}
		p.m.post(func() { p.m.onControl(p, c, err) })
		return err == nil && (c.Kind == wire.KindHello)
	case linkPing:
		c, err := wire.DecodeControl(msg)
		if err != nil || (c.Kind != wire.KindPing && c.Kind != wire.KindPong) {
			l.malformed.Add(1)
			return true
		}
		l.msgsIn.Add(1)
		l.bytesIn.Add(uint64(len(msg)))
		if c.Kind == wire.KindPing {
			_ = l.writeControl(wire.AppendPong(buf8(), c.Seq, c.Time))
			return true
		}
		rtt := p.m.clock() - time.Duration(c.Time)
		if rtt > 0 && rtt < time.Minute { // a forged or stale pong is ignored
			p.rtt.add(rtt)
		}
		return true
	}
	// An application channel.
	if l.rel == transport.Unreliable {
		if len(msg) > MaxUnreliableSize {
			l.malformed.Add(1)
			return true
		}
		l.msgsIn.Add(1)
		l.bytesIn.Add(uint64(len(msg)))
		if !l.ch.offer(p.id, append([]byte(nil), msg...)) {
			l.droppedInbox.Add(1)
		}
		return true
	}
	data, done, err := st.ra.Feed(msg)
	switch {
	case err != nil:
		l.malformed.Add(1)
		return true
	case !done:
		return true
	}
	l.msgsIn.Add(1)
	l.bytesIn.Add(uint64(len(data)))
	return l.ch.put(p.id, data, p.done)
}

func buf8() []byte { return make([]byte, 0, 16) }

func (l *link) stats(label string) ChannelStats {
	return ChannelStats{
		Label:        label,
		MessagesSent: l.msgsOut.Load(), MessagesReceived: l.msgsIn.Load(),
		BytesSent: l.bytesOut.Load(), BytesReceived: l.bytesIn.Load(),
		DroppedInbox: l.droppedInbox.Load(), DroppedStale: l.droppedStale.Load(),
		Malformed: l.malformed.Load(),
	}
}
