package replay

import (
	"encoding/hex"
	"errors"
	"path/filepath"
	"testing"

	"github.com/peerplay/peerplay/demo/pong/sim"
)

func record(t *testing.T, cfg sim.Config) *Replay {
	t.Helper()
	r := &Replay{Config: cfg}
	s := sim.New(cfg)
	for !s.Over() {
		in := [2]sim.Input{sim.Bot(&s, 0), sim.Bot(&s, 1)}
		r.Inputs = append(r.Inputs, in)
		s.Step(in)
	}
	r.Checksum = s.Checksum()
	return r
}

func TestRoundTripAndPlay(t *testing.T) {
	r := record(t, sim.Config{Seed: 3, WinScore: 3})
	path := filepath.Join(t.TempDir(), "m.pprp")
	if err := r.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Config != r.Config || len(back.Inputs) != len(r.Inputs) || back.Checksum != r.Checksum {
		t.Fatalf("Load = %+v (%d frames), want %+v (%d frames)", back.Config, len(back.Inputs), r.Config, len(r.Inputs))
	}
	s, err := back.Play()
	if err != nil {
		t.Fatalf("Play: %v", err)
	}
	if !s.Over() || s.Checksum() != r.Checksum {
		t.Errorf("Play ended over=%v checksum %#x, want over, %#x", s.Over(), s.Checksum(), r.Checksum)
	}
	// One flipped input must be noticed.
	back.Inputs[len(back.Inputs)/2][0].Buttons ^= sim.Up
	if _, err := back.Play(); !errors.Is(err, ErrChecksum) {
		t.Errorf("Play of a tampered replay: err = %v, want ErrChecksum", err)
	}
}

func TestGoldenBytes(t *testing.T) {
	r := Replay{
		Config:   sim.Config{Seed: 0x0102030405060708, WinScore: 5},
		Inputs:   [][2]sim.Input{{{Buttons: sim.Up}, {Buttons: sim.Down}}, {{}, {Buttons: sim.Up | sim.Down}}},
		Checksum: 0xa1a2a3a4a5a6a7a8,
	}
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	const want = "50505250" + "0100" + "0200" + "0807060504030201" + "0500" + "02000000" + "0102" + "0003" + "a8a7a6a5a4a3a2a1"
	if got := hex.EncodeToString(b); got != want {
		t.Errorf("MarshalBinary =\n%s\nwant\n%s", got, want)
	}
}

func TestUnmarshalRejects(t *testing.T) {
	good, err := record(t, sim.Config{Seed: 1, WinScore: 1}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrFormat},
		{"short", good[:20], ErrFormat},
		{"magic", mod(func(b []byte) []byte { b[0] = 'X'; return b }), ErrFormat},
		{"version", mod(func(b []byte) []byte { b[4] = 2; return b }), ErrVersion},
		{"seats", mod(func(b []byte) []byte { b[6] = 3; return b }), ErrFormat},
		{"truncated", good[:len(good)-1], ErrFormat},
		{"trailing", append(append([]byte(nil), good...), 0), ErrFormat},
		{"frames too many", mod(func(b []byte) []byte { b[21] = 0xff; return b }), ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Replay
			if err := r.UnmarshalBinary(tt.b); !errors.Is(err, tt.want) {
				t.Errorf("UnmarshalBinary: err = %v, want %v", err, tt.want)
			}
			if r.Inputs != nil {
				t.Error("a failed UnmarshalBinary changed the Replay")
			}
		})
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, cfg := range []sim.Config{{Seed: 1, WinScore: 1}, {Seed: 9, WinScore: 2}} {
		r := Replay{Config: cfg}
		s := sim.New(cfg)
		for range 200 {
			in := [2]sim.Input{sim.Bot(&s, 0), sim.Bot(&s, 1)}
			r.Inputs = append(r.Inputs, in)
			s.Step(in)
		}
		r.Checksum = s.Checksum()
		b, _ := r.MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte("PPRP"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Replay
		if err := r.UnmarshalBinary(b); err != nil {
			return
		}
		again, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of a decoded replay: %v", err)
		}
		if string(again) != string(b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", again, b)
		}
		_, _ = r.Play()
	})
}
