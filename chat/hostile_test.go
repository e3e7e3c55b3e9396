package chat

import (
	"math/rand/v2"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/chat/internal/chatfb"
	"github.com/peerplay/peerplay/internal/pubsubfb"
	"github.com/peerplay/peerplay/netcode/transport"
)

// junk returns hostile bytes: noise, bit-flipped valid messages, and
// well-formed publications with bad lines or absurd numbers. Anything that
// decodes to a Hello, History or Clock is left out: a peer that speaks
// the protocol but never advances its clock stalls the order for
// MaxDelay, which TestStalledPeerDelaysAtMostMaxDelay covers.
func junk(rng *rand.Rand, seq *uint64) []byte {
	for {
		var b []byte
		switch rng.IntN(3) {
		case 0:
			b = make([]byte, rng.IntN(300))
			for i := range b {
				b[i] = byte(rng.UintN(256))
			}
			if len(b) > 8 && rng.IntN(2) == 0 {
				copy(b[4:], busID)
			}
		case 1:
			s := busSamples[rng.IntN(len(busSamples))]
			b = encodeBus(s.typ, s.v)
			for range 1 + rng.IntN(4) {
				b[rng.IntN(len(b))] ^= byte(1 << rng.IntN(8))
			}
		default:
			*seq++
			payload := encodeLineBytes(line{kind: chatfb.Kind(rng.IntN(4)), text: "\xff\x00junk\u202e", name: "\x07"})
			if rng.IntN(2) == 0 {
				payload[rng.IntN(len(payload))] ^= 0xff
			}
			b = encodeBus(pubsubfb.BodyPublish, &pubsubfb.PublishT{
				Seq: *seq, Stamp: []uint64{1 + rng.Uint64N(maxStamp-1), 1 + rng.Uint64N(1000)}[rng.IntN(2)], Topic: []string{topicAll, topicDirect, topicProfile, "x"}[rng.IntN(4)],
				To: [][]string{nil, {"p0"}, {"nobody"}}[rng.IntN(3)], Payload: payload,
			})
		}
		if m, err := decodeBus(b); err == nil && m.Type != pubsubfb.BodyPublish {
			continue
		}
		return b
	}
}

func TestHostileBytesNeverCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		nodes := c.addN(4, Config{Bus: BusConfig{Rate: 20, Burst: 20}})
		attacker := c.Net.Join("zz").Channel("chat", transport.Reliable)
		rng := rand.New(rand.NewPCG(5, 5))
		seq := uint64(1) << 52 // above what a bit flip of a sample reaches, mostly
		for i := range 300 {
			for range 10 {
				attacker.Broadcast(junk(rng, &seq))
			}
			for {
				if _, ok := attacker.TryRecv(); !ok {
					break
				}
			}
			if i%10 == 0 {
				nd := nodes[i/10%4]
				if err := nd.App.Say("honest"); err != nil {
					t.Fatal(err)
				}
			}
			c.Step()
		}
		c.Run(3 * time.Second)
		honest := func(nd *node) []key {
			return keys(slices.DeleteFunc(texts(nd), func(m Message) bool { return m.From == "zz" }))
		}
		want := honest(nodes[0])
		if len(want) != 30 {
			t.Errorf("%d honest lines, want 30", len(want))
		}
		for _, nd := range nodes {
			if got := honest(nd); !slices.Equal(got, want) {
				t.Errorf("%s: honest lines %v, want %v", nd.ID, got, want)
			}
			for _, m := range texts(nd) {
				if m.From == "zz" {
					t.Errorf("%s shows a junk line %+v", nd.ID, m)
				}
			}
			st := nd.App.Stats()
			if st.Bus.Malformed == 0 || st.Rejected == 0 || st.Bus.Throttled == 0 || st.Bus.Refused == 0 {
				t.Errorf("%s: stats %+v: the storm went uncounted", nd.ID, st)
			}
		}
	})
}
