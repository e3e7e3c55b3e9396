package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/pion/datachannel"
)

// Throughput is one bulk transfer: Messages of Size bytes delivered in
// Elapsed, from the first send to the last byte received.
type Throughput struct {
	Messages int
	Size     int
	Elapsed  time.Duration
}

// MBps is the payload rate in megabytes (10⁶ bytes) per second.
func (t Throughput) MBps() float64 {
	if t.Elapsed <= 0 {
		return 0
	}
	return float64(t.Messages) * float64(t.Size) / 1e6 / t.Elapsed.Seconds()
}

// MsgsPerSec is the message rate.
func (t Throughput) MsgsPerSec() float64 {
	if t.Elapsed <= 0 {
		return 0
	}
	return float64(t.Messages) / t.Elapsed.Seconds()
}

// Flow-control marks of the raw pion sender, as in pion's
// data-channels-flow-control example: stop writing above 1 MiB buffered,
// resume below 512 KiB.
const (
	pionMaxBuffered = 1 << 20
	pionLowBuffered = 512 << 10
)

type bufferedChannel interface {
	BufferedAmount() uint64
	SetBufferedAmountLowThreshold(uint64)
	OnBufferedAmountLow(func())
}

// PionThroughput sends count messages of size bytes from a to b on a
// reliable detached pion channel with bufferedAmount flow control, and
// times until b has read them all.
func PionThroughput(ctx context.Context, a, b datachannel.ReadWriteCloserDeadliner, size, count int) (Throughput, error) {
	fc, ok := a.(bufferedChannel)
	if !ok {
		return Throughput{}, errors.New("bench: channel has no BufferedAmount")
	}
	low := make(chan struct{}, 1)
	fc.SetBufferedAmountLowThreshold(pionLowBuffered)
	fc.OnBufferedAmountLow(func() {
		select {
		case low <- struct{}{}:
		default:
		}
	})
	defer fc.OnBufferedAmountLow(nil)

	done := make(chan error, 1)
	go func() {
		buf := make([]byte, max(size, 64<<10))
		want := int64(size) * int64(count)
		var got int64
		for got < want {
			if err := b.SetReadDeadline(time.Now().Add(deadline)); err != nil {
				done <- err
				return
			}
			n, err := b.Read(buf)
			if err != nil {
				done <- fmt.Errorf("bench: receiver after %d of %d bytes: %w", got, want, err)
				return
			}
			got += int64(n)
		}
		done <- nil
	}()

	msg := make([]byte, size)
	t0 := time.Now()
	for i := 0; i < count; i++ {
		if fc.BufferedAmount() > pionMaxBuffered {
			select {
			case <-low:
			case <-time.After(deadline):
				// The callback fires on a crossing only; recheck.
			case <-ctx.Done():
				return Throughput{}, ctx.Err()
			}
			if fc.BufferedAmount() > pionMaxBuffered {
				i--
				continue
			}
		}
		if _, err := a.Write(msg); err != nil {
			return Throughput{}, err
		}
	}
	select {
	case err := <-done:
		if err != nil {
			return Throughput{}, err
		}
	case <-ctx.Done():
		return Throughput{}, ctx.Err()
	}
	return Throughput{Messages: count, Size: size, Elapsed: time.Since(t0)}, nil
}

// ConnThroughput sends count messages of size bytes from a to b's peer on
// a Reliable transport.Conn, and times until b has received them all.
// Send never blocks; when the channel's queue is full it fails with
// transport.ErrSlowConsumer, and the sender waits backoff and retries:
// that is the flow control the Conn contract offers.
func ConnThroughput(ctx context.Context, a, b transport.Conn, size, count int, backoff time.Duration) (Throughput, error) {
	to := b.Local()
	done := make(chan error, 1)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for got := 0; got < count; got++ {
			if _, err := b.Recv(rctx); err != nil {
				done <- fmt.Errorf("bench: receiver after %d of %d messages: %w", got, count, err)
				return
			}
		}
		done <- nil
	}()
	msg := make([]byte, size)
	t0 := time.Now()
	for i := 0; i < count; {
		err := a.Send(to, msg)
		switch {
		case err == nil:
			i++
		case errors.Is(err, transport.ErrSlowConsumer):
			time.Sleep(backoff)
		default:
			return Throughput{}, err
		}
		if ctx.Err() != nil {
			return Throughput{}, ctx.Err()
		}
	}
	select {
	case err := <-done:
		if err != nil {
			return Throughput{}, err
		}
	case <-ctx.Done():
		return Throughput{}, ctx.Err()
	}
	return Throughput{Messages: count, Size: size, Elapsed: time.Since(t0)}, nil
}
