package bench

import (
	"reflect"
	"strconv"
	"testing"
)

func TestBaselineRoundTrip(t *testing.T) {
	for _, seats := range []int{2, 4, 8, 16} {
		want := BaselineSample(seats)
		buf := want.AppendEncode(nil)
		if len(buf) != want.Size() {
			t.Errorf("seats=%d: encoded %d bytes, Size() = %d", seats, len(buf), want.Size())
		}
		var got BaselinePacket
		if err := got.Decode(buf); err != nil {
			t.Fatalf("seats=%d: Decode: %v", seats, err)
		}
		if string(got.Inputs) != string(want.Inputs) {
			t.Errorf("seats=%d: inputs %x, want %x", seats, got.Inputs, want.Inputs)
		}
		got.Inputs, want.Inputs = nil, nil
		if !reflect.DeepEqual(got, *want) {
			t.Errorf("seats=%d: got %+v, want %+v", seats, got, *want)
		}
	}
}

func TestBaselineRejects(t *testing.T) {
	good := BaselineSample(2).AppendEncode(nil)
	for _, tc := range []struct {
		name string
		buf  []byte
	}{
		{"empty", nil},
		{"short", good[:20]},
		{"truncated", good[:len(good)-1]},
		{"trailing", append(append([]byte(nil), good...), 0)},
		{"magic", append([]byte("XXXX"), good[4:]...)},
	} {
		var p BaselinePacket
		if err := p.Decode(tc.buf); err != ErrBaseline {
			t.Errorf("%s: Decode = %v, want ErrBaseline", tc.name, err)
		}
	}
}

func FuzzBaselineDecode(f *testing.F) {
	for _, seats := range []int{1, 2, 8} {
		f.Add(BaselineSample(seats).AppendEncode(nil))
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
// sync/lockstep/internal/wire, same packet content): one op encodes or
// decodes one Frame datagram; bytes is its size.
func BenchmarkCodecBaseline(b *testing.B) {
	for _, seats := range []int{2, 4, 8} {
		p := BaselineSample(seats)
		b.Run("encode/"+strconv.Itoa(seats)+"seats", func(b *testing.B) {
			buf := make([]byte, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				buf = p.AppendEncode(buf[:0])
			}
			b.ReportMetric(float64(len(buf)), "bytes")
		})
		b.Run("decode/"+strconv.Itoa(seats)+"seats", func(b *testing.B) {
			buf := p.AppendEncode(nil)
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
