package lobby

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/lobby/internal/lobbyfb"
	"github.com/peerplay/peerplay/netcode/transport"
)

// junk returns hostile bytes: random noise, bit-flipped valid messages,
// and well-formed messages that make no sense (wrong rounds, wrong
// hashes, from a peer that is not seated). It never returns a Hello or a
// Snapshot, so the attacker stays outside the lobby; those two are
// covered by the decoder fuzz and TestHostileClaim.
func junk(rng *rand.Rand) []byte {
	switch rng.IntN(3) {
	case 0:
		b := make([]byte, rng.IntN(200))
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		if len(b) > 8 && rng.IntN(2) == 0 {
			copy(b[4:], fileID)
		}
		return b
	case 1:
		for {
			s := samples[rng.IntN(len(samples))]
			b := encodeSample(s.typ, s.v)
			for range 1 + rng.IntN(4) {
				b[rng.IntN(len(b))] ^= byte(1 << rng.IntN(8))
			}
			if m, err := decode(b); err == nil && (m.Type == lobbyfb.BodyHello || m.Type == lobbyfb.BodySnapshot) {
				continue
			}
			return b
		}
	default:
		r := uint32(rng.IntN(3))
		h := make([]byte, hashSize)
		h[0] = byte(rng.UintN(256))
		msgs := []struct {
			typ lobbyfb.Body
			v   any
		}{
			{lobbyfb.BodyCommit, &lobbyfb.CommitT{Term: 1, Round: r, Draft: h, Commitment: h}},
			{lobbyfb.BodyReveal, &lobbyfb.RevealT{Term: 1, Round: r, Nonce: h}},
			{lobbyfb.BodyConfirm, &lobbyfb.ConfirmT{Term: 1, Round: r, Match: h}},
			{lobbyfb.BodyLaunch, &lobbyfb.LaunchT{Term: 1, Round: r, Match: h}},
			{lobbyfb.BodyAbort, &lobbyfb.AbortT{Term: 1, Round: r, Reason: lobbyfb.AbortReasonTimeout}},
			{lobbyfb.BodyPropose, &lobbyfb.ProposeT{Term: 1, Round: r + 1, Seats: []string{"zz"}, Teams: []int32{0}, MaxPlayers: 2}},
			{lobbyfb.BodyReject, &lobbyfb.RejectT{Reason: lobbyfb.RejectReasonKicked}},
			{lobbyfb.BodyLeave, &lobbyfb.LeaveT{}},
		}
		m := msgs[rng.IntN(len(msgs))]
		return encodeSample(m.typ, m.v)
	}
}

func TestHostileBytesNeverCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, wan)
		nodes := c.addN(4, Config{})
		attacker := c.Net.Join("zz").Channel("lobby", transport.Reliable)
		rng := rand.New(rand.NewPCG(1, 2))
		storm := func() {
			for range 20 {
				attacker.Broadcast(junk(rng))
			}
			for {
				if _, ok := attacker.TryRecv(); !ok {
					break
				}
			}
		}
		stormUntil := func(what string, cond func() bool) {
			t.Helper()
			for end := time.Now().Add(15 * time.Second); !cond(); c.Step() {
				if time.Now().After(end) {
					t.Fatalf("%s: not reached\n%s", what, c.Dump())
				}
				storm()
			}
		}
		settled := func() bool {
			// The attacker is on the network but never a member.
			s0 := nodes[0].App.State()
			for _, nd := range nodes {
				s := nd.App.State()
				if !s.Joined || s.Host != s0.Host || len(s.Members) != 4 {
					return false
				}
			}
			return true
		}
		stormUntil("one lobby", settled)
		readyAll(t, nodes)
		stormUntil("started", c.allStarted)
		m0, _ := nodes[0].App.Match()
		for _, nd := range nodes {
			m, _ := nd.App.Match()
			if !reflect.DeepEqual(m, m0) || len(m.Seats) != 4 {
				t.Errorf("%s: match %+v, want %+v", nd.ID, m, m0)
			}
			if st := nd.App.Stats(); st.Malformed == 0 || st.Ignored == 0 {
				t.Errorf("%s: stats %+v: the storm went uncounted", nd.ID, st)
			}
		}
	})
}

// A peer that is not the host claiming a lobby with made-up members
// cannot take over: members it lists that are not connected do not count.
func TestHostileClaim(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes := settledCluster(t, 3, Config{})
		attacker := c.Net.Join("a-attacker").Channel("lobby", transport.Reliable)
		fake := &lobbyfb.SnapshotT{Term: 1, Version: 99, Phase: lobbyfb.PhaseOpen, MaxPlayers: 32}
		for i := range 20 {
			fake.Members = append(fake.Members, &lobbyfb.MemberT{Id: "ghost" + string(rune('a'+i))})
		}
		fake.Members[0].Id = "a-attacker"
		attacker.Broadcast(encodeSample(lobbyfb.BodySnapshot, fake))
		c.Run(time.Second)
		for _, nd := range nodes {
			if h := nd.App.State().Host; h != "p0" {
				t.Errorf("%s follows %s", nd.ID, h)
			}
		}
	})
}
