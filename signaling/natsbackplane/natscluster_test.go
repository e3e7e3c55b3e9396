package natsbackplane

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/natsbackplane/natstest"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

// TestNATSCluster: the documented deployment in miniature: a 3-server
// NATS cluster (JetStream, registry replicated 3 times), three signald
// nodes each knowing every NATS server. The NATS server that leads the
// registry's stream dies: nodes connected to it fail over to the others,
// and no registry write lands until JetStream has elected a new leader
// (seconds), longer than the test's TTL, so NATS expires every entry
// meanwhile. Yet rooms stay (with their password and members), nobody is
// dropped, a newcomer is admitted on the room's real record, joins and
// signals keep working, listings agree.
func TestNATSCluster(t *testing.T) {
	cluster := natstest.StartCluster(t, 3)
	urls := natstest.URLs(cluster)
	replicas := func(c *Config, _ *signaling.Server) { c.Replicas = 3 }
	nodes := []*node{startNode(t, urls, "n0", replicas), startNode(t, urls, "n1", replicas), startNode(t, urls, "n2", replicas)}
	waitReady(t, nodes...)

	opts := func(name, pw string) sigclient.DialOptions {
		return sigclient.DialOptions{Name: name, Password: pw, MaxPlayers: 3}
	}
	a := dial(t, nodes[0].wsURL(), "r", opts("a", "pw"))
	b := dial(t, nodes[1].wsURL(), "r", opts("b", "pw"))
	expect(t, a, signaling.EventPeerJoined, b.Local())

	leader := streamLeader(t, nodes[0].bp)
	var victim *natstest.Server
	for i, s := range cluster {
		if leader == fmt.Sprintf("natstest-%d", i) {
			victim = s
		}
	}
	if victim == nil {
		t.Fatalf("the registry's stream leader %q is none of the cluster's servers", leader)
	}
	victim.Kill()
	t.Logf("NATS server %s (the registry's stream leader) killed", leader)

	// While JetStream elects a new leader, registry writes fail and
	// joins are refused with unavailable; clients retry, and so does
	// this test.
	join := func(name, pw string) (*sigclient.Client, error) {
		var c *sigclient.Client
		var err error
		waitFor(t, 30*waitUnit, "a join after the NATS server loss", func() bool {
			c, err = sigclient.Dial(testCtx(t), nodes[2].wsURL(), "r", opts(name, pw))
			return !errors.Is(err, signaling.ErrUnavailable)
		})
		if c != nil {
			t.Cleanup(func() { _ = c.Close() })
		}
		return c, err
	}
	// Admission is decided on the room's real record: a wrong password
	// neither gets in nor makes a fresh room.
	if _, err := join("x", "wrong"); !errors.Is(err, signaling.ErrBadPassword) {
		t.Fatalf("join with a wrong password after the loss: %v, want ErrBadPassword", err)
	}
	c, err := join("c", "pw")
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	if got, want := c.Peers(), sorted(a.Local(), b.Local()); !equalIDs(got, want) {
		t.Fatalf("after losing a NATS server the newcomer sees %v, want %v", got, want)
	}
	if _, err := join("d", "pw"); !errors.Is(err, signaling.ErrRoomFull) {
		t.Fatalf("a 4th join into a room of 3: %v, want ErrRoomFull", err)
	}
	expect(t, a, signaling.EventPeerJoined, c.Local())
	expect(t, b, signaling.EventPeerJoined, c.Local())
	if err := c.Signal(a.Local(), []byte("hi")); err != nil {
		t.Fatal(err)
	}
	expect(t, a, signaling.EventSignal, c.Local())
	// Every node ends healthy and lists the room. A node whose watch
	// died with the NATS server (or stalled) watches the registry
	// again, and lists rooms meanwhile only as unavailable, until
	// JetStream creates its consumer: seconds after the election, much
	// longer on a loaded machine (it may time out and be retried).
	want := `[{"room":"r","players":3,"max":3,"password":true}]`
	for _, n := range nodes {
		waitHealthyListing(t, n, 90*waitUnit, want, true)
	}
	// Nobody was dropped: a and b never saw a PeerLeft, a Disconnected
	// or a Failed (their nodes' clients never noticed the failover).
	for _, cl := range []*sigclient.Client{a, b, c} {
		noDrops(t, cl)
	}
	for _, n := range nodes {
		st := n.bp.Stats()
		t.Logf("%s: outages %d, rooms restored %d, seats repaired %d, reaped %d", n.name, st.Outages, st.Restored, st.Repaired, st.Reaped)
		if st.Reaped != 0 {
			t.Errorf("%s reaped %d live seats", n.name, st.Reaped)
		}
	}
}

