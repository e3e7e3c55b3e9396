//go:build !js

package netcode

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// TestUnreliableInboxOverflow: an Unreliable inbox that is full drops new
// messages and counts them; the receiver gets at most InboxLen.
func TestUnreliableInboxOverflow(t *testing.T) {
	sig := startSignaling(t)
	a := join(t, sig.url(), "room", "a")
	b := join(t, sig.url(), "room", "b", func(c *Config) { c.InboxLen = 8 })
	waitMesh(t, 10*time.Second, a, b)
	const sent = 100
	for i := range sent {
		if err := a.Channel("unrel").Send(b.Local(), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	var st ChannelStats
	waitFor(t, 5*time.Second, "all 100 messages received or dropped", func() bool {
		ps, _ := b.Stats().Peer(a.Local())
		st = ps.Channels[1]
		return st.MessagesReceived == sent
	})
	got := 0
	for _, ok := b.Channel("unrel").TryRecv(); ok; _, ok = b.Channel("unrel").TryRecv() {
		got++
	}
	if got != 8 || st.DroppedInbox != sent-8 {
		t.Errorf("received %d, dropped %d; want 8 and %d", got, st.DroppedInbox, sent-8)
	}
}

// TestReliableBackpressure: a Reliable receiver that does not read never
// loses a message; the sender's Send fails with ErrSlowConsumer once its
// queue is full, and every message Send accepted arrives, in order, once
// the receiver drains.
func TestReliableBackpressure(t *testing.T) {
	sig := startSignaling(t)
	a := join(t, sig.url(), "room", "a", func(c *Config) { c.MaxReliableBuffered = 256 << 10 })
	b := join(t, sig.url(), "room", "b", func(c *Config) { c.InboxLen = 4 })
	waitMesh(t, 10*time.Second, a, b)
	msg := make([]byte, 32<<10)
	accepted := 0
	// Send until Send has failed with ErrSlowConsumer for a whole second:
	// the receiver reads nothing, so only its back-pressure can keep the
	// sender's queue full that long.
	var failingSince time.Time
	deadline := time.Now().Add(30 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("Send never stayed blocked; %d accepted", accepted)
		}
		binary.BigEndian.PutUint32(msg, uint32(accepted))
		err := a.Channel("rel").Send(b.Local(), msg)
		if err == nil {
			accepted++
			failingSince = time.Time{}
			continue
		}
		if !errors.Is(err, transport.ErrSlowConsumer) {
			t.Fatalf("after %d sends: %v, want nil or ErrSlowConsumer", accepted, err)
		}
		if failingSince.IsZero() {
			failingSince = time.Now()
		}
		if time.Since(failingSince) > time.Second {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("Send blocked (ErrSlowConsumer) after %d messages of 32 KiB", accepted)
	ch := b.Channel("rel").(*channel)
	ch.mu.Lock()
	queued := len(ch.q)
	ch.mu.Unlock()
	if queued != 4 {
		t.Errorf("receiver inbox holds %d messages, want InboxLen 4", queued)
	}
	if accepted <= 4 {
		t.Fatalf("only %d messages accepted", accepted)
	}
	got := recvN(t, b.Channel("rel"), accepted, 30*time.Second)
	for i, m := range got {
		if n := binary.BigEndian.Uint32(m.Data); n != uint32(i) || len(m.Data) != len(msg) {
			t.Fatalf("message %d: seq %d, %d bytes", i, n, len(m.Data))
		}
	}
	// The sender recovers once the queue drained.
	waitFor(t, 10*time.Second, "Send to succeed again", func() bool {
		return a.Channel("rel").Send(b.Local(), msg) == nil
	})
}

// TestStaleUnreliableDropped: when SCTP already holds
// MaxUnreliableBuffered bytes for a peer, Unreliable sends are dropped
// (and counted) instead of queueing behind stale data.
func TestStaleUnreliableDropped(t *testing.T) {
	sig := startSignaling(t)
	a := join(t, sig.url(), "room", "a", func(c *Config) { c.MaxUnreliableBuffered = 4 << 10 })
	b := join(t, sig.url(), "room", "b")
	waitMesh(t, 10*time.Second, a, b)
	msg := make([]byte, MaxUnreliableSize)
	for range 2000 {
		if err := a.Channel("unrel").Send(b.Local(), msg); err != nil {
			t.Fatal(err)
		}
	}
	ps, _ := a.Stats().Peer(b.Local())
	st := ps.Channels[1]
	t.Logf("sent %d, dropped stale %d", st.MessagesSent, st.DroppedStale)
	if st.DroppedStale == 0 || st.MessagesSent+st.DroppedStale != 2000 {
		t.Errorf("sent %d + dropped %d, want some drops and 2000 in all", st.MessagesSent, st.DroppedStale)
	}
}
