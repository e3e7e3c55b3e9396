package bench

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// Input is the game input of the bench sessions: 3 bytes on the wire,
// like a Pong paddle (buttons and an axis).
type Input struct {
	Buttons uint8
	Axis    int16
}

var gameSeq atomic.Uint64

// waitConn lets a driver block until a datagram is there without taking
// it: the session's own TryRecv gets it first.
type waitConn struct {
	transport.Conn
	mu      sync.Mutex
	pending []transport.Message
}

func (w *waitConn) wait(ctx context.Context) error {
	m, err := w.Conn.Recv(ctx)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.pending = append(w.pending, m)
	w.mu.Unlock()
	return nil
}

func (w *waitConn) TryRecv() (transport.Message, bool) {
	w.mu.Lock()
	if len(w.pending) > 0 {
		m := w.pending[0]
		w.pending = w.pending[1:]
		w.mu.Unlock()
		return m, true
	}
	w.mu.Unlock()
	return w.Conn.TryRecv()
}

func (w *waitConn) Recv(ctx context.Context) (transport.Message, error) {
	if m, ok := w.TryRecv(); ok {
		return m, nil
	}
	return w.Conn.Recv(ctx)
}

// LockstepRTT is the round trip of a lockstep frame: two 2-seat sessions
// over a and b (the two ends of one Unreliable channel) play ping-pong.
// One sample is the time from the end of the Advance on a that sent its
// input (encoded and handed to the Conn) to the end of the next Advance
// on a, which ran as soon as b's datagram arrived and returned the frame:
// b decoded a's datagram, ran Advance and answered in between. That is
// encode, send, receive, decode and a frame step on each side. Inputs
// are 3 bytes; the delay is fixed at 2 frames.
func LockstepRTT(a, b transport.Conn, warmup, n int) (d Durations, lost int, err error) {
	seats := []transport.PeerID{a.Local(), b.Local()}
	// A game ID of its own, and empty inboxes: datagrams of an earlier run
	// on the same channel must not wake this one.
	cfg := lockstep.Config{Seats: seats, InputDelay: 2, JoinTimeout: time.Minute, DisconnectTimeout: time.Minute,
		GameID: gameSeq.Add(1)}
	for _, c := range []transport.Conn{a, b} {
		for {
			if _, ok := c.TryRecv(); !ok {
				break
			}
		}
	}
	wa, wb := &waitConn{Conn: a}, &waitConn{Conn: b}
	sa, err := lockstep.NewSession[Input](wa, cfg)
	if err != nil {
		return nil, 0, err
	}
	defer sa.Close()
	sb, err := lockstep.NewSession[Input](wb, cfg)
	if err != nil {
		return nil, 0, err
	}
	defer sb.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	echoErr := make(chan error, 1)
	go func() {
		var in Input
		for {
			if err := wb.wait(ctx); err != nil {
				if ctx.Err() != nil {
					err = nil
				}
				echoErr <- err
				return
			}
			in.Buttons++
			steps, err := sb.Advance(in)
			if err != nil {
				echoErr <- err
				return
			}
			for _, st := range steps {
				sb.ReportChecksum(st.Frame, uint64(st.Frame))
			}
		}
	}()

	d = make(Durations, 0, n)
	var in Input
	advance := func() error {
		in.Buttons++
		steps, err := sa.Advance(in)
		for _, st := range steps {
			sa.ReportChecksum(st.Frame, uint64(st.Frame))
		}
		return err
	}
	if err := advance(); err != nil {
		return nil, 0, err
	}
	for i := 0; i < warmup+n; i++ {
		t0 := time.Now()
		wctx, wcancel := context.WithTimeout(ctx, 100*time.Millisecond)
		werr := wa.wait(wctx)
		wcancel()
		if err := advance(); err != nil {
			return d, lost, err
		}
		rtt := time.Since(t0)
		switch {
		case errors.Is(werr, context.DeadlineExceeded):
			lost++ // a datagram was lost: the next Advance resent the inputs
			continue
		case werr != nil:
			return d, lost, werr
		}
		if i >= warmup {
			d = append(d, rtt)
		}
	}
	cancel()
	if err := <-echoErr; err != nil {
		return d, lost, err
	}
	if st := sa.Stats(); st.Dropped.Malformed > 0 {
		return d, lost, errors.New("bench: lockstep dropped malformed datagrams")
	}
	return d, lost, nil
}
