package netcode

import (
	"testing"
	"time"
)

func TestMeshTwoPeersSmoke(t *testing.T) {
	sig := startSignaling(t)
	a := join(t, sig.url(), "r", "a")
	b := join(t, sig.url(), "r", "b")
	start := time.Now()
	waitMesh(t, 10*time.Second, a, b)
	t.Logf("mesh of 2 in %v", time.Since(start))
	if err := a.Channel("rel").Send(b.Local(), []byte("hi")); err != nil {
		t.Fatal(err)
	}
	got := recvN(t, b.Channel("rel"), 1, 5*time.Second)
	if string(got[0].Data) != "hi" || got[0].From != a.Local() {
		t.Fatalf("got %+v", got[0])
	}
}
