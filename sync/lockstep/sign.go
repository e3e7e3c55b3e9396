package lockstep

import (
	"encoding/binary"
	"slices"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// Signer signs and checks statements with the peers' identity keys
// (Config.Signer): transport.Signer. Verify must report whether sig is
// peer's signature of msg, with the key that the transport proved belongs
// to peer (false for a peer whose key it does not know). Both may be
// called from Advance.
type Signer = transport.Signer

// connSigner returns the default Signer (Config.Signer nil): the first
// conn's that is a transport.SignerSource, for the seats; or nil.
func connSigner(seats []transport.PeerID, conns ...transport.Conn) Signer {
	for _, c := range conns {
		if src, ok := c.(transport.SignerSource); ok {
			return src.Signer(seats)
		}
	}
	return nil
}

const (
	// maxSig bounds a signature on the wire (one length byte; ed25519: 64
	// bytes, netcode.Signer with a P-256 identity: about 165 with its
	// key); a longer one is not sent (the admission goes out unsigned).
	maxSig   = 255
	signTag  = "PPRS" // domain of a signed admission statement
	ctlProof = uint8(5)
	maxVoid  = 8 // Rs kept per seat from proofs (a liar signs as many as it likes)
)

// signed is a coordinator's signed admission: seat readmitted at r, the
// seat's drop frame d at the coordinator (the attempt), and the signature.
type signed struct {
	coord int
	seat  int
	d, r  Frame
	sig   []byte
}

// statement is what a coordinator signs for an admission: the domain, the
// game tag, the match fingerprint, the coordinator's seat, the seat, its
// drop frame and R. The membership is not in it: it may change while the
// admission runs, and the joiner checks it against every survivor's word.
func (s *Session[I]) statement(a signed) []byte {
	b := make([]byte, 0, 26)
	b = append(b, signTag...)
	b = binary.LittleEndian.AppendUint32(b, s.game)
	b = binary.LittleEndian.AppendUint64(b, s.print)
	b = append(b, uint8(a.coord), uint8(a.seat))
	b = binary.LittleEndian.AppendUint32(b, uint32(a.d))
	return binary.LittleEndian.AppendUint32(b, uint32(a.r))
}

// valid reports whether a is its coordinator's signature (true without a
// Signer: nothing to check). This peer's own admissions are checked the
// same way (an old one's acknowledgement may arrive during a new one).
func (s *Session[I]) valid(a signed) bool {
	if s.cfg.Signer == nil {
		return true
	}
	if a.coord < 0 || a.coord >= s.n || a.seat >= s.n || len(a.sig) == 0 {
		return false
	}
	ok := s.cfg.Signer.Verify(s.seats[a.coord].id, s.statement(a), a.sig)
	if ok {
		s.stats.SignaturesOK++
	}
	return ok
}

// equivocates reports whether two admissions, both validly signed by the
// same coordinator for the same seat, prove that it lied: an honest
// coordinator signs one R per attempt, and its next attempt comes after
// the seat was dropped again, at or after R-1 of the last one. Two
// different statements whose attempts overlap cannot both be honest.
func equivocates(x, y signed) bool {
	return x.coord == y.coord && x.seat == y.seat && (x.d != y.d || x.r != y.r) &&
		y.d < x.r-1 && x.d < y.r-1
}

// appendSigned appends an admission's drop frame and signature: d, length
// (one byte, at most maxSig), signature.
func appendSigned(b []byte, a signed) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(a.d))
	b = append(b, uint8(len(a.sig)))
	return append(b, a.sig...)
}

// parseSigned reads what appendSigned wrote and returns the rest.
func parseSigned(b []byte, a *signed) ([]byte, bool) {
	if len(b) < 5 || int(b[4]) > maxSig || len(b) < 5+int(b[4]) {
		return nil, false
	}
	a.d = Frame(int32(binary.LittleEndian.Uint32(b)))
	n := int(b[4])
	a.sig = append([]byte(nil), b[5:5+n]...)
	return b[5+n:], true
}