// streamLeader names the NATS server that leads the registry's stream.
func streamLeader(t testing.TB, b *Backplane) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := b.js.Stream(ctx, "KV_"+b.cfg.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Cluster == nil || info.Cluster.Leader == "" {
		t.Fatalf("stream %s has no leader: %+v", info.Config.Name, info.Cluster)
	}
	return info.Cluster.Leader
}

// noDrops fails the test if cl has a PeerLeft, Disconnected or Failed
// event queued.
func noDrops(t testing.TB, cl *sigclient.Client) {
	t.Helper()
	for {
		select {
		case ev := <-cl.Events():
			if ev.Kind == signaling.EventDisconnected || ev.Kind == signaling.EventPeerLeft || ev.Kind == signaling.EventFailed {
				t.Errorf("%s: %v %v %v", cl.Local(), ev.Kind, ev.Peer, ev.Err)
			}
			continue
		default:
		}
		return
	}
}

// purgeRoom removes room's record from the registry's stream without a
// trace for watchers, as NATS does when the record expires (bucket max
// age) while nobody can refresh it.
func purgeRoom(t testing.TB, b *Backplane, room string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := b.js.Stream(ctx, "KV_"+b.cfg.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	subj := "$KV." + b.cfg.Bucket + "." + roomKey(room)
	if err := s.Purge(ctx, jetstream.WithPurgeSubject(subj)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetLastMsgForSubject(ctx, subj); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("after the purge: %v, want not found", err)
	}
}

// TestRegistryLosesRoom: the registry loses a live room without a trace
// (like an expiry while JetStream could not be written). A join on a node
// with no seat in it must not make a fresh room: the room comes back
// whole, and admission (password, size) is decided on it; a member's
// resume on another node works; nobody is dropped; listings keep it.
func TestRegistryLosesRoom(t *testing.T) {
	ns := natstest.Start(t)
	grace := func(_ *Config, s *signaling.Server) { s.ResumeGrace = 10 * time.Second }
	n0, n1, n2 := startNode(t, ns.URL(), "n0", grace), startNode(t, ns.URL(), "n1", grace), startNode(t, ns.URL(), "n2", grace)
	waitReady(t, n0, n1, n2)
	opts := func(name, pw string) sigclient.DialOptions {
		return sigclient.DialOptions{Name: name, Password: pw, MaxPlayers: 3,
			ReconnectMin: 50 * time.Millisecond, ReconnectMax: 100 * time.Millisecond}
	}
	l := newLB(t, n0.hostport())
	a := dial(t, l.url(), "r", opts("a", "pw"))
	b := dial(t, n1.wsURL(), "r", opts("b", "pw"))
	expect(t, a, signaling.EventPeerJoined, b.Local())

	tests := []struct {
		name     string
		password string
		want     error
	}{
		{"wrong password", "nope", signaling.ErrBadPassword},
		{"newcomer", "pw", nil},
		{"over the size", "pw", signaling.ErrRoomFull},
	}
	var c *sigclient.Client
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			purgeRoom(t, n2.bp, "r")
			cl, err := sigclient.Dial(testCtx(t), n2.wsURL(), "r", opts(tt.name, tt.password))
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("join after the registry lost the room: %v, want %v", err, tt.want)
			}
			if err != nil {
				return
			}
			c = cl
			if got, want := c.Peers(), sorted(a.Local(), b.Local()); !equalIDs(got, want) {
				t.Fatalf("the newcomer sees %v, want %v", got, want)
			}
		})
	}
	if c == nil {
		t.FailNow()
	}
	t.Cleanup(func() { _ = c.Close() })
	expect(t, a, signaling.EventPeerJoined, c.Local())
	expect(t, b, signaling.EventPeerJoined, c.Local())

	// The owners refresh: they find the record gone and write it back.
	purgeRoom(t, n2.bp, "r")
	waitFor(t, 10*waitUnit, "an owner to restore the room", func() bool {
		_, err := n2.bp.reg.kvOrNil().Get(context.Background(), roomKey("r"))
		return err == nil
	})

	// a loses its connection to n0 and resumes on n2 while the registry
	// has lost the room again: n2 restores it and resumes the seat.
	l.setBackends("127.0.0.1:1")
	l.cut()
	expect(t, a, signaling.EventDisconnected, "")
	waitFor(t, 10*waitUnit, "n0 to hold the seat", func() bool { return n0.bp.Stats().HeldSeats == 1 })
	purgeRoom(t, n2.bp, "r")
	l.setBackends(n2.hostport())
	expect(t, a, signaling.EventReconnected, "")
	if err := a.Signal(c.Local(), []byte("after")); err != nil {
		t.Fatal(err)
	}
	expect(t, c, signaling.EventSignal, a.Local())

	want := `[{"room":"r","players":3,"max":3,"password":true}]`
	for _, n := range []*node{n0, n1, n2} {
		waitListing(t, n, 10*waitUnit, want)
	}
	for _, cl := range []*sigclient.Client{b, c} {
		noDrops(t, cl)
	}
	var restored uint64
	for _, n := range []*node{n0, n1, n2} {
		st := n.bp.Stats()
		restored += st.Restored
		if st.Reaped != 0 {
			t.Errorf("%s reaped %d live seats", n.name, st.Reaped)
		}
	}
	// At least the newcomer's join and the owners' refresh wrote it back
	// (refused joins do not write; the resume may find it restored).
	if restored < 2 {
		t.Errorf("rooms restored: %d, want at least 2", restored)
	}
	// Everybody leaves: the room is deleted (a delete marker, not a
	// loss), and a join right after makes a fresh room, even on a node
	// whose view may still show the old one.
	for _, cl := range []*sigclient.Client{a, b, c} {
		_ = cl.Close()
	}
	waitFor(t, 10*waitUnit, "the room's deletion", func() bool {
		_, err := n0.bp.reg.kvOrNil().Get(context.Background(), roomKey("r"))
		return errors.Is(err, jetstream.ErrKeyNotFound)
	})
	d := dial(t, n2.wsURL(), "r", opts("d", "other"))
	if got := d.Peers(); len(got) != 0 {
		t.Errorf("a join into the deleted room sees %v, want nobody", got)
	}
}

