package sim

import (
	"testing"
)

// TestGolden pins whole bot-vs-bot matches: frames, score and final checksum.
// A change here means old replays and mixed-version peers no longer agree;
// the values must be identical on every GOARCH (run it under wasm too:
// GOOS=js GOARCH=wasm go test -exec="$(go env GOROOT)/lib/wasm/go_js_wasm_exec").
func TestGolden(t *testing.T) {
	tests := []struct {
		seed     uint64
		frames   uint32
		score    [2]int32
		checksum uint64
	}{
		{0, 1787, [2]int32{0, 5}, 0xa168ecb9bd740a57},
		{1, 6691, [2]int32{4, 5}, 0xf81088a85b7fee64},
		{42, 4621, [2]int32{5, 3}, 0x2b992fd8b843ea0b},
	}
	for _, tt := range tests {
		s := play(t, Config{Seed: tt.seed}, 1_000_000)
		if s.Frame != tt.frames || s.Score != tt.score || s.Checksum() != tt.checksum {
			t.Errorf("seed %d: frames %d, score %v, checksum %#x; want %d, %v, %#x",
				tt.seed, s.Frame, s.Score, s.Checksum(), tt.frames, tt.score, tt.checksum)
		}
	}
}

// TestForkedStatesAgree steps copies of one state with the same inputs and
// checks they never diverge; a copy is a full fork (no shared slices).
func TestForkedStatesAgree(t *testing.T) {
	a := New(Config{Seed: 99, WinScore: 3})
	var b State
	rng := uint64(12345)
	for i := range 20000 {
		if i == 1000 {
			b = a
		}
		rng = rng*6364136223846793005 + 1442695040888963407
		in := [2]Input{{Buttons: uint8(rng >> 60)}, Bot(&a, 1)}
		if i >= 1000 {
			in2 := [2]Input{in[0], Bot(&b, 1)}
			b.Step(in2)
		}
		a.Step(in)
		if i >= 1000 && a.Checksum() != b.Checksum() {
			t.Fatalf("frame %d: fork diverged: %#x vs %#x", a.Frame, a.Checksum(), b.Checksum())
		}
	}
}
