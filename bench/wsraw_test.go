package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRawFrameParse: a frame the generator builds, unmasked, parses back
// to its payload at every length class (7-bit, 16-bit, 64-bit).
func TestRawFrameParse(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 65535, 65536} {
		payload := bytes.Repeat([]byte{'x'}, n)
		f := rawFrame(nil, 0x1, payload)
		// The server's view: strip the mask bit and unmask.
		h := len(f) - n - 4
		key := f[h : h+4]
		srv := append([]byte(nil), f[:h]...)
		srv[1] &^= 0x80
		for i, c := range f[h+4:] {
			srv = append(srv, c^key[i&3])
		}
		op, p, used, ok := rawParse(srv)
		if !ok || op != 0x1 || used != len(srv) || !bytes.Equal(p, payload) {
			t.Fatalf("length %d: ok %v op %d used %d/%d payload equal %v", n, ok, op, used, len(srv), bytes.Equal(p, payload))
		}
		if _, _, _, ok := rawParse(srv[:len(srv)-1]); ok && n > 0 {
			t.Fatalf("length %d: a truncated frame parsed", n)
		}
	}
	if bytes.Equal(rawMask[:], make([]byte, 4)) {
		t.Fatal("the mask key is zero: ws would skip unmasking")
	}
}

// FuzzRawParse: any bytes from a server parse or wait for more, never
// panic, and never claim more bytes than given.
func FuzzRawParse(f *testing.F) {
	f.Add([]byte{0x81, 0x03, 'a', 'b', 'c'})
	f.Add([]byte{0x82, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x81, 0xfe, 0x00, 0x01, 1, 2, 3, 4, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, p, n, ok := rawParse(b)
		if ok && (n > len(b) || len(p) > n) {
			t.Fatalf("used %d of %d bytes, payload %d", n, len(b), len(p))
		}
	})
}

// TestSigGenWorkloads runs the generator workloads (relay of candidates
// and of offers, churn) with the raw client
// against the in-process signaling server: signals arrive, join-and-leave
// cycles complete without errors.
func TestSigGenWorkloads(t *testing.T) {
	var v map[string]any
	if err := json.Unmarshal(sdpOffer, &v); err != nil || len(sdpOffer) < 600 {
		t.Fatalf("the offer is not a ~650-byte JSON object: %d bytes, %v", len(sdpOffer), err)
	}
	srv := loadServer()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	addr := strings.TrimPrefix(ts.URL, "http://")
	p := sigProtos["peerplay"]

	var ops atomic.Int64
	start, stop, err := relaySetup(p, SigGenConfig{Addr: addr, Prefix: "t", Pairs: 3, Window: 4}, &ops)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	start(ctx)
	waitFor(t, "1000 relayed signals", func() bool { return ops.Load() >= 1000 })
	cancel()
	stop()

	ops.Store(0)
	start, stop, err = relaySetup(p, SigGenConfig{Addr: addr, Prefix: "o", Pairs: 2, Window: 4, Message: "offer"}, &ops)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	start(ctx)
	waitFor(t, "100 relayed offers", func() bool { return ops.Load() >= 100 })
	cancel()
	stop()

	var cycles, errs atomic.Int64
	ctx, cancel = context.WithCancel(context.Background())
	churnSetup(p, SigGenConfig{Addr: addr, Prefix: "c", Workers: 3}, &cycles, &errs)(ctx)
	waitFor(t, "100 join-and-leave cycles", func() bool { return cycles.Load() >= 100 })
	cancel()
	if n := errs.Load(); n > 0 {
		t.Fatalf("%d failed cycles", n)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s in 30 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