// TestSettled: the bookkeeping behind "the registry may have lost
// entries": a heartbeat gap of TTL/2 or more while the node was trying
// is an outage; until TTL after
// it, the reaper waits, listings reach back to before it, and rooms with no
// trace wait unless this node's watch ran throughout.
func TestSettled(t *testing.T) {
	const ttl = 8 * time.Second
	const none = -1
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time {
		if d == none {
			return time.Time{}
		}
		return t0.Add(d)
	}
	s := time.Second
	tests := []struct {
		name                                          string
		ready, beatOK, attempt, gapFrom, okSince, now time.Duration // from t0
		settled                                       bool
		until                                         time.Duration
		wait                                          bool
		waitUntil                                     time.Duration
		cutoff                                        time.Duration
	}{
		{"never beat", 1 * s, none, none, none, none, 10 * s, false, none, false, 10 * s, 2 * s},
		{"beating", 1 * s, 9 * s, none, none, none, 10 * s, true, 10 * s, false, 10 * s, 2 * s},
		{"beat late, within TTL/2", 1 * s, 6 * s, none, none, none, 10 * s, true, 10 * s, false, 10 * s, 2 * s},
		{"outage going on, watched throughout", 1 * s, 5 * s, 6 * s, none, none, 10 * s, false, none, false, 10 * s, -3 * s},
		{"outage going on, not watching", none, 5 * s, 6 * s, none, none, 10 * s, false, none, true, none, -3 * s},
		{"outage ended 1s ago, watched throughout", 1 * s, 19 * s, none, 10 * s, 19 * s, 20 * s, false, 27 * s, false, 20 * s, 2 * s},
		{"outage ended 1s ago, watching again", 15 * s, 19 * s, none, 10 * s, 19 * s, 20 * s, false, 27 * s, true, 27 * s, 2 * s},
		{"outage ended TTL ago", 15 * s, 29 * s, none, 10 * s, 19 * s, 29500 * time.Millisecond, true, 29500 * time.Millisecond, false, 29500 * time.Millisecond, 21500 * time.Millisecond},
		// The heartbeat goroutine did not run (a starved machine): no
		// attempt failed, the registry was not seen failing.
		{"starved, not trying", 1 * s, 5 * s, none, none, none, 10 * s, true, 10 * s, false, 10 * s, 2 * s},
		{"starved, trying since a moment", none, 5 * s, 9500 * time.Millisecond, none, none, 10 * s, true, 10 * s, false, 10 * s, 2 * s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := window{ttl: ttl, beatOK: at(tt.beatOK), attempt: at(tt.attempt), gapFrom: at(tt.gapFrom), okSince: at(tt.okSince)}
			now := at(tt.now)
			if until, ok := w.settled(now); ok != tt.settled || !until.Equal(at(tt.until)) {
				t.Errorf("settled: %v until %v, want %v until %v", ok, until, tt.settled, at(tt.until))
			}
			if until, ok := w.newRoomsWait(now, at(tt.ready)); ok != tt.wait || !until.Equal(at(tt.waitUntil)) {
				t.Errorf("new rooms wait: %v until %v, want %v until %v", ok, until, tt.wait, at(tt.waitUntil))
			}
			if got := w.cutoff(now); !got.Equal(at(tt.cutoff)) {
				t.Errorf("cutoff %v, want %v", got.Sub(t0), tt.cutoff)
			}
		})
	}
}
