package lockstep_test

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"math/bits"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// edKeys are the test peers' identity keys: what netcode proves with each
// link's DTLS certificate, here known to every peer from the start.
type edKeys map[transport.PeerID]ed25519.PrivateKey

func newKeys(ids ...transport.PeerID) edKeys {
	k := edKeys{}
	for i, id := range ids {
		seed := make([]byte, ed25519.SeedSize)
		seed[0] = byte(i + 1)
		k[id] = ed25519.NewKeyFromSeed(seed)
	}
	return k
}

// edSigner is one peer's lockstep.Signer over edKeys.
type edSigner struct {
	keys edKeys
	me   transport.PeerID
}

func (s edSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.keys[s.me], msg), nil }

func (s edSigner) Verify(peer transport.PeerID, msg, sig []byte) bool {
	k, ok := s.keys[peer]
	return ok && ed25519.Verify(k.Public().(ed25519.PublicKey), msg, sig)
}

// seed0Print is the match fingerprint of Seed 0 and no Settings (8 bytes
// of SHA-256 of eight zero bytes).
const seed0Print = "\xaf\x55\x70\xf5\xa1\x81\x0b\x7a"

// signSplitConn is a lying coordinator that signs what it lies: its
// admissions toward victim carry R+delta, signed with its own key (what
// a lying coordinator process can do), so the victim accepts them.
type signSplitConn struct {
	transport.Conn
	key    ed25519.PrivateKey
	victim transport.PeerID
	delta  int32
}

func (c *signSplitConn) Send(to transport.PeerID, p []byte) error {
	if to != c.victim || len(p) < 18 || string(p[:4]) != "PPR5" || p[4] != 2 {
		return c.Conn.Send(to, p)
	}
	p = append([]byte(nil), p...)
	r := int32(binary.LittleEndian.Uint32(p[10:])) + c.delta
	binary.LittleEndian.PutUint32(p[10:], uint32(r))
	at := 18 + 4*bits.OnesCount16(binary.LittleEndian.Uint16(p[14:])) + 8 // drop frames, occupant
	d := p[at : at+4]
	st := append([]byte("PPRS"), p[5:9]...) // game tag
	st = append(append(st, seed0Print...), 0, p[9])
	st = binary.LittleEndian.AppendUint32(append(st, d...), uint32(r))
	copy(p[at+5:], ed25519.Sign(c.key, st))
	return c.Conn.Send(to, p)
}

// TestRedteamCoordSplitVotesHonestOut (review1; signed since control
// version 5): the coordinator (seat 0 of 6) admits the newcomer in
// reserved seat 5 at R+10 toward seat 1 and at R toward seats 2, 3, 4.
// Without signatures each honest seat voted against every seat whose
// acknowledgement differed from its admission: seats 2, 3, 4 voted seat 1
// out (a majority of the 5 members, no liar's vote needed) at tick 99,
// 0.65 s after the newcomer's request. With Config.Signer every
// acknowledgement carries the coordinator's signed admission, and two
// different ones for one seat and attempt prove the coordinator lied:
// the honest seats name it and vote it out, and no honest seat is dropped.
func TestRedteamCoordSplitVotesHonestOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Seed: 5, Link: memnet.Link{Latency: 10 * time.Millisecond}})
		defer n.Close()
		ids := []transport.PeerID{"p0", "p1", "p2", "p3", "p4", "p5"}
		keys := newKeys(ids...)
		ss := make([]*lockstep.Session[input], 6)
		ended := make([]error, 6)
		endTick := make([]int, 6)
		lastTick := make([]int, 6)
		stall := make([]int, 6)
		named := make([]bool, 6)
		start := func(i int, join bool) {
			peer := n.Join(ids[i])
			var ctl transport.Conn = peer.Channel("ctl", transport.Reliable)
			if i == 0 {
				ctl = &signSplitConn{Conn: ctl, key: keys["p0"], victim: "p1", delta: 10}
			}
			s, err := lockstep.NewSession[input](peer.Channel("ls", transport.Unreliable),
				lockstep.Config{Seats: ids, Reserved: ids[5:], GameID: 9, Control: ctl, Join: join, InputDelay: 2,
					Signer: edSigner{keys: keys, me: ids[i]}})
			if err != nil {
				t.Fatal(err)
			}
			ss[i] = s
		}
		for i := range 5 {
			start(i, false)
		}
		for tick := range 1800 {
			if tick == 60 {
				start(5, true)
			}
			for i, s := range ss {
				if s == nil || ended[i] != nil {
					continue
				}
				steps, err := s.Advance(input{Buttons: uint8(tick + i), Dx: int16(i)})
				if errors.Is(err, lockstep.ErrDropped) || i == 0 && err != nil { // the liar: dropped or cut off
					ended[i], endTick[i] = err, tick
					continue
				}
				if err != nil {
					t.Fatalf("seat %d: %v", i, err)
				}
				if len(steps) > 0 {
					if lastTick[i] > 0 {
						stall[i] = max(stall[i], tick-lastTick[i])
					}
					lastTick[i] = tick
				}
				for _, e := range s.PollEvents() {
					if e.Kind == lockstep.EventRefused && e.Seat == 0 && e.Reason != "" {
						named[i] = true
					}
				}
			}
			time.Sleep(time.Second / 60)
		}
		for _, s := range ss {
			_ = s.Close()
		}
		for i := 1; i <= 4; i++ {
			if ended[i] != nil {
				t.Errorf("honest seat %d dropped at tick %d: %v", i, endTick[i], ended[i])
			}
			if !named[i] {
				t.Errorf("honest seat %d never named the coordinator", i)
			}
			if lastTick[i] < 1700 {
				t.Errorf("honest seat %d froze at tick %d", i, lastTick[i])
			}
		}
		if ended[0] == nil {
			t.Errorf("the lying coordinator was not dropped")
		}
		t.Logf("coordinator dropped at tick %d, newcomer joined at %d, longest stalls %v ticks", endTick[0], ss[5].JoinFrame(), stall)
	})
}

