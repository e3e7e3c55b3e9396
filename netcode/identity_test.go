package netcode

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"testing"
)

func TestIdentity(t *testing.T) {
	a, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewIdentity()
	if a.ID() == b.ID() {
		t.Fatal("two fresh identities share an ID")
	}
	if !keyID(a.ID()) || len(a.ID()) != keyIDLen || keyID(newBrowserID()) || !browserID(newBrowserID()) {
		t.Fatalf("ID forms: key %q, browser %q", a.ID(), newBrowserID())
	}
	pemBytes, err := MarshalIdentity(a)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseIdentity(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	if back.ID() != a.ID() {
		t.Fatalf("ParseIdentity: ID %s, want %s", back.ID(), a.ID())
	}
	// The ID is the key's, whatever certificate carries it.
	tpl, _ := certTemplate()
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, a.Signer().Public(), a.Signer())
	if err != nil {
		t.Fatal(err)
	}
	if id, err := certID(der); err != nil || id != a.ID() {
		t.Fatalf("certID = %q, %v; want %s", id, err, a.ID())
	}
	if _, err := certID([]byte("not a certificate")); err == nil {
		t.Fatal("certID accepted garbage")
	}
	for _, bad := range [][]byte{nil, []byte("x"), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")} {
		if _, err := ParseIdentity(bad); !errors.Is(err, ErrIdentity) {
			t.Errorf("ParseIdentity(%q) = %v, want ErrIdentity", bad, err)
		}
	}
	if _, err := IdentityFromKey(nil); !errors.Is(err, ErrIdentity) {
		t.Errorf("IdentityFromKey(nil) = %v", err)
	}
	k384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := IdentityFromKey(k384); err != nil {
		t.Errorf("P-384: %v", err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	if id, err := IdentityFromKey(edKey); err != nil || !keyID(id.ID()) {
		t.Errorf("ed25519: %v", err)
	}
}

func FuzzParseIdentity(f *testing.F) {
	a, _ := NewIdentity()
	good, _ := MarshalIdentity(a)
	f.Add(good)
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\n\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := ParseIdentity(b)
		if err == nil && !keyID(id.ID()) {
			t.Fatalf("parsed identity with ID %q", id.ID())
		}
	})
}
