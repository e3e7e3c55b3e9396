package netcode

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// Identity is a peer's key pair. The mesh ID (Mesh.Local) is derived from
// its public key, and every PeerConnection of the mesh presents a DTLS
// certificate for that key, so each remote peer checks the ID against the
// handshake (see "Threat model" in the package doc). Keep an Identity
// (MarshalIdentity, ParseIdentity) to keep a player's ID across runs.
// An Identity is safe for concurrent use by several meshes.
type Identity struct {
	key crypto.Signer
	id  transport.PeerID
}

// NewIdentity generates a fresh ECDSA P-256 identity (the curve every
// browser accepts for DTLS).
func NewIdentity() (*Identity, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("netcode: generating an identity key: %w", err)
	}
	return IdentityFromKey(k)
}

// IdentityFromKey makes an Identity of an existing key: an
// *ecdsa.PrivateKey (P-256 or P-384) or an RSA key (2048 bits or more), the
// key types DTLS stacks accept.
func IdentityFromKey(key crypto.Signer) (*Identity, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: nil key", ErrIdentity)
	}
	id, err := PeerIDOf(key.Public())
	if err != nil {
		return nil, err
	}
	return &Identity{key: key, id: id}, nil
}

// ID returns the mesh PeerID this identity proves.
func (i *Identity) ID() transport.PeerID { return i.id }

// Signer returns the private key.
func (i *Identity) Signer() crypto.Signer { return i.key }

// MarshalIdentity encodes the private key as PEM ("PRIVATE KEY", PKCS #8):
// store it where only the player can read it.
func MarshalIdentity(i *Identity) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(i.key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrIdentity, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseIdentity decodes what MarshalIdentity wrote.
func ParseIdentity(b []byte) (*Identity, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: no PEM \"PRIVATE KEY\" block", ErrIdentity)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrIdentity, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: key type %T", ErrIdentity, k)
	}
	return IdentityFromKey(s)
}

// idEncoding is signaling's peer-ID alphabet (lowercase base32, no
// padding): safe in URLs, room listings and logs.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// idHashBytes is how much of the SHA-256 of the public key an ID keeps:
// 160 bits, 32 characters. Making a key whose ID equals another's is a
// second preimage of 160 bits.
const idHashBytes = 20

// keyIDLen is the length of a key-derived PeerID.
const keyIDLen = 32

// browserIDPrefix starts the IDs of meshes that cannot bind their ID to
// their DTLS certificate (the browser build: see "Threat model").
const browserIDPrefix = "~"

// PeerIDOf returns the mesh PeerID of a public key: the SHA-256 of its
// DER SubjectPublicKeyInfo, first 20 bytes, in lowercase base32 (32
// characters).
func PeerIDOf(pub crypto.PublicKey) (transport.PeerID, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrIdentity, err)
	}
	return idOfSPKI(der), nil
}

func idOfSPKI(der []byte) transport.PeerID {
	h := sha256.Sum256(der)
	return transport.PeerID(idEncoding.EncodeToString(h[:idHashBytes]))
}

// keyID reports whether id has the form of a key-derived ID (one the
// remote's DTLS certificate must prove).
func keyID(id transport.PeerID) bool {
	if len(id) != keyIDLen {
		return false
	}
	_, err := idEncoding.DecodeString(string(id))
	return err == nil
}

// certID returns the PeerID proven by a DER certificate.
func certID(der []byte) (transport.PeerID, error) {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return "", err
	}
	return idOfSPKI(c.RawSubjectPublicKeyInfo), nil
}

// newBrowserID returns a random ID of the browser form.
func newBrowserID() transport.PeerID {
	var b [idHashBytes]byte
	_, _ = rand.Read(b[:])
	return transport.PeerID(browserIDPrefix + idEncoding.EncodeToString(b[:]))
}

func browserID(id transport.PeerID) bool { return strings.HasPrefix(string(id), browserIDPrefix) }

// certTemplate is the self-signed certificate every PeerConnection of a
// mesh presents. Only its public key matters to netcode; it is valid from
// a day ago (clock skew) for 30 days, like pion's own.
func certTemplate() (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		NotBefore:    now.Add(-24 * time.Hour),
		NotAfter:     now.Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}, nil
}

var errNoRemoteCert = errors.New("netcode: the DTLS handshake gave no remote certificate")
