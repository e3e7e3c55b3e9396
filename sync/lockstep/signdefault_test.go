package lockstep_test

import (
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// sourceConn is a Conn whose transport proves keys, as netcode's channels
// do (transport.SignerSource): it gives sg to any group, and records the
// group it was asked for.
type sourceConn struct {
	transport.Conn
	sg    lockstep.Signer
	group []transport.PeerID
}

func (c *sourceConn) Signer(group []transport.PeerID) transport.Signer {
	c.group = slices.Clone(group)
	return c.sg
}

// countSigner counts its Sign calls.
type countSigner struct {
	lockstep.Signer
	signs *atomic.Int64
}

func (s countSigner) Sign(msg []byte) ([]byte, error) {
	s.signs.Add(1)
	return s.Signer.Sign(msg)
}

// longSigner signs with 300 bytes: more than an admission carries (an RSA
// identity's netcode signature).
type longSigner struct{ lockstep.Signer }

func (longSigner) Sign([]byte) ([]byte, error) { return make([]byte, 300), nil }

// TestDefaultSigner: with no Config.Signer, a session on a Conn that is a
// transport.SignerSource signs with its Signer, asked for the seats (the
// Control channel's when the game Conn is not one); Unsigned turns it
// off, an explicit Config.Signer wins, and no Control means no signing.
func TestDefaultSigner(t *testing.T) {
	ids := []transport.PeerID{"p0", "p1", "p2"}
	keys := newKeys(ids...)
	var fromSrc, explicit atomic.Int64
	for _, tc := range []struct {
		name        string
		onGame      bool // the source is the game Conn (else Control)
		noControl   bool
		unsigned    bool
		cfgSigner   bool
		wantSigning bool
	}{
		{name: "game conn", onGame: true, wantSigning: true},
		{name: "control", wantSigning: true},
		{name: "unsigned", onGame: true, unsigned: true},
		{name: "no control", onGame: true, noControl: true},
		{name: "explicit wins", onGame: true, cfgSigner: true, wantSigning: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := memnet.New(memnet.Config{Seed: 1})
			defer n.Close()
			peer := n.Join("p0")
			src := &sourceConn{sg: countSigner{edSigner{keys: keys, me: "p0"}, &fromSrc}}
			var game, ctl transport.Conn = peer.Channel("ls", transport.Unreliable), peer.Channel("ctl", transport.Reliable)
			if tc.onGame {
				src.Conn, game = game, src
			} else {
				src.Conn, ctl = ctl, src
			}
			cfg := lockstep.Config{Seats: ids, GameID: 9, Control: ctl, Unsigned: tc.unsigned}
			if tc.noControl {
				cfg.Control = nil
			}
			if tc.cfgSigner {
				cfg.Signer = countSigner{edSigner{keys: keys, me: "p0"}, &explicit}
			}
			s, err := lockstep.NewSession[input](game, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.Stats().Signing; got != tc.wantSigning {
				t.Errorf("Signing %v, want %v", got, tc.wantSigning)
			}
			if tc.wantSigning && !tc.cfgSigner && !slices.Equal(src.group, ids) {
				t.Errorf("asked the source for %v, want the seats %v", src.group, ids)
			}
			if tc.cfgSigner && src.group != nil {
				t.Errorf("asked the source although Config.Signer is set")
			}
		})
	}
}

// TestDefaultSignerRejoin: 4 seats, no Config.Signer, every game Conn a
// SignerSource; seat 3 is reserved (a newcomer) and joins at tick 60. The
// coordinator signs the admission with the default Signer, the survivors
// check it, and the newcomer plays. With a Signer whose signatures do not
// fit (300 bytes), the coordinator does not admit: the newcomer waits
// and the survivors play on without the stall of an admission every
// survivor would refuse.
func TestDefaultSignerRejoin(t *testing.T) {
	for _, long := range []bool{false, true} {
		t.Run(map[bool]string{false: "signed", true: "signature too long"}[long], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := memnet.New(memnet.Config{Seed: 7, Link: memnet.Link{Latency: 10 * time.Millisecond}})
				defer n.Close()
				ids := []transport.PeerID{"p0", "p1", "p2", "p3"}
				keys := newKeys(ids...)
				var signs atomic.Int64
				ss := make([]*lockstep.Session[input], 4)
				start := func(i int, join bool) {
					peer := n.Join(ids[i])
					var sg lockstep.Signer = countSigner{edSigner{keys: keys, me: ids[i]}, &signs}
					if long {
						sg = longSigner{sg}
					}
					s, err := lockstep.NewSession[input](&sourceConn{Conn: peer.Channel("ls", transport.Unreliable), sg: sg},
						lockstep.Config{Seats: ids, Reserved: ids[3:], GameID: 9, InputDelay: 2, Join: join,
							Control: peer.Channel("ctl", transport.Reliable)})
					if err != nil {
						t.Fatal(err)
					}
					ss[i] = s
				}
				for i := range 3 {
					start(i, false)
				}
				stall := make([]int, 4)
				last := make([]int, 4)
				for tick := range 900 {
					if tick == 60 {
						start(3, true)
					}
					for i, s := range ss {
						if s == nil {
							continue
						}
						steps, err := s.Advance(input{Buttons: uint8(tick + i)})
						if err != nil && !(i == 3 && errors.Is(err, lockstep.ErrDropped)) {
							t.Fatalf("seat %d at tick %d: %v", i, tick, err)
						}
						if len(steps) > 0 {
							if last[i] > 0 {
								stall[i] = max(stall[i], tick-last[i])
							}
							last[i] = tick
						}
						s.PollEvents()
					}
					time.Sleep(time.Second / 60)
				}
				for _, s := range ss {
					_ = s.Close()
				}
				for i := range 3 {
					st := ss[i].Stats()
					if !st.Signing {
						t.Errorf("seat %d does not sign", i)
					}
					if last[i] < 890 {
						t.Errorf("seat %d froze at tick %d", i, last[i])
					}
					if !long && st.SignaturesOK == 0 {
						t.Errorf("seat %d checked no admission signature", i)
					}
				}
				if long {
					if r := ss[3].JoinFrame(); r != lockstep.NoFrame {
						t.Errorf("admitted at %d with a signature that does not fit", r)
					}
					if s := max(stall[0], stall[1], stall[2]); s > 10 {
						t.Errorf("survivors stalled %d ticks for an admission nobody accepts", s)
					}
				} else if r := ss[3].JoinFrame(); r == lockstep.NoFrame || last[3] < 890 {
					t.Errorf("newcomer not playing: admitted at %d, last step at tick %d", r, last[3])
				}
				t.Logf("signatures made %d, longest stalls %v ticks, newcomer admitted at %d", signs.Load(), stall, ss[3].JoinFrame())
			})
		})
	}
}
