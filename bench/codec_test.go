package bench

import (
	"reflect"
	"strconv"
	"testing"
)

func TestBaselineRoundTrip(t *testing.T) {
	for _, seats := range []int{2, 4, 8, 16} {
		for _, extras := range []bool{false, true} {
			want := BaselineSample(seats, 8, extras)
			want.Lost = 0b10
			buf := want.AppendEncode(nil)
			if len(buf) != want.Size() {
				t.Errorf("seats=%d extras=%v: encoded %d bytes, Size() = %d", seats, extras, len(buf), want.Size())
			}
			var got BaselinePacket
			if err := got.Decode(buf); err != nil {
				t.Fatalf("seats=%d extras=%v: Decode: %v", seats, extras, err)
			}
			if string(got.Inputs) != string(want.Inputs) {
				t.Errorf("seats=%d: inputs %x, want %x", seats, got.Inputs, want.Inputs)
			}
			got.Inputs, want.Inputs = nil, nil
			if !reflect.DeepEqual(got, *want) {
				t.Errorf("seats=%d extras=%v:\ngot  %+v\nwant %+v", seats, extras, got, *want)
			}
		}
	}
}

func TestBaselineRejects(t *testing.T) {
	good := BaselineSample(2, 8, true).AppendEncode(nil)
	bad := func(i int, v byte) []byte {
		b := append([]byte(nil), good...)
		b[i] = v
		return b
	}
	for _, tc := range []struct {
		name string
		buf  []byte
	}{
		{"empty", nil},
		{"short", good[:20]},
		{"truncated", good[:len(good)-1]},
		{"trailing", append(append([]byte(nil), good...), 0)},
		{"magic", bad(0, 'X')},
		{"kind", bad(4, 2)},
		{"flags", bad(5, 0x80)},
		{"input size 0", bad(7, 0)},
	} {
		var p BaselinePacket
		if err := p.Decode(tc.buf); err != ErrBaseline {
			t.Errorf("%s: Decode = %v, want ErrBaseline", tc.name, err)
		}
	}
}

func FuzzBaselineDecode(f *testing.F) {
	for _, seats := range []int{2, 3, 8} {
		f.Add(BaselineSample(seats, 1, false).AppendEncode(nil))
		f.Add(BaselineSample(seats, 8, true).AppendEncode(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p BaselinePacket
		if p.Decode(b) != nil {
			return
		}
		if again := p.AppendEncode(nil); string(again) != string(b) {
			t.Fatalf("decode/encode changed the datagram:\n%x\n%x", b, again)
		}
	})
}

// BenchmarkCodecBaseline is the hand-written yardstick of the lockstep
// wire's FlatBuffers codec (BenchmarkEncode/BenchmarkDecode in
// sync/lockstep/internal/wire, same packets: "Nseats" busy, "Nseats-steady"
// the common datagram): one op encodes or decodes one datagram; bytes is
// its size.
func BenchmarkCodecBaseline(b *testing.B) {
	for _, seats := range []int{2, 4, 8} {
		for _, c := range []struct {
			suffix string
			p      *BaselinePacket
		}{{"", BaselineSample(seats, 8, true)}, {"-steady", BaselineSample(seats, 1, false)}} {
			name := strconv.Itoa(seats) + "seats" + c.suffix
			b.Run("encode/"+name, func(b *testing.B) {
				buf := make([]byte, 0, 1024)
				b.ReportAllocs()
				for b.Loop() {
					buf = c.p.AppendEncode(buf[:0])
				}
				b.ReportMetric(float64(len(buf)), "bytes")
			})
			b.Run("decode/"+name, func(b *testing.B) {
				buf := c.p.AppendEncode(nil)
				var q BaselinePacket
				b.ReportAllocs()
				for b.Loop() {
					if err := q.Decode(buf); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(buf)), "bytes")
			})
		}
	}
}
