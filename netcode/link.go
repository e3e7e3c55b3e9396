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

	// Reassembly of a Reliable application channel: the read loop feeds
	// it, the mesh loop's tick may drop an unfinished message that timed
	// out (expire). rmu guards ra, held and lastChunk.
	rmu       sync.Mutex
	ra        wire.Reassembler
	held      int       // bytes charged to the peer's budget for ra
	lastChunk time.Time // when the read loop last fed ra

	msgsOut, bytesOut, msgsIn, bytesIn    atomic.Uint64
	droppedInbox, droppedStale, malformed atomic.Uint64
	tooLarge, chunkTimeouts, overBudget   atomic.Uint64
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
	var st readState
	if l.ch != nil {
		l.rmu.Lock()
		l.ra.Max = l.ch.spec.MaxMessageBytes
		l.rmu.Unlock()
	}
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
	sawHello, sawBad bool // control channel
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
		now := p.m.clock()
		rtt := now - time.Duration(c.Time)
		if rtt > 0 && rtt < time.Minute { // a forged or stale pong is ignored
			p.rtt.add(rtt)
			p.lastPong.Store(int64(now))
		}
		return true
	}
	// An application channel.
	if l.rel == transport.Unreliable {
		if len(msg) > l.ch.spec.MaxMessageBytes {
			l.tooLarge.Add(1)
			return true
		}
		l.msgsIn.Add(1)
		l.bytesIn.Add(uint64(len(msg)))
		if !l.ch.offer(p.id, append([]byte(nil), msg...), p.budget) {
			l.droppedInbox.Add(1)
		}
		return true
	}
	return l.handleReliable(msg)
}

// handleReliable feeds one chunk frame of a Reliable application channel
// to the reassembler, charging what it allocates to the peer's budget
// first (waiting for room: back-pressure), and queues a finished message
// with its charge. It returns false when the peer went away.
func (l *link) handleReliable(msg []byte) bool {
	p := l.p
	l.rmu.Lock()
	need := l.ra.Need(msg)
	l.rmu.Unlock()
	if need > 0 && !p.budget.take(need, p.done) {
		select {
		case <-p.done:
			return false
		default:
		}
		// Over budget with nothing the game could free: drop this
		// message (the rest of its frames are skipped).
		l.rmu.Lock()
		l.ra.Skip(msg)
		freed := l.held
		l.held = 0
		l.rmu.Unlock()
		p.budget.release(freed)
		l.overBudget.Add(1)
		return true
	}
	l.rmu.Lock()
	data, done, err := l.ra.Feed(msg)
	charge := 0
	if done {
		charge = cap(data)
	}
	// What Feed did not keep (an error, an expired message, a smaller
	// growth) goes back; a finished message's bytes move to the inbox.
	surplus := l.held + need - l.ra.Held() - charge
	l.held = l.ra.Held()
	l.lastChunk = time.Now()
	l.rmu.Unlock()
	p.budget.release(surplus)
	switch {
	case errors.Is(err, wire.ErrTooLarge):
		l.tooLarge.Add(1)
		return true
	case err != nil:
		l.malformed.Add(1)
		return true
	case !done:
		return true
	}
	l.msgsIn.Add(1)
	l.bytesIn.Add(uint64(len(data)))
	if !l.ch.put(p.id, data, charge, p.budget, p.done) {
		p.budget.release(charge)
		return false
	}
	return true
}

// expire drops an unfinished chunked message that got no chunk for
// timeout while the read loop was reading (not waiting for the game), and
// frees its memory. The mesh loop calls it from tick.
func (l *link) expire(now time.Time, timeout time.Duration) {
	l.rmu.Lock()
	if l.ra.Held() == 0 || now.Sub(l.lastChunk) < timeout {
		l.rmu.Unlock()
		return
	}
	l.ra.Reset()
	freed := l.held
	l.held = 0
	l.rmu.Unlock()
	l.p.budget.release(freed)
	l.chunkTimeouts.Add(1)
}

// releaseHeld gives back what an unfinished message holds (the peer is
// gone; its read loop has exited or is about to).
func (l *link) releaseHeld() {
	l.rmu.Lock()
	l.ra.Reset()
	freed := l.held
	l.held = 0
	l.rmu.Unlock()
	l.p.budget.release(freed)
}

func buf8() []byte { return make([]byte, 0, 16) }

func (l *link) stats(label string) ChannelStats {
	return ChannelStats{
		Label:        label,
		MessagesSent: l.msgsOut.Load(), MessagesReceived: l.msgsIn.Load(),
		BytesSent: l.bytesOut.Load(), BytesReceived: l.bytesIn.Load(),
		DroppedInbox: l.droppedInbox.Load(), DroppedStale: l.droppedStale.Load(),
		Malformed: l.malformed.Load(), TooLarge: l.tooLarge.Load(), ChunkTimeouts: l.chunkTimeouts.Load(),
		DroppedBudget: l.overBudget.Load(),
	}
}
