package netplay

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		want    Target
		url     string
		wantErr bool
	}{
		{in: "K7Q2", want: Target{Room: "K7Q2"}},
		{in: " K7Q2 ", want: Target{Room: "K7Q2"}},
		{in: "192.168.1.5:7700/K7Q2", want: Target{Addr: "192.168.1.5:7700", Room: "K7Q2"}, url: "ws://192.168.1.5:7700/ws"},
		{in: "[::1]:7700/AB", want: Target{Addr: "[::1]:7700", Room: "AB"}, url: "ws://[::1]:7700/ws"},
		{in: "wss://sig.example.org/ws#ROOM1", want: Target{Addr: "wss://sig.example.org/ws", Room: "ROOM1"}, url: "wss://sig.example.org/ws"},
		{in: "", wantErr: true},
		{in: "host/K7Q2", wantErr: true}, // no port
		{in: "1.2.3.4:5/", wantErr: true},
		{in: "bad code!", wantErr: true},
		{in: strings.Repeat("A", 65), wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseTarget(%q) err = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			continue
		}
		if got != tt.want {
			t.Errorf("ParseTarget(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if tt.url != "" && got.SignalURL() != tt.url {
			t.Errorf("ParseTarget(%q).SignalURL() = %q, want %q", tt.in, got.SignalURL(), tt.url)
		}
	}
}

func TestNewCode(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c := NewCode()
		if len(c) != 4 || strings.Trim(c, codeAlphabet) != "" {
			t.Fatalf("NewCode() = %q, want 4 characters of %q", c, codeAlphabet)
		}
		if _, err := ParseTarget(c); err != nil {
			t.Fatalf("code %q does not parse: %v", c, err)
		}
		seen[c] = true
	}
	if len(seen) < 150 {
		t.Errorf("200 codes gave only %d distinct ones", len(seen))
	}
}

func TestChatOverMemnet(t *testing.T) { synctest.Test(t, testChat) }

func testChat(t *testing.T) {
	n := memnet.New(memnet.Config{Seed: 1})
	t.Cleanup(func() { n.Close() })
	a, err := newChat(n.Join("a").Channel(chanChat, transport.Reliable), "ann", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.close() })
	b, err := newChat(n.Join("b").Channel(chanChat, transport.Reliable), "bob", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.close() })
	time.Sleep(time.Second) // let the two meet
	a.poll()
	b.poll()
	if err := a.say("hello\x07 there"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 200 {
		for _, l := range b.poll() {
			got = append(got, l.From+": "+l.Text)
		}
		for _, l := range a.poll() {
			got = append(got, "(own) "+l.From+": "+l.Text)
		}
		if len(got) >= 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	want := map[string]bool{"ann: hello there": true, "(own) ann: hello there": true}
	if len(got) != 2 || !want[got[0]] || !want[got[1]] || got[0] == got[1] {
		t.Errorf("lines = %q, want ann's line once on each side", got)
	}
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
