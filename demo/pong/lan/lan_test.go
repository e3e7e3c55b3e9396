package lan

import (
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBeaconRoundTrip(t *testing.T) {
	b := Beacon{Name: "ann", Room: "K7Q2", Port: 7700, Players: 1, Max: 2}
	p, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	const want = `PPLAN1{"game":"pong","name":"ann","room":"K7Q2","port":7700,"players":1,"max":2}`
	if string(p) != want {
		t.Errorf("Encode = %s, want %s", p, want)
	}
	got, err := Decode(p)
	b.Game = GameID
	if err != nil || got != b {
		t.Errorf("Decode = %+v, %v; want %+v", got, err, b)
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"magic", `PPLAN2{"room":"a","port":1}`},
		{"json", `PPLAN1{"room":`},
		{"no room", `PPLAN1{"port":1}`},
		{"port zero", `PPLAN1{"room":"a","port":0}`},
		{"port high", `PPLAN1{"room":"a","port":70000}`},
		{"negative players", `PPLAN1{"room":"a","port":1,"players":-1}`},
		{"long room", `PPLAN1{"room":"` + strings.Repeat("r", 65) + `","port":1}`},
		{"too big", `PPLAN1{"room":"a","port":1,"x":"` + strings.Repeat("x", MaxBeaconSize) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b, err := Decode([]byte(tt.in)); !errors.Is(err, ErrBadBeacon) {
				t.Errorf("Decode(%q) = %+v, %v; want ErrBadBeacon", tt.in, b, err)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	p, _ := Beacon{Name: "ann", Room: "K7Q2", Port: 7700}.Encode()
	f.Add(p)
	f.Add([]byte(`PPLAN1{}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := Decode(p)
		if err != nil {
			return
		}
		q, err := b.Encode()
		if err != nil {
			t.Fatalf("a decoded beacon does not encode: %+v: %v", b, err)
		}
		if b2, err := Decode(q); err != nil || b2 != b {
			t.Fatalf("re-decode = %+v, %v; want %+v", b2, err, b)
		}
	})
}

// waitGames polls b until it lists n games (beacons arrive asynchronously).
func waitGames(t *testing.T, b *Browser, n int) []Game {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g := b.Games()
		if len(g) == n {
			return g
		}
		if time.Now().After(deadline) {
			t.Fatalf("Games() = %+v after 10s, want %d games", g, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAnnounceAndBrowseOnLoopback(t *testing.T) {
	b, err := Listen(BrowserConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	to := []string{b.Addr().String()}
	a1, err := Announce(AnnouncerConfig{Targets: to, Interval: 20 * time.Millisecond, Beacon: Beacon{Name: "ann", Room: "AAAA", Port: 7700}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a1.Close() })
	a2, err := Announce(AnnouncerConfig{Targets: to, Interval: 20 * time.Millisecond, Beacon: Beacon{Name: "bob", Room: "BBBB", Port: 7800}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a2.Close() })

	games := waitGames(t, b, 2)
	got := map[string]netip.AddrPort{}
	for _, g := range games {
		got[g.Name+"/"+g.Room] = g.Addr
	}
	want := map[string]netip.AddrPort{
		"ann/AAAA": netip.MustParseAddrPort("127.0.0.1:7700"),
		"bob/BBBB": netip.MustParseAddrPort("127.0.0.1:7800"),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("game %s at %v, want %v (all: %+v)", k, got[k], v, games)
		}
	}
	if g, ok := b.Find("BBBB"); !ok || g.Name != "bob" {
		t.Errorf("Find(BBBB) = %+v, %v", g, ok)
	}

	// Update reaches the browser; it does not add a second entry.
	if err := a1.Update(Beacon{Name: "ann", Room: "AAAA", Port: 7700, Players: 2, Max: 2}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, _ := b.Find("AAAA")
		if g.Players == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("update not seen: %+v", b.Games())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(b.Games()); n != 2 {
		t.Errorf("after Update: %d games, want 2", n)
	}
	if err := a1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a1.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestBrowserExpiresAndBounds(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	b, err := Listen(BrowserConfig{Addr: "127.0.0.1:0", TTL: 4 * time.Second, MaxGames: 2, now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	addr := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port) }
	b.heard(Beacon{Room: "A", Port: 1}, addr(1))
	b.heard(Beacon{Room: "B", Port: 2}, addr(2))
	b.heard(Beacon{Room: "C", Port: 3}, addr(3)) // over MaxGames: dropped
	if g := b.Games(); len(g) != 2 {
		t.Fatalf("Games = %+v, want A and B only", g)
	}
	mu.Lock()
	now = now.Add(3 * time.Second)
	mu.Unlock()
	b.heard(Beacon{Room: "B", Port: 2}, addr(2)) // refresh B
	mu.Lock()
	now = now.Add(2 * time.Second) // A is 5 s old, B 2 s
	mu.Unlock()
	g := b.Games()
	if len(g) != 1 || g[0].Room != "B" {
		t.Fatalf("after TTL: Games = %+v, want B only", g)
	}
	b.heard(Beacon{Room: "C", Port: 3}, addr(3)) // room again
	if g := b.Games(); len(g) != 2 || g[0].Room != "B" && g[0].Room != "C" {
		t.Fatalf("Games = %+v, want B and C", g)
	}
}

func TestAnnounceRejectsBadConfig(t *testing.T) {
	tests := []AnnouncerConfig{
		{Beacon: Beacon{Room: "A"}},                                   // no port
		{Beacon: Beacon{Port: 1}},                                     // no room
		{Beacon: Beacon{Room: "A", Port: 1}, Targets: []string{"::"}}, // bad target
	}
	for i, cfg := range tests {
		if a, err := Announce(cfg); !errors.Is(err, ErrInvalidConfig) {
			if a != nil {
				a.Close()
			}
			t.Errorf("case %d: Announce err = %v, want ErrInvalidConfig", i, err)
		}
	}
}
