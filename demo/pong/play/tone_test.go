package play

import (
	"encoding/binary"
	"testing"
	"time"
)

func TestTone(t *testing.T) {
	const rate = 48000
	b := Tone(440, 50*time.Millisecond, rate)
	if want := rate / 20 * 4; len(b) != want {
		t.Fatalf("len = %d bytes, want %d (50 ms of 16-bit stereo)", len(b), want)
	}
	sample := func(i int) int16 { return int16(binary.LittleEndian.Uint16(b[i*4:])) }
	peak := int16(0)
	for i := range len(b) / 4 {
		if l, r := sample(i), int16(binary.LittleEndian.Uint16(b[i*4+2:])); l != r {
			t.Fatalf("sample %d: left %d, right %d", i, l, r)
		}
		peak = max(peak, sample(i), -sample(i))
	}
	if peak < 7000 || peak > 8300 {
		t.Errorf("peak %d, want about a quarter of full scale", peak)
	}
	if last := sample(len(b)/4 - 1); last > 50 || last < -50 {
		t.Errorf("the last sample is %d: the tone does not fade out", last)
	}
}
