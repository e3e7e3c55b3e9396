package play

import (
	"encoding/binary"
	"math"
	"time"
)

// Tone returns a beep for the game's sounds: a sine of freq Hz lasting d,
// as 16-bit little-endian stereo PCM at rate samples per second (the
// format ebiten's audio players take), at a quarter of full scale,
// fading out linearly so that it ends without a click.
func Tone(freq float64, d time.Duration, rate int) []byte {
	n := int(d.Seconds() * float64(rate))
	out := make([]byte, 0, n*4)
	for i := range n {
		env := 1 - float64(i)/float64(n)
		v := int16(math.Sin(2*math.Pi*freq*float64(i)/float64(rate)) * env * 0.25 * math.MaxInt16)
		out = binary.LittleEndian.AppendUint16(out, uint16(v))
		out = binary.LittleEndian.AppendUint16(out, uint16(v))
	}
	return out
}