// signedAdmission is coordinator c's signature of an admission of seat at
// r, the seat dropped at d (the layout sign.go signs; GameID 9, Seed 0).
func signedAdmission(key ed25519.PrivateKey, c, seat byte, d, r int32) []byte {
	st := binary.LittleEndian.AppendUint32([]byte("PPRS"), 9)
	st = append(append(st, seed0Print...), c, seat)
	st = binary.LittleEndian.AppendUint32(st, uint32(d))
	return ed25519.Sign(key, binary.LittleEndian.AppendUint32(st, uint32(r)))
}

// TestRedteamEquivocationProofForwarded: seat 3 of 4 holds two
// admissions of seat 2 that seat 0 signed at different frames for one
// attempt (a coordinator's lie) and sends the proof to seat 1 alone.
// Seat 1 checks both signatures, names seat 0, and forwards the proof to
// seat 2, so that three seats vote seat 0 out. A proof whose signatures
// are not seat 0's (forged by seat 3) is malformed and changes nothing.
func TestRedteamEquivocationProofForwarded(t *testing.T) {
	for _, forged := range []bool{false, true} {
		t.Run(map[bool]string{false: "signed", true: "forged"}[forged], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := memnet.New(memnet.Config{Seed: 3, Link: memnet.Link{Latency: 10 * time.Millisecond}})
				defer n.Close()
				ids := []transport.PeerID{"p0", "p1", "p2", "p3"}
				keys := newKeys(ids...)
				ss := make([]*lockstep.Session[input], 4)
				ctls := make([]transport.Conn, 4)
				for i := range ss {
					peer := n.Join(ids[i])
					ctls[i] = peer.Channel("ctl", transport.Reliable)
					s, err := lockstep.NewSession[input](peer.Channel("ls", transport.Unreliable),
						lockstep.Config{Seats: ids, GameID: 9, Control: ctls[i], InputDelay: 2, Signer: edSigner{keys: keys, me: ids[i]}})
					if err != nil {
						t.Fatal(err)
					}
					ss[i] = s
				}
				signer := keys["p0"]
				if forged {
					signer = keys["p3"]
				}
				proof := binary.LittleEndian.AppendUint32([]byte("PPR5\x05"), 9)
				proof = append(proof, 0, 2) // coordinator 0, seat 2
				for _, r := range []int32{100, 110} {
					sig := signedAdmission(signer, 0, 2, 50, r)
					proof = binary.LittleEndian.AppendUint32(proof, uint32(r))
					proof = binary.LittleEndian.AppendUint32(proof, 50)
					proof = append(append(proof, byte(len(sig))), sig...)
				}
				ended := make([]error, 4)
				named := make([]bool, 4)
				for tick := range 600 {
					if tick == 30 {
						_ = ctls[3].Send("p1", proof)
					}
					for i, s := range ss {
						if ended[i] != nil {
							continue
						}
						if _, err := s.Advance(input{Buttons: uint8(tick + i)}); err != nil {
							ended[i] = err
							continue
						}
						for _, e := range s.PollEvents() {
							named[i] = named[i] || e.Kind == lockstep.EventRefused && e.Seat == 0
						}
					}
					time.Sleep(time.Second / 60)
				}
				for _, s := range ss {
					_ = s.Close()
				}
				for i := 1; i < 4; i++ {
					if ended[i] != nil {
						t.Errorf("seat %d ended: %v", i, ended[i])
					}
				}
				if forged {
					if ended[0] != nil || named[1] || named[2] {
						t.Errorf("a forged proof had effect: seat 0 ended %v, named by 1: %v, by 2: %v", ended[0], named[1], named[2])
					}
					if m := ss[1].Stats().Dropped.Malformed; m == 0 {
						t.Error("the forged proof was not counted as malformed")
					}
					return
				}
				if !named[1] || !named[2] {
					t.Errorf("seat 0 named by seat 1: %v, by seat 2 (forwarded): %v", named[1], named[2])
				}
				if !errors.Is(ended[0], lockstep.ErrDropped) {
					t.Errorf("the proven liar was not dropped: %v", ended[0])
				}
			})
		})
	}
}
