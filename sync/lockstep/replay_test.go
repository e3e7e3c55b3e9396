package lockstep_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

// recordSmall records a tiny two-seat game over Loopback: 4 ticks, inputs
// derived from the tick, a checksum every frame.
func recordSmall(t testing.TB, w io.Writer) {
	t.Helper()
	conns := locksteptest.Loopback("alice", "bob")
	clock := &fakeClock{t: time.Unix(0, 0)}
	ids := []transport.PeerID{"alice", "bob"}
	a, err := lockstep.NewSession[input](conns[0], lockstep.Config{
		Seats: ids, Now: clock.Now, Record: w, GameID: 0x1234, Seed: 42, ChecksumInterval: 1,
		Settings: []byte{7, 9},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := lockstep.NewSession[input](conns[1], lockstep.Config{Seats: ids, Now: clock.Now, GameID: 0x1234})
	if err != nil {
		t.Fatal(err)
	}
	for tick := range 4 {
		clock.t = clock.t.Add(time.Second / 60)
		steps, err := a.Advance(input{Buttons: uint8(tick), Dx: -1})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range steps {
			a.ReportChecksum(st.Frame, 0xc0ffee00+uint64(st.Frame))
		}
		if _, err := b.Advance(input{Buttons: 9, Dx: int16(tick)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
}

// goldenReplay pins the replay format (version 3): header with the match
// settings and the start (frame 0, no state), then steps and checksums. A
// change here breaks old replay files.
const goldenReplay = "50504c5203000300" + "3c000000" + "2a00000000000000" + "3412000000000000" + "0200" +
	"0500616c696365" + "0300626f62" +
	"0200" + "00" + "01000000" + "88130000" + "02000000" + "0709" + // delay 2, fixed, interval 1, 5 s, settings
	"00000000" + "00000000" + // start frame 0, no start state
	"0100000000" + "000000" + "000000" + "0200000000" + "00eeffc000000000" +
	"0101000000" + "000000" + "000000" + "0201000000" + "01eeffc000000000" +
	"0102000000" + "01ffff" + "090000" + "0202000000" + "02eeffc000000000"

// goldenReplayV2 is the same game in version 2 (no start), as the
// previous release wrote it: NewReplay still reads it.
const goldenReplayV2 = "50504c5202000300" + "3c000000" + "2a00000000000000" + "3412000000000000" + "0200" +
	"0500616c696365" + "0300626f62" +
	"0200" + "00" + "01000000" + "88130000" + "02000000" + "0709" +
	"0100000000" + "000000" + "000000" + "0200000000" + "00eeffc000000000" +
	"0101000000" + "000000" + "000000" + "0201000000" + "01eeffc000000000" +
	"0102000000" + "01ffff" + "090000" + "0202000000" + "02eeffc000000000"

// goldenReplayV1 is the same game in version 1 (no settings), as older
// releases wrote it: NewReplay still reads it.
const goldenReplayV1 = "50504c5201000300" + "3c000000" + "2a00000000000000" + "3412000000000000" + "0200" +
	"0500616c696365" + "0300626f62" +
	"0100000000" + "000000" + "000000" + "0200000000" + "00eeffc000000000" +
	"0101000000" + "000000" + "000000" + "0201000000" + "01eeffc000000000" +
	"0102000000" + "01ffff" + "090000" + "0202000000" + "02eeffc000000000"

func TestReplayGolden(t *testing.T) {
	var buf bytes.Buffer
	recordSmall(t, &buf)
	if got := hex.EncodeToString(buf.Bytes()); got != goldenReplay {
		t.Errorf("replay bytes changed:\n got %s\nwant %s", got, goldenReplay)
	}
	r, err := lockstep.NewReplay[input](bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	want := []lockstep.Step[input]{
		{Frame: 0, Inputs: []input{{}, {}}},
		{Frame: 1, Inputs: []input{{}, {}}},
		// Tick 0 stalls (bob's head start has not arrived): frame 2 holds
		// alice's input of tick 1.
		{Frame: 2, Inputs: []input{{Buttons: 1, Dx: -1}, {Buttons: 9, Dx: 0}}},
	}
	for _, w := range want {
		st, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if st.Frame != w.Frame || !equalInputs(st.Inputs, w.Inputs) {
			t.Errorf("Next = %+v, want %+v", st, w)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next at the end = %v, want io.EOF", err)
	}
	if sum, ok := r.Checksum(2); !ok || sum != 0xc0ffee02 {
		t.Errorf("Checksum(2) = %#x, %v", sum, ok)
	}
	h := r.Header()
	if h.InputDelay != 2 || h.Adaptive || h.ChecksumInterval != 1 || h.DisconnectTimeout != 5*time.Second ||
		!bytes.Equal(h.Settings, []byte{7, 9}) {
		t.Errorf("header settings %+v", h)
	}
	if h.StartFrame != 0 || h.StartState != nil {
		t.Errorf("header start %d %v", h.StartFrame, h.StartState)
	}
	for v, golden := range map[int]string{1: goldenReplayV1, 2: goldenReplayV2} {
		old, err := lockstep.NewReplay[input](bytes.NewReader(mustHex(t, golden)))
		if err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
		for _, w := range want {
			st, err := old.Next()
			if err != nil {
				t.Fatalf("version %d: %v", v, err)
			}
			if st.Frame != w.Frame || !equalInputs(st.Inputs, w.Inputs) {
				t.Errorf("version %d: Next = %+v, want %+v", v, st, w)
			}
		}
		if h := old.Header(); h.Version != v || (v == 1) != (h.Settings == nil) || h.StartFrame != 0 {
			t.Errorf("version %d header %+v", v, h)
		}
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReplayVerify: a game replaying a log calls Verify after each step;
// every recorded checksum is compared (Checked counts them), including
// one read only after the step it belongs to was returned, a changed
// state is reported as a *DesyncError, and a log without checksums shows
// 0 checked, which a test then cannot mistake for a pass.
func TestReplayVerify(t *testing.T) {
	var buf bytes.Buffer
	recordSmall(t, &buf)
	play := func(data []byte, skew lockstep.Frame) (*lockstep.Replay[input], error) {
		r, err := lockstep.NewReplay[input](bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		for {
			st, err := r.Next()
			if err == io.EOF {
				return r, nil
			}
			if err != nil {
				return r, err
			}
			sum := 0xc0ffee00 + uint64(st.Frame)
			if st.Frame == skew {
				sum++
			}
			r.Verify(st.Frame, sum)
		}
	}
	r, err := play(buf.Bytes(), -1)
	if err != nil || r.Checked() != 3 || r.Recorded() != 3 {
		t.Errorf("clean replay: err %v, checked %d of %d, want 3 of 3", err, r.Checked(), r.Recorded())
	}
	// Checksums written after later steps (as with CatchUp > 1): move the
	// checksum of frame 0 behind the step of frame 1.
	b := mustHex(t, goldenReplay)
	rec0 := bytes.Index(b, mustHex(t, "0200000000"+"00eeffc000000000"))
	step1 := bytes.Index(b, mustHex(t, "0101000000"))
	late := append(append(append(append([]byte{}, b[:rec0]...), b[step1:step1+11]...), b[rec0:rec0+13]...), b[step1+11:]...)
	if r, err := play(late, -1); err != nil || r.Checked() != 3 {
		t.Errorf("late checksum: err %v, checked %d, want 3", err, r.Checked())
	}
	var de *lockstep.DesyncError
	if _, err := play(buf.Bytes(), 1); !errors.As(err, &de) || de.Frame != 1 {
		t.Errorf("skewed frame 1: %v, want a desync at frame 1", err)
	}
	// A log whose game reported no checksums: nothing to compare.
	var none bytes.Buffer
	conns := locksteptest.Loopback("alice", "bob")
	ids := []transport.PeerID{"alice", "bob"}
	a, _ := lockstep.NewSession[input](conns[0], lockstep.Config{Seats: ids, Record: &none})
	bb, _ := lockstep.NewSession[input](conns[1], lockstep.Config{Seats: ids})
	for range 10 {
		_, _ = a.Advance(input{})
		_, _ = bb.Advance(input{})
	}
	_ = a.Close()
	if r, err := play(none.Bytes(), -1); err != nil || r.Checked() != 0 {
		t.Errorf("no checksums: err %v, checked %d, want 0", err, r.Checked())
	}
}

func TestReplayRejects(t *testing.T) {
	valid, err := hex.DecodeString(goldenReplay)
	if err != nil {
		t.Fatal(err)
	}
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), valid...)) }
	// Offsets: 30-byte fixed header, "alice" (2+5), "bob" (2+3), 15 bytes
	// of settings fields and 2 of settings, the start frame at 59 and its
	// state's length at 63: the first record's tag is at 67, its frame at
	// 68.
	tests := []struct {
		name    string
		data    []byte
		wantNew error // from NewReplay
		wantAt  error // from Next, reading everything
	}{
		{"empty", nil, lockstep.ErrBadReplay, nil},
		{"magic", mut(func(b []byte) []byte { b[0] = 'X'; return b }), lockstep.ErrBadReplay, nil},
		{"version", mut(func(b []byte) []byte { b[4] = 4; return b }), lockstep.ErrBadReplay, nil},
		{"settings length", mut(func(b []byte) []byte { b[53] = 0xff; return b }), lockstep.ErrBadReplay, nil},
		{"truncated settings", valid[:58], lockstep.ErrBadReplay, nil},
		{"input size", mut(func(b []byte) []byte { b[6] = 4; return b }), lockstep.ErrInputType, nil},
		{"no seats", mut(func(b []byte) []byte { b[28] = 0; return b }), lockstep.ErrBadReplay, nil},
		{"local seat", mut(func(b []byte) []byte { b[29] = 2; return b }), lockstep.ErrBadReplay, nil},
		{"id length", mut(func(b []byte) []byte { b[30] = 0; return b }), lockstep.ErrBadReplay, nil},
		{"truncated header", valid[:35], lockstep.ErrBadReplay, nil},
		{"truncated step", valid[:len(valid)-20], nil, io.ErrUnexpectedEOF},
		{"unknown record", mut(func(b []byte) []byte { b[67] = 7; return b }), nil, lockstep.ErrBadReplay},
		{"frame out of order", mut(func(b []byte) []byte { b[68] = 5; return b }), nil, lockstep.ErrBadReplay},
		{"checksum first", mut(func(b []byte) []byte { b[67] = 2; return b }), nil, lockstep.ErrBadReplay},
		{"start before the log", mut(func(b []byte) []byte { b[59] = 7; return b }), nil, lockstep.ErrBadReplay},
		{"negative start", mut(func(b []byte) []byte { b[59], b[60], b[61], b[62] = 0xfe, 0xff, 0xff, 0xff; return b }), lockstep.ErrBadReplay, nil},
		{"start state length", mut(func(b []byte) []byte { b[66] = 0x7f; return b }), lockstep.ErrBadReplay, nil},
		{"state at frame 0", mut(func(b []byte) []byte { b[63] = 1; return b }), lockstep.ErrBadReplay, nil},
		{"truncated start", valid[:64], lockstep.ErrBadReplay, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := lockstep.NewReplay[input](bytes.NewReader(tt.data))
			if tt.wantNew != nil {
				if !errors.Is(err, tt.wantNew) {
					t.Errorf("NewReplay = %v, want %v", err, tt.wantNew)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewReplay: %v", err)
			}
			for {
				_, err = r.Next()
				if err != nil {
					break
				}
			}
			if !errors.Is(err, tt.wantAt) || !errors.Is(err, lockstep.ErrBadReplay) {
				t.Errorf("Next = %v, want %v (and ErrBadReplay)", err, tt.wantAt)
			}
		})
	}
}

// FuzzReplay: the replay decoder never panics and never loops: each Next
// consumes input or ends.
func FuzzReplay(f *testing.F) {
	valid, _ := hex.DecodeString(goldenReplay)
	f.Add(valid)
	f.Add(valid[:50])
	for _, g := range []string{goldenReplayV1, goldenReplayV2} {
		if old, err := hex.DecodeString(g); err == nil {
			f.Add(old)
		}
	}
	// A joiner's log: starts at frame 5 with 3 bytes of state.
	if j, err := hex.DecodeString(strings.Replace(goldenReplay[:len(goldenReplay)-3*48], "0000000000000000"+"0100000000", "05000000"+"03000000"+"aabbcc"+"0105000000", 1)); err == nil {
		f.Add(j)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := lockstep.NewReplay[input](bytes.NewReader(data))
		if err != nil {
			return
		}
		for range len(data) + 1 {
			if _, err := r.Next(); err != nil {
				return
			}
		}
		t.Fatalf("Next returned more steps than there are bytes")
	})
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n <= 0 {
		return 0, errors.New("disk full")
	}
	w.n--
	return len(p), nil
}

// TestRecordError: a failing writer stops the recording with one event;
// the game goes on, and Close reports the error.
func TestRecordError(t *testing.T) {
	ids := []transport.PeerID{"a", "b"}
	if _, err := lockstep.NewSession[input](locksteptest.Loopback(ids...)[0], lockstep.Config{Seats: ids, Record: &failWriter{}}); err != nil {
		t.Fatalf("NewSession with a failing writer = %v; the header is buffered, want nil", err)
	}
	conns := locksteptest.Loopback(ids...)
	w := &failWriter{n: 0}
	a, err := lockstep.NewSession[input](conns[0], lockstep.Config{Seats: ids, Record: w, TickRate: 10})
	if err != nil {
		t.Fatal(err)
	}
	b, err := lockstep.NewSession[input](conns[1], lockstep.Config{Seats: ids})
	if err != nil {
		t.Fatal(err)
	}
	events, frames := 0, 0
	for range 60 {
		steps, err := a.Advance(input{})
		if err != nil {
			t.Fatal(err)
		}
		frames += len(steps)
		if _, err := b.Advance(input{}); err != nil {
			t.Fatal(err)
		}
		for _, e := range a.PollEvents() {
			if e.Kind == lockstep.EventRecordError {
				events++
			}
		}
	}
	if events != 1 || frames < 50 {
		t.Errorf("%d record-error events, %d frames; want 1 and the game going on", events, frames)
	}
	if err := a.Close(); err == nil || !bytes.Contains([]byte(err.Error()), []byte("disk full")) {
		t.Errorf("Close = %v, want the write error", err)
	}
}
