package lockstep_test

import (
	"encoding/binary"
	"testing"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

// FuzzStreamMessage feeds arbitrary stream messages from the source and
// a witness to a Spectator: whatever they say (snapshots, inputs,
// checksums, refusals), Advance and ReportChecksum must not panic, and
// the spectator never returns a frame twice nor out of order. Seeds are a
// real stream: a snapshot, inputs, checksums.
func FuzzStreamMessage(f *testing.F) {
	conns := locksteptest.Loopback("a", "b", "s")
	src := &tap{Conn: conns[0]}
	st, err := lockstep.NewStreamer[input](lockstep.StreamConfig{Conn: src, Seats: 2, Snapshots: true})
	if err != nil {
		f.Fatal(err)
	}
	sp, err := lockstep.NewSpectator[input](lockstep.SpectatorConfig{Conn: conns[2], Source: "a"})
	if err != nil {
		f.Fatal(err)
	}
	for frame := range 40 {
		_, _ = sp.Advance()
		st.Step(lockstep.Step[input]{Frame: lockstep.Frame(frame), Inputs: []input{{1, 2}, {3, 4}},
			Status: []lockstep.InputStatus{lockstep.InputConfirmed, lockstep.InputDropped}})
		st.ReportChecksum(lockstep.Frame(frame), uint64(frame))
		if st.Wanted() {
			_ = st.Snapshot([]byte("state"))
		}
		st.Flush()
	}
	if len(src.sent) < 3 {
		f.Fatalf("seed stream of %d messages", len(src.sent))
	}
	for _, m := range src.sent {
		f.Add(m, []byte(nil))
	}
	f.Add(src.sent[0], src.sent[len(src.sent)-1])
	f.Fuzz(func(t *testing.T, m1, m2 []byte) {
		conns := locksteptest.Loopback("a", "b", "s")
		sp, err := lockstep.NewSpectator[input](lockstep.SpectatorConfig{Conn: conns[2], Source: "a", Witnesses: []transport.PeerID{"b"}})
		if err != nil {
			t.Fatal(err)
		}
		last := lockstep.NoFrame
		for i := range 4 {
			_ = conns[0].Send("s", m1)
			_ = conns[1].Send("s", m2)
			_ = conns[0].Send("s", m2)
			_, _ = sp.Restore()
			steps, _ := sp.Advance()
			for _, s := range steps {
				if last != lockstep.NoFrame && s.Frame != last+1 {
					t.Fatalf("tick %d: frame %d after %d", i, s.Frame, last)
				}
				last = s.Frame
				sp.ReportChecksum(s.Frame, uint64(s.Frame))
			}
		}
	})
}

// FuzzControlMessage feeds arbitrary control messages (join requests,
// admissions, acknowledgements, views) from seat b to seat a's session,
// whose seat c is reserved: Advance must not panic nor fail, and a admits
// only a seat that asked itself: c (its own join request; a coordinates),
// or b when b's own message is a join request (its word that its old
// session is gone: b drops itself), never b on anyone else's word. The
// same messages from a and b reach a joining session in seat c, which
// must not panic nor fail either.
func FuzzControlMessage(f *testing.F) {
	c := []byte{0xf2, 0xef, 0x01, 0x86, 0x4c, 0xde, 0x63, 0xaf} // idPrint("c")
	unsigned := []byte{0, 0, 0, 0, 0}                           // an admission's drop frame, no signature
	acked := []byte{0, 0, 0, 0, 0, 0}                           // an acknowledgement's coordinator (seat 0) and its admission
	admit := append(append(append([]byte("PPR5\x02\x00\x00\x00\x00\x02"), 5, 0, 0, 0, 0, 0, 0, 0), c...), unsigned...)
	f.Add(admit)
	sig := append([]byte{0xff, 0xff, 0xff, 0xff, 64}, make([]byte, 64)...) // drop frame -1, a 64-byte signature
	f.Add(append(append(append([]byte("PPR5\x02\x00\x00\x00\x00\x02"), 5, 0, 0, 0, 0, 0, 0, 0), c...), sig...))
	f.Add(append(append(append([]byte("PPR5\x03\x00\x00\x00\x00\x02"), 5, 0, 0, 0, 0, 0, 0, 0), c...), append([]byte{0}, sig...)...))
	// a proof: coordinator 0, seat 2, two admissions (R, drop frame, signature)
	proof := append([]byte("PPR5\x05\x00\x00\x00\x00\x00\x02\x05\x00\x00\x00"), sig...)
	f.Add(append(append(proof, 6, 0, 0, 0), sig...))
	join := "PPR5\x01\x00\x00\x00\x00\x00\xaf\x55\x70\xf5\xa1\x81\x0b\x7a" // flags, the fingerprint of Seed 0, no settings
	f.Add([]byte(join))
	f.Add([]byte("PPR5\x01\x00\x00\x00\x00\x01\xaf\x55\x70\xf5\xa1\x81\x0b\x7a"))
	f.Add(append(append(append([]byte("PPR5\x03\x00\x00\x00\x00\x02"), 5, 0, 0, 0, 0, 0, 0, 0), c...), acked...))
	f.Add(append(append([]byte("PPR5\x04\x00\x00\x00\x00\x02"), 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0), c...))
	f.Add(append(append(append([]byte("PPR5\x02\x00\x00\x00\x00\x02"), 5, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0), c...), unsigned...))
	ids := []transport.PeerID{"a", "b", "c"}
	f.Fuzz(func(t *testing.T, data []byte) {
		ls := locksteptest.Loopback(ids...)
		ctl := locksteptest.Loopback(ids...)
		var sg lockstep.Signer // odd lengths: survivors with signatures (proofs, signed admissions)
		if len(data)%2 == 1 {
			sg = edSigner{keys: newKeys(ids...), me: "a"}
		}
		a, err := lockstep.NewSession[input](ls[0], lockstep.Config{Seats: ids, Reserved: ids[2:], Control: ctl[0], Signer: sg})
		if err != nil {
			t.Fatal(err)
		}
		jls := locksteptest.Loopback(ids...)
		jctl := locksteptest.Loopback(ids...)
		j, err := lockstep.NewSession[input](jls[2], lockstep.Config{Seats: ids, Reserved: ids[2:], Control: jctl[2], Join: true})
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			_ = ctl[1].Send("a", data)
			_ = ctl[2].Send("a", data)
			_ = jctl[0].Send("c", data)
			_ = jctl[1].Send("c", data)
			if _, err := a.Advance(input{}); err != nil {
				t.Fatal(err)
			}
			if _, err := j.Advance(input{}); err != nil {
				t.Fatal(err)
			}
			for _, e := range a.PollEvents() {
				bAsked := len(data) == 18 && string(data[:5]) == "PPR5\x01" && string(data[10:]) == join[10:]
				if e.Kind == lockstep.EventRejoined && e.Seat != 2 && (e.Seat != 1 || !bAsked) {
					t.Fatalf("admitted a live seat: %+v", e)
				}
			}
		}
	})
}

