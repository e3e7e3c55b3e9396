package netcode

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"fmt"

	"github.com/peerplay/peerplay/netcode/transport"
)

// Signer signs statements with a mesh identity and checks other peers'
// signatures against their PeerIDs. It implements transport.Signer
// (lockstep.Signer: the signed admissions of sync/lockstep's rejoin); a
// mesh's channels give their mesh's (transport.SignerSource), so
// lockstep signs by default over a mesh.
//
// A signature is self-certifying: the signer's public key (DER
// SubjectPublicKeyInfo, 2-byte length first) followed by the key's
// signature of SHA-256(msg). Verify accepts it only if the key's PeerID
// (PeerIDOf) is the claimed peer, the ID DTLS proves on every link, so a
// peer cannot sign for another. Sizes: ECDSA P-256 about 165 bytes,
// P-384 about 226; an RSA identity's (over 550 bytes) does not fit
// lockstep's one-byte length: a lockstep coordinator with one does not
// admit (the others would refuse an unsigned admission). Browser IDs ("~...") prove no key: Verify reports false.
// A Signer is safe for concurrent use.
type Signer struct {
	key  crypto.Signer
	spki []byte
}

// NewSigner returns the Signer of an identity.
func NewSigner(id *Identity) (*Signer, error) {
	if id == nil {
		return nil, fmt.Errorf("%w: nil identity", ErrIdentity)
	}
	der, err := x509.MarshalPKIXPublicKey(id.key.Public())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrIdentity, err)
	}
	return &Signer{key: id.key, spki: der}, nil
}

// Sign signs msg (see Signer for the layout).
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	d := sha256.Sum256(msg)
	sig, err := s.key.Sign(rand.Reader, d[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("netcode: signing: %w", err)
	}
	b := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(s.spki)+len(sig)), uint16(len(s.spki)))
	return append(append(b, s.spki...), sig...), nil
}

// Verify reports whether sig is peer's signature of msg: the key in sig
// has peer's ID and signed SHA-256(msg). Malformed input is false.
func (s *Signer) Verify(peer transport.PeerID, msg, sig []byte) bool {
	if !keyID(peer) || len(sig) < 2 {
		return false
	}
	n := int(binary.BigEndian.Uint16(sig))
	if len(sig) < 2+n {
		return false
	}
	der, raw := sig[2:2+n], sig[2+n:]
	if idOfSPKI(der) != peer {
		return false
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return false
	}
	d := sha256.Sum256(msg)
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, d[:], raw)
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, d[:], raw) == nil
	}
	return false
}
