package netplay

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

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
	a := newChat(n.Join("a").Channel(chanChat, transport.Reliable), "ann")
	b := newChat(n.Join("b").Channel(chanChat, transport.Reliable), "bob")
	if err := a.say("  hello\x07 there  "); err != nil {
		t.Fatal(err)
	}
	if got := a.poll(); len(got) != 1 || got[0].From != "ann" || got[0].Text != "hello there" {
		t.Errorf("sender's own line = %+v, want ann: hello there", got)
	}
	var got []string
	for range 100 {
		for _, l := range b.poll() {
			got = append(got, l.From+": "+l.Text)
		}
		if len(got) > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond) // memnet delivers on the (fake) clock
	}
	if len(got) != 1 || got[0] != "ann: hello there" {
		t.Errorf("received %q, want [ann: hello there]", got)
	}
}

func TestDecodeChatRejects(t *testing.T) {
	for _, in := range []string{"", "no separator", "\x00text", "name\x00", "name\x00\x01\x02", "\xff\xfe\x00x", strings.Repeat("x", maxChat+1)} {
		if l, ok := decodeChat([]byte(in)); ok {
			t.Errorf("decodeChat(%q) = %+v, want rejected", in, l)
		}
	}
}

func FuzzDecodeChat(f *testing.F) {
	f.Add([]byte("ann\x00hello"))
	f.Add([]byte("\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, ok := decodeChat(b)
		if !ok {
			return
		}
		if l.From == "" || l.Text == "" || !utf8.ValidString(l.From) || !utf8.ValidString(l.Text) ||
			utf8.RuneCountInString(l.From) > 32 || utf8.RuneCountInString(l.Text) > 200 {
			t.Fatalf("decodeChat(%q) = %+v: not clean", b, l)
		}
	})
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