// FuzzStreamerSubscribe feeds arbitrary messages (subscriptions, resumes
// from any frame, anything) from two peers to a Streamer with snapshots
// and a trimmed log while it logs and flushes frames: it must not panic,
// and every inputs message it sends starts where that peer's previous
// one ended (or at a resume or snapshot) and lies inside the log.
func FuzzStreamerSubscribe(f *testing.F) {
	resume := func(frame uint32) []byte {
		return binary.LittleEndian.AppendUint32(append([]byte("PPS1\x01\x00\x00\x00\x00"), 3), frame)
	}
	f.Add([]byte("PPS1\x01\x00\x00\x00\x00\x02"), resume(5))
	f.Add([]byte("PPS1\x01\x00\x00\x00\x00\x01"), resume(0))
	f.Add(resume(1_000_000), resume(30))
	f.Add(resume(0), []byte(nil)) // before the first step of a streamer that starts at 100
	f.Fuzz(func(t *testing.T, m1, m2 []byte) {
		for _, start := range []int{0, 100} { // 100: a relay from a snapshot, a restarted process
			fuzzSubscribe(t, m1, m2, start)
		}
	})
}

// fuzzSubscribe runs a streamer whose first step is at frame start, with
// m1 sent before it and both at frames start+10, 25 and 40.
func fuzzSubscribe(t *testing.T, m1, m2 []byte, start int) {
	conns := locksteptest.Loopback("a", "b", "s") // sorted: a, b, s
	st, err := lockstep.NewStreamer[input](lockstep.StreamConfig{Conn: conns[2], Seats: 2, Snapshots: true, MaxLog: 16})
	if err != nil {
		t.Fatal(err)
	}
	_ = conns[0].Send("s", m1) // before the first step
	st.Flush()
	for frame := start; frame < start+60; frame++ {
		switch frame - start {
		case 10, 40:
			_ = conns[0].Send("s", m1)
			_ = conns[1].Send("s", m2)
		case 25:
			_ = conns[0].Send("s", m2)
			_ = conns[1].Send("s", m1)
		}
		st.Step(lockstep.Step[input]{Frame: lockstep.Frame(frame), Inputs: []input{{1, 2}, {3, 4}},
			Status: []lockstep.InputStatus{lockstep.InputConfirmed, lockstep.InputConfirmed}})
		st.ReportChecksum(lockstep.Frame(frame), uint64(frame))
		if st.Wanted() {
			_ = st.Snapshot([]byte("state"))
		}
		st.Flush()
		for _, c := range conns[:2] {
			for {
				m, ok := c.TryRecv()
				if !ok {
					break
				}
				if len(m.Data) >= 17 && m.Data[4] == 3 { // inputs
					first := int32(binary.LittleEndian.Uint32(m.Data[9:]))
					count := int(binary.LittleEndian.Uint16(m.Data[15:]))
					if int(first) < start || int(first)+count > frame+1 {
						t.Fatalf("frame %d: inputs %d+%d beyond the log", frame, first, count)
					}
				}
			}
		}
	}
	if s := st.Stats(); s.Subscribers > 2 {
		t.Fatalf("%d subscribers from two peers", s.Subscribers)
	}
}
