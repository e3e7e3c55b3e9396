package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/pion/datachannel"
)

// ErrLost is returned by Pinger.Ping when no echo came back in time.
var ErrLost = errors.New("bench: echo lost")

// A Pinger is one rung of the latency ladder: Ping sends p (whose first 8
// bytes are a sequence number) to an echo peer and returns when the echo of
// that same p has come back, or ErrLost after a deadline. Close stops the
// echo peer and waits for it.
type Pinger interface {
	Ping(p []byte) error
	Close() error
}

// pingSeq numbers pings across every RTT call, so that a late echo from
// an earlier run never matches a new ping.
var pingSeq atomic.Uint64

// RTT runs n timed pings of size bytes (at least 8) on p, after warmup
// untimed ones, one at a time. Lost pings are counted, not timed.
func RTT(p Pinger, size, warmup, n int) (d Durations, lost int, err error) {
	buf := make([]byte, max(size, 8))
	d = make(Durations, 0, n)
	for i := 0; i < warmup+n; i++ {
		binary.LittleEndian.PutUint64(buf, pingSeq.Add(1))
		t0 := time.Now()
		err := p.Ping(buf)
		rtt := time.Since(t0)
		switch {
		case errors.Is(err, ErrLost):
			lost++
			continue
		case err != nil:
			return d, lost, err
		}
		if i >= warmup {
			d = append(d, rtt)
		}
	}
	return d, lost, nil
}

// sameSeq reports whether got is the echo of want.
func sameSeq(got, want []byte) bool {
	return len(got) >= 8 && binary.LittleEndian.Uint64(got) == binary.LittleEndian.Uint64(want)
}

// UDPPinger is raw Go UDP ping-pong on 127.0.0.1: the physical limit of
// the ladder.
type UDPPinger struct {
	c, echo *net.UDPConn
	buf     []byte
	wg      sync.WaitGroup
}

// NewUDPPinger opens two loopback sockets and starts the echo goroutine.
func NewUDPPinger() (*UDPPinger, error) {
	lo := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	echo, err := net.ListenUDP("udp4", lo)
	if err != nil {
		return nil, err
	}
	c, err := net.DialUDP("udp4", lo, echo.LocalAddr().(*net.UDPAddr))
	if err != nil {
		_ = echo.Close()
		return nil, err
	}
	u := &UDPPinger{c: c, echo: echo, buf: make([]byte, 64<<10)}
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		b := make([]byte, 64<<10)
		for {
			n, from, err := echo.ReadFromUDP(b)
			if err != nil {
				return
			}
			if _, err := echo.WriteToUDP(b[:n], from); err != nil {
				return
			}
		}
	}()
	return u, nil
}

// Ping implements Pinger.
func (u *UDPPinger) Ping(p []byte) error {
	if _, err := u.c.Write(p); err != nil {
		return err
	}
	if err := u.c.SetReadDeadline(time.Now().Add(deadline)); err != nil {
		return err
	}
	for {
		n, err := u.c.Read(u.buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return ErrLost
		}
		if err != nil {
			return err
		}
		if sameSeq(u.buf[:n], p) {
			return nil
		}
	}
}

// Close implements Pinger.
func (u *UDPPinger) Close() error {
	err := errors.Join(u.c.Close(), u.echo.Close())
	u.wg.Wait()
	return err
}

// ChannelPinger ping-pongs over two detached pion data channels: it
// writes on a, an echo goroutine reads b and writes back.
type ChannelPinger struct {
	a, b datachannel.ReadWriteCloserDeadliner
	buf  []byte
	wg   sync.WaitGroup
}

// NewChannelPinger starts the echo goroutine on b. Close closes neither
// channel's PeerConnection; the caller owns them.
func NewChannelPinger(a, b datachannel.ReadWriteCloserDeadliner) *ChannelPinger {
	c := &ChannelPinger{a: a, b: b, buf: make([]byte, 64<<10)}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		buf := make([]byte, 64<<10)
		for {
			n, err := b.Read(buf)
			if err != nil {
				return
			}
			if _, err := b.Write(buf[:n]); err != nil {
				return
			}
		}
	}()
	return c
}

// Ping implements Pinger.
func (c *ChannelPinger) Ping(p []byte) error {
	if _, err := c.a.Write(p); err != nil {
		return err
	}
	if err := c.a.SetReadDeadline(time.Now().Add(deadline)); err != nil {
		return err
	}
	for {
		n, err := c.a.Read(c.buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
				return ErrLost
			}
			return err
		}
		if sameSeq(c.buf[:n], p) {
			return nil
		}
	}
}

// Close stops the echo goroutine by closing channel b, and waits for it.
func (c *ChannelPinger) Close() error {
	// Closing a detached channel does not wake a blocked Read; a deadline
	// in the past does.
	_ = c.b.SetReadDeadline(time.Now())
	err := c.b.Close()
	c.wg.Wait()
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return err
}

// ConnPinger ping-pongs over a transport.Conn: a sends to b's peer, an
// echo goroutine receives on b and sends back. It measures any Conn:
// a netcode Channel, or a memnet one in tests.
type ConnPinger struct {
	a, b   transport.Conn
	to     transport.PeerID
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewConnPinger starts the echo goroutine on b.
func NewConnPinger(a, b transport.Conn) *ConnPinger {
	ctx, cancel := context.WithCancel(context.Background())
	c := &ConnPinger{a: a, b: b, to: b.Local(), cancel: cancel}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			m, err := b.Recv(ctx)
			if err != nil {
				return
			}
			if err := b.Send(m.From, m.Data); err != nil && ctx.Err() != nil {
				return
			}
		}
	}()
	return c
}

// Ping implements Pinger.
func (c *ConnPinger) Ping(p []byte) error {
	if err := c.a.Send(c.to, p); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for {
		m, err := c.a.Recv(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			return ErrLost
		}
		if err != nil {
			return err
		}
		if m.From == c.to && sameSeq(m.Data, p) {
			return nil
		}
	}
}

// Close stops the echo goroutine and waits for it; it closes no Conn.
func (c *ConnPinger) Close() error {
	c.cancel()
	c.wg.Wait()
	return nil
}