// proofBody encodes a proof that x's coordinator lied: coordinator, seat,
// then both admissions (R, drop frame, signature).
func (s *Session[I]) proofBody(x, y signed) []byte {
	b := appendCtl(nil, ctlProof, s.game)
	b = append(b, uint8(x.coord), uint8(x.seat))
	for _, a := range []signed{x, y} {
		b = binary.LittleEndian.AppendUint32(b, uint32(a.r))
		b = appendSigned(b, a)
	}
	return b
}

// onProof checks a forwarded proof (any survivor may send one: it cannot
// forge the coordinator's signatures).
func (s *Session[I]) onProof(now time.Time, body []byte) {
	if s.cfg.Signer == nil || len(body) < 2 {
		s.stats.Dropped.Malformed++
		return
	}
	var a [2]signed
	rest := body[2:]
	for i := range a {
		a[i].coord, a[i].seat = int(body[0]), int(body[1])
		if len(rest) < 4 {
			s.stats.Dropped.Malformed++
			return
		}
		a[i].r = Frame(int32(binary.LittleEndian.Uint32(rest)))
		var ok bool
		if rest, ok = parseSigned(rest[4:], &a[i]); !ok {
			s.stats.Dropped.Malformed++
			return
		}
	}
	if len(rest) != 0 || a[0].coord == s.me || !equivocates(a[0], a[1]) || !s.valid(a[0]) || !s.valid(a[1]) {
		s.stats.Dropped.Malformed++
		return
	}
	s.proven(now, a[0], a[1])
}

// proven: the coordinator of x and y lied (equivocates). This peer refuses
// the admission (its gate stays shut: opening or moving it could split
// from a survivor that saw another R), names the coordinator, votes
// against it for as long as the proof is fresh and forwards the proof
// once to every survivor.
func (s *Session[I]) proven(now time.Time, x, y signed) {
	c := x.coord
	if a := &s.admit; a.seat == x.seat && a.coord == c && a.d == x.d && s.joinedFrom[x.seat] == a.frame {
		for _, r := range []Frame{x.r, y.r} {
			if !slices.Contains(s.voidR[x.seat], r) && len(s.voidR[x.seat]) < maxVoid {
				s.voidR[x.seat] = append(s.voidR[x.seat], r)
			}
		}
	}
	s.stats.Dropped.Refused++
	s.refuse(c, reasonEquivocation)
	s.seats[c].conflictAt = now
	if s.proved[c] {
		return
	}
	s.proved[c] = true
	s.cfg.Logger.Warn("lockstep: coordinator signed two admissions", "seat", c, "admitted", x.seat, "r1", x.r, "r2", y.r)
	b := s.proofBody(x, y)
	for t := range s.seats {
		if t != c && s.survivor(t) {
			_ = s.cfg.Control.Send(s.seats[t].id, b)
		}
	}
}

// voidable reports whether a survivor that holds seat l's inputs up to rep
// (a drop agreement) agrees with this peer on dropping l although their
// holdings differ: l's admission is proven a lie (both this peer's R and
// the survivor's are ones the coordinator signed) and this peer never
// heard l since. Nobody ran a frame with l's input then: an honest
// survivor opens its gate only when every other one acknowledged its R.
func (s *Session[I]) voidable(l int, rep Frame) bool {
	rs := s.voidR[l]
	return s.seats[l].hold == s.joinedFrom[l]-1 && slices.Contains(rs, s.joinedFrom[l]) && slices.Contains(rs, rep+1)
}

// void reports whether seat l, being dropped, is dropped as if the
// proven liar's admission never happened: at the frame of its last drop
// (the same at every survivor, unlike each one's R). Its frames between
// that drop and R were the zero input anyway (the gap), as are all after
// a drop, so the frames run do not change; the next admission of l then
// names the same drop frame at every survivor.
func (s *Session[I]) void(l int) bool {
	return len(s.voidR[l]) > 0 && s.voidable(l, s.seats[l].hold)
}
