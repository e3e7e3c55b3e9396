package netcode

import (
	"testing"

	"github.com/peerplay/peerplay/netcode/transport"
)

// testSigner is a fresh identity and its Signer.
func testSigner(tb testing.TB) (*Identity, *Signer) {
	tb.Helper()
	id, err := NewIdentity()
	if err != nil {
		tb.Fatal(err)
	}
	s, err := NewSigner(id)
	if err != nil {
		tb.Fatal(err)
	}
	return id, s
}

func TestSignerSignVerify(t *testing.T) {
	a, sa := testSigner(t)
	b, sb := testSigner(t)
	msg := []byte("PPRS admission")
	sig, err := sa.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) > 255 {
		t.Errorf("a P-256 signature takes %d bytes: it must fit lockstep's one-byte length", len(sig))
	}
	if !sb.Verify(a.ID(), msg, sig) {
		t.Error("a's signature does not verify as a's")
	}
	if sb.Verify(b.ID(), msg, sig) {
		t.Error("a's signature verifies as b's: a peer could sign for another")
	}
	if sb.Verify(a.ID(), []byte("PPRS other"), sig) {
		t.Error("a's signature verifies another message")
	}
	bad := append([]byte(nil), sig...)
	bad[len(bad)-1] ^= 1
	if sb.Verify(a.ID(), msg, bad) {
		t.Error("a tampered signature verifies")
	}
	if sb.Verify("~browser", msg, sig) || sb.Verify(a.ID(), msg, sig[:10]) || sb.Verify(a.ID(), msg, nil) {
		t.Error("malformed input verifies")
	}
}

// FuzzSignerVerify: Verify reads a signature off the wire (a lockstep
// acknowledgement carries another peer's): never a panic, never true for
// a key whose ID is not the peer's.
func FuzzSignerVerify(f *testing.F) {
	a, sa := testSigner(f)
	sig, err := sa.Sign([]byte("m"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("m"), sig)
	f.Add([]byte{}, []byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, msg, sig []byte) {
		if sa.Verify("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", msg, sig) {
			t.Fatal("verified for an ID no key has")
		}
		_ = sa.Verify(a.ID(), msg, sig)
	})
}

// TestChannelSignerSource: a channel gives its mesh's Signer for a group
// of key-derived IDs (lockstep's default Signer), none if one of them is
// a browser ID (it proves no key) or if the mesh has no identity (the
// browser build), so that every peer of a group decides alike.
func TestChannelSignerSource(t *testing.T) {
	a, sa := testSigner(t)
	b, _ := testSigner(t)
	var c transport.Conn = &channel{m: &Mesh{signer: sa}}
	src, ok := c.(transport.SignerSource)
	if !ok {
		t.Fatal("a netcode channel is not a transport.SignerSource")
	}
	if got := src.Signer([]transport.PeerID{a.ID(), b.ID()}); got != transport.Signer(sa) {
		t.Errorf("key-derived group: Signer %v, want the mesh's", got)
	}
	if got := src.Signer([]transport.PeerID{a.ID(), newBrowserID()}); got != nil {
		t.Errorf("group with a browser ID: Signer %v, want nil", got)
	}
	if got := (&channel{m: &Mesh{}}).Signer([]transport.PeerID{a.ID()}); got != nil {
		t.Errorf("mesh without an identity: Signer %v, want nil", got)
	}
}
