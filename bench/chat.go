package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/peerplay/peerplay/chat"
	"github.com/peerplay/peerplay/netcode/transport"
)

// chatWindow bounds the lines in flight (sent, not yet delivered to b),
// below the bus's queues (QueueLen 1024), so nothing is dropped.
const chatWindow = 256

// ChatThroughput sends count chat lines of size ASCII characters from a to
// b (both Reliable Conns of the same mesh channel, given to chat.New) and
// times until b's Poll returned them all. Both chats are polled in a
// tight loop, as a game loop would each frame; the rate limit is lifted.
// A line that hits the chat's own limits is retried after backoff.
func ChatThroughput(ctx context.Context, a, b transport.Conn, size, count int) (Throughput, error) {
	cfg := chat.Config{MaxRunes: max(size, 280)}
	cfg.Bus.Rate, cfg.Bus.Burst, cfg.Bus.QueueLen = 1e9, 1<<30, 1024
	ca, err := chat.New(a, cfg)
	if err != nil {
		return Throughput{}, err
	}
	defer ca.Close()
	cb, err := chat.New(b, cfg)
	if err != nil {
		return Throughput{}, err
	}
	defer cb.Close()
	// Wait until both see each other (the chat handshake).
	for !hasMember(ca, b.Local()) || !hasMember(cb, a.Local()) {
		ca.PollMessages()
		cb.PollMessages()
		if ctx.Err() != nil {
			return Throughput{}, fmt.Errorf("bench: chat handshake: %w", ctx.Err())
		}
		time.Sleep(time.Millisecond)
	}
	line := strings.Repeat("x", size)
	got, sent := 0, 0
	t0 := time.Now()
	for got < count {
		for sent < count && sent-got < chatWindow {
			if err := ca.Say(line); err != nil {
				if errors.Is(err, chat.ErrRateLimited) || errors.Is(err, transport.ErrSlowConsumer) {
					break
				}
				return Throughput{}, err
			}
			sent++
		}
		ca.PollMessages()
		before := got
		for _, m := range cb.PollMessages() {
			if m.Kind == chat.KindText && m.From == a.Local() {
				got++
			}
		}
		if got == before {
			time.Sleep(20 * time.Microsecond) // nothing new: do not starve pion
		}
		if ctx.Err() != nil {
			return Throughput{}, fmt.Errorf("bench: chat after %d of %d lines: %w", got, count, ctx.Err())
		}
	}
	return Throughput{Messages: count, Size: size, Elapsed: time.Since(t0)}, nil
}

func hasMember(c *chat.Chat, p transport.PeerID) bool {
	_, ok := c.Members()[p]
	return ok
}
