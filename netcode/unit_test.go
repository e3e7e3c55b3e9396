package netcode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/netcode/transport"
)

func validConfig() Config {
	return Config{SignalURL: "ws://127.0.0.1:1/ws", Room: "r", Channels: []ChannelSpec{{Label: "a", Reliability: transport.Reliable}}}
}

func TestConfigValidate(t *testing.T) {
	long := strings.Repeat("x", 256)
	tests := []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"valid", func(*Config) {}, true},
		{"wss", func(c *Config) { c.SignalURL = "wss://example.com/ws" }, true},
		{"no url", func(c *Config) { c.SignalURL = "" }, false},
		{"bad scheme", func(c *Config) { c.SignalURL = "ftp://x/ws" }, false},
		{"no room", func(c *Config) { c.Room = "" }, false},
		{"no channels", func(c *Config) { c.Channels = nil }, false},
		{"too many channels", func(c *Config) { c.Channels = make([]ChannelSpec, MaxChannels+1) }, false},
		{"empty label", func(c *Config) { c.Channels = []ChannelSpec{{Label: "", Reliability: transport.Reliable}} }, false},
		{"long label", func(c *Config) { c.Channels = []ChannelSpec{{Label: long, Reliability: transport.Reliable}} }, false},
		{"dup label", func(c *Config) {
			c.Channels = []ChannelSpec{{Label: "a", Reliability: transport.Reliable}, {Label: "a", Reliability: transport.Unreliable}}
		}, false},
		{"unknown reliability", func(c *Config) { c.Channels = []ChannelSpec{{Label: "a", Reliability: transport.ReliabilityUnknown}} }, false},
		{"long game", func(c *Config) { c.GameID = long }, false},
		{"long build", func(c *Config) { c.Build = long }, false},
		{"long name", func(c *Config) { c.Name = long }, false},
		{"negative inbox", func(c *Config) { c.InboxLen = -1 }, false},
		{"negative timeout", func(c *Config) { c.PeerTimeout = -time.Second }, false},
		{"relay only, TURN", func(c *Config) {
			c.RelayOnly = true
			c.ICEServers = []ICEServer{{URLs: []string{"stun:127.0.0.1:3478", "TURN:127.0.0.1:3478"}}}
		}, true},
		{"relay only, servers from signaling", func(c *Config) { c.RelayOnly = true }, true},
		{"relay only, no TURN", func(c *Config) {
			c.RelayOnly = true
			c.ICEServers = []ICEServer{{URLs: []string{"stun:127.0.0.1:3478"}}}
		}, false},
		{"relay only, no servers", func(c *Config) { c.RelayOnly, c.ICEServers = true, []ICEServer{} }, false},
		{"small channel limit", func(c *Config) { c.Channels[0].MaxMessageBytes = 16 << 10 }, true},
		{"negative channel limit", func(c *Config) { c.Channels[0].MaxMessageBytes = -1 }, false},
		{"unreliable above one packet", func(c *Config) {
			c.Channels = []ChannelSpec{{Label: "u", Reliability: transport.Unreliable, MaxMessageBytes: MaxUnreliableSize + 1}}
		}, false},
		{"message above the peer budget", func(c *Config) { c.PeerMemory = 1 << 20 }, false},
		{"budget fits the messages", func(c *Config) { c.PeerMemory, c.Channels[0].MaxMessageBytes = 1<<20+64<<10, 1<<20 }, true},
		{"negative chunk timeout", func(c *Config) { c.ChunkTimeout = -1 }, false},
		{"max channels", func(c *Config) {
			c.Channels = nil
			for i := range MaxChannels {
				c.Channels = append(c.Channels, ChannelSpec{Label: fmt.Sprint(i), Reliability: transport.Unreliable})
			}
		}, true},
	}
	for _, tt := range tests {
		c := validConfig()
		tt.mod(&c)
		c.setDefaults()
		err := c.validate()
		if tt.ok != (err == nil) {
			t.Errorf("%s: validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v does not wrap ErrInvalidConfig", tt.name, err)
		}
	}
	// Join reports the same error without dialing.
	c := validConfig()
	c.Room = ""
	if _, err := Join(context.Background(), c); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Join with a bad config: %v, want ErrInvalidConfig", err)
	}
}

func TestConfigDefaults(t *testing.T) {
	var c Config
	c.setDefaults()
	want := Config{InboxLen: 1024, InboxBytes: 32 << 20, MaxMessageSize: 16 << 20, MaxReliableBuffered: 16 << 20,
		MaxUnreliableBuffered: 32 << 10, EventQueueLen: 1024, ICERestarts: 3, UpgradeProbes: 5, UpgradeInterval: time.Minute,
		ICEDisconnectedTimeout: 2 * time.Second, ICEFailedTimeout: 5 * time.Second, ICEKeepalive: 500 * time.Millisecond,
		SCTPRTOMax: 200 * time.Millisecond, ConnectTimeout: 15 * time.Second, PeerTimeout: 15 * time.Second,
		PingInterval: 500 * time.Millisecond, PeerMemory: 8 << 20, ChunkTimeout: 10 * time.Second}
	want.Logger = c.Logger
	if c.Logger == nil {
		t.Fatal("nil Logger not replaced")
	}
	if fmt.Sprintf("%+v", c) != fmt.Sprintf("%+v", want) {
		t.Errorf("defaults\n got %+v\nwant %+v", c, want)
	}
}

func TestConfigCopied(t *testing.T) {
	c := validConfig()
	c.ICEServers = []ICEServer{{URLs: []string{"stun:a"}}}
	cp := copyConfig(c)
	c.Channels[0].Label = "changed"
	c.ICEServers[0].URLs[0] = "changed"
	if cp.Channels[0].Label != "a" || cp.ICEServers[0].URLs[0] != "stun:a" {
		t.Errorf("copyConfig shares slices with the caller: %+v", cp)
	}
	if cp := copyConfig(validConfig()); cp.ICEServers != nil {
		t.Error("copyConfig turned nil ICEServers into non-nil (that means: no servers)")
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{EventConnected.String(), "connected"},
		{EventRefused.String(), "refused"},
		{EventSignalingLost.String(), "signaling-lost"},
		{EventUnknown.String(), "unknown"},
		{EventKind(99).String(), "unknown(99)"},
		{LinkRelay.String(), "relay"},
		{LinkHost.String(), "host"},
		{LinkType(42).String(), "unknown(42)"},
		{Event{Kind: EventLeft, Peer: "p"}.String(), "left p"},
		{(&RefusedError{Peer: "p", Reason: "bad handshake"}).Error(), "netcode: refused peer p: bad handshake"},
		{(&RefusedError{Peer: "p", ByRemote: true, Reason: "x", Detail: "y"}).Error(), "netcode: refused by peer p: x (y)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	if !errors.Is(&RefusedError{}, ErrRefused) {
		t.Error("RefusedError does not match ErrRefused")
	}
}

func TestLinkTypeOf(t *testing.T) {
	tests := map[webrtc.ICECandidateType]LinkType{
		webrtc.ICECandidateTypeHost: LinkHost, webrtc.ICECandidateTypeSrflx: LinkSrflx,
		webrtc.ICECandidateTypePrflx: LinkPrflx, webrtc.ICECandidateTypeRelay: LinkRelay,
		webrtc.ICECandidateTypeUnknown: LinkUnknown,
	}
	for in, want := range tests {
		if got := linkTypeOf(in); got != want {
			t.Errorf("linkTypeOf(%v) = %v, want %v", in, got, want)
		}
	}
	// The pair's type is the less direct end.
	if got := max(LinkHost, LinkRelay); got != LinkRelay {
		t.Errorf("max(host, relay) = %v", got)
	}
	if got := max(LinkPrflx, LinkSrflx); got != LinkSrflx {
		t.Errorf("max(prflx, srflx) = %v", got)
	}
}

// TestLinkClass: apps see direct or relayed without knowing ICE types.
func TestLinkClass(t *testing.T) {
	tests := []struct {
		link            LinkType
		class           LinkClass
		name            string
		direct, relayed bool
	}{
		{LinkUnknown, LinkClassUnknown, "unknown", false, false},
		{LinkHost, LinkDirect, "direct", true, false},
		{LinkPrflx, LinkDirect, "direct", true, false},
		{LinkSrflx, LinkDirect, "direct", true, false},
		{LinkRelay, LinkRelayed, "relayed", false, true},
		{LinkType(42), LinkClassUnknown, "unknown", false, false},
	}
	for _, tt := range tests {
		ps := PeerStats{Link: tt.link}
		if got := tt.link.Class(); got != tt.class || got.String() != tt.name {
			t.Errorf("%v.Class() = %v (%q), want %v (%q)", tt.link, got, got.String(), tt.class, tt.name)
		}
		if ps.Direct() != tt.direct || ps.Relayed() != tt.relayed {
			t.Errorf("link %v: Direct %v, Relayed %v; want %v, %v", tt.link, ps.Direct(), ps.Relayed(), tt.direct, tt.relayed)
		}
	}
	if got := LinkClass(7).String(); got != "unknown(7)" {
		t.Errorf("LinkClass(7).String() = %q", got)
	}
}

func TestRTTWindow(t *testing.T) {
	var w rttWindow
	if m, j, n := w.summary(); m != 0 || j != 0 || n != 0 {
		t.Errorf("empty window: %v %v %d", m, j, n)
	}
	for _, ms := range []int{10, 30, 20} {
		w.add(time.Duration(ms) * time.Millisecond)
	}
	m, j, n := w.summary()
	if m != 20*time.Millisecond || j != 15*time.Millisecond || n != 3 {
		t.Errorf("summary = %v %v %d, want 20ms 15ms 3", m, j, n)
	}
	w.add(40 * time.Millisecond) // even count: the mean of the middle two
	if m, _, _ := w.summary(); m != 25*time.Millisecond {
		t.Errorf("median of 10,20,30,40 = %v, want 25ms", m)
	}
	for range 2 * rttWindowLen {
		w.add(time.Millisecond)
	}
	if m, j, n := w.summary(); m != time.Millisecond || j != 0 || n != rttWindowLen {
		t.Errorf("full window: %v %v %d, want 1ms 0 %d", m, j, n, rttWindowLen)
	}
}

func TestEventQueueDropsOldest(t *testing.T) {
	m := &Mesh{cfg: Config{EventQueueLen: 2}}
	for _, k := range []EventKind{EventConnecting, EventConnected, EventLeft} {
		m.emit(k, "p", nil)
	}
	got := m.PollEvents()
	if len(got) != 2 || got[0].Kind != EventConnected || got[1].Kind != EventLeft {
		t.Errorf("events %v, want the newest two", got)
	}
	if m.eventsDropped != 1 {
		t.Errorf("dropped %d, want 1", m.eventsDropped)
	}
	if got := m.PollEvents(); len(got) != 0 {
		t.Errorf("second poll: %v", got)
	}
}

func TestSignalMessages(t *testing.T) {
	good := signalMsg{Type: "offer", Session: 7, ID: "me", SDP: "v=0"}
	b := encodeSignal(good)
	got, err := decodeSignal(b)
	good.V = signalVersion
	if err != nil || fmt.Sprint(got) != fmt.Sprint(good) {
		t.Errorf("round trip: %+v, %v", got, err)
	}
	bad := []string{
		``, `{`, `[]`, `{"v":2,"t":"offer","s":"1","id":"x","sdp":"v"}`,
		`{"v":1,"t":"offer","s":"1","id":"x"}`, `{"v":1,"t":"cand","s":"1","id":"x"}`,
		`{"v":1,"t":"nope","s":"1","id":"x"}`, `{"v":1,"t":"dup","s":"0","id":"x"}`,
		`{"v":1,"t":"dup","s":"1"}`, `{"v":1,"t":"dup","s":1,"id":"x"}`,
		`{"v":1,"t":"dup","s":"1","id":"x","pad":"` + strings.Repeat("x", maxSignalSize) + `"}`,
	}
	for _, s := range bad {
		if _, err := decodeSignal([]byte(s)); !errors.Is(err, errBadSignal) {
			t.Errorf("decodeSignal(%.60q) = %v, want errBadSignal", s, err)
		}
	}
}

func FuzzDecodeSignal(f *testing.F) {
	f.Add(encodeSignal(signalMsg{Type: "offer", Session: 7, ID: "me", SDP: "v=0"}))
	f.Add(encodeSignal(signalMsg{Type: "cand", Session: 7, ID: "me", Cand: &webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host"}}))
	f.Add(encodeSignal(signalMsg{Type: "dup", Session: 1, ID: "x"}))
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := decodeSignal(p)
		if err != nil {
			return
		}
		if m.Session == 0 || m.ID == "" || m.V != signalVersion {
			t.Fatalf("accepted an invalid message: %+v", m)
		}
	})
}

func TestPionLogsRouted(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: levelTrace}))
	lg := pionLogs{l}.NewLogger("ice")
	lg.Tracef("t %d", 1)
	lg.Debug("d")
	lg.Infof("i %s", "x")
	lg.Warn("w")
	lg.Errorf("e %v", errors.New("boom"))
	out := buf.String()
	for _, want := range []string{"level=DEBUG-4 msg=\"t 1\" pion=ice", "level=DEBUG msg=d pion=ice",
		"level=INFO msg=\"i x\" pion=ice", "level=WARN msg=w pion=ice", "level=ERROR msg=\"e boom\" pion=ice"} {
		if !strings.Contains(out, want) {
			t.Errorf("log output lacks %q:\n%s", want, out)
		}
	}
	// A disabled level formats nothing.
	buf.Reset()
	quiet := pionLogs{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))}.NewLogger("x")
	quiet.Debugf("%v", panicker{})
	if buf.Len() != 0 {
		t.Errorf("debug logged at warn level: %s", buf.String())
	}
}

type panicker struct{}

func (panicker) String() string { panic("formatted a disabled log line") }

func TestChannelUnknownLabelPanics(t *testing.T) {
	m := &Mesh{byLabel: map[string]*channel{}}
	defer func() {
		if recover() == nil {
			t.Error("Channel of an unknown label did not panic")
		}
	}()
	m.Channel("nope")
}

// TestInbox exercises the channel inbox without a network: per-peer
// bounds, order, and Recv/Close.
func TestInbox(t *testing.T) {
	m := &Mesh{cfg: Config{InboxLen: 2, InboxBytes: 10}}
	c := newChannel(m, 0, ChannelSpec{Label: "x", Reliability: transport.Unreliable, MaxMessageBytes: MaxUnreliableSize})
	if !c.offer("a", []byte("1"), nil) || !c.offer("a", []byte("2"), nil) {
		t.Fatal("offer into an empty inbox failed")
	}
	if c.offer("a", []byte("3"), nil) {
		t.Error("third message from a accepted with InboxLen 2")
	}
	if !c.offer("b", []byte("12345678"), nil) {
		t.Error("b's share is separate from a's")
	}
	if c.offer("b", []byte("123"), nil) {
		t.Error("b exceeded InboxBytes 10")
	}
	var got []string
	for msg, ok := c.TryRecv(); ok; msg, ok = c.TryRecv() {
		got = append(got, string(msg.From)+":"+string(msg.Data))
	}
	if want := "[a:1 a:2 b:12345678]"; fmt.Sprint(got) != want {
		t.Errorf("got %v, want %s", got, want)
	}
	if !c.offer("b", make([]byte, 100), nil) {
		t.Error("a message larger than InboxBytes is refused by an empty inbox")
	}
	c.TryRecv()

	// put waits for room and gives up when done closes.
	done := make(chan struct{})
	c.offer("a", []byte("x"), nil)
	c.offer("a", []byte("y"), nil)
	res := make(chan bool)
	go func() { res <- c.put("a", []byte("z"), 0, nil, done) }()
	select {
	case <-res:
		t.Fatal("put returned with a full inbox")
	case <-time.After(20 * time.Millisecond):
	}
	c.TryRecv()
	if !<-res {
		t.Error("put failed after room was made")
	}
	go func() { res <- c.put("a", []byte("w"), 0, nil, done) }()
	close(done)
	if <-res {
		t.Error("put succeeded into a full inbox after done closed")
	}
	// Recv delivers what is queued, then ErrClosed.
	c.close()
	for range 2 {
		if _, err := c.Recv(context.Background()); err != nil {
			t.Fatalf("Recv of a queued message after close: %v", err)
		}
	}
	if _, err := c.Recv(context.Background()); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Recv after close: %v, want ErrClosed", err)
	}
}

// TestSignalGolden pins the JSON of each signal message kind as
// netcode/PROTOCOL.md shows it: changing it breaks non-Go clients.
func TestSignalGolden(t *testing.T) {
	tests := []struct {
		msg  signalMsg
		want string
	}{
		{signalMsg{Type: "offer", Session: 9876543210, ID: "~abcdefghijklmnopqrstuvwxyz234567", SDP: "v=0\r\n..."},
			`{"v":1,"t":"offer","s":"9876543210","id":"~abcdefghijklmnopqrstuvwxyz234567","sdp":"v=0\r\n..."}`},
		{signalMsg{Type: "answer", Session: 9876543210, ID: "mfrggzdfmztwq2lknnwg23tpobyxe43u", SDP: "v=0\r\n..."},
			`{"v":1,"t":"answer","s":"9876543210","id":"mfrggzdfmztwq2lknnwg23tpobyxe43u","sdp":"v=0\r\n..."}`},
		{signalMsg{Type: "cand", Session: 9876543210, ID: "mfrggzdfmztwq2lknnwg23tpobyxe43u", Cand: &webrtc.ICECandidateInit{
			Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host", SDPMid: ptr("0"), SDPMLineIndex: ptr(uint16(0))}},
			`{"v":1,"t":"cand","s":"9876543210","id":"mfrggzdfmztwq2lknnwg23tpobyxe43u","c":{"candidate":"candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":null}}`},
		{signalMsg{Type: "dup", Session: 9876543210, ID: "mfrggzdfmztwq2lknnwg23tpobyxe43u"},
			`{"v":1,"t":"dup","s":"9876543210","id":"mfrggzdfmztwq2lknnwg23tpobyxe43u"}`},
	}
	for _, tt := range tests {
		if got := string(encodeSignal(tt.msg)); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.msg.Type, got, tt.want)
		}
		if _, err := decodeSignal([]byte(tt.want)); err != nil {
			t.Errorf("%s: decode: %v", tt.msg.Type, err)
		}
	}
}

// TestUpgradeDelay: the relay->direct probes' schedule: UpgradeProbes
// quick ones doubling from 1 s, capped at UpgradeInterval, then one per
// UpgradeInterval; none at all with negative UpgradeProbes, none after
// the quick ones with negative UpgradeInterval.
func TestUpgradeDelay(t *testing.T) {
	s := time.Second
	for _, c := range []struct {
		probes   int
		interval time.Duration
		want     []time.Duration // for n = 0, 1, ...; 0: none
	}{
		{5, time.Minute, []time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s, 60 * s, 60 * s}},
		{5, 10 * s, []time.Duration{s, 2 * s, 4 * s, 8 * s, 10 * s, 10 * s}},
		{2, -1, []time.Duration{s, 2 * s, 0, 0}},
		{-1, time.Minute, []time.Duration{0, 0}},
		{3, time.Millisecond, []time.Duration{s, s, s, s}},
		{100, time.Minute, []time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 60 * s}},
	} {
		cfg := Config{UpgradeProbes: c.probes, UpgradeInterval: c.interval}
		for n, want := range c.want {
			d, ok := upgradeDelay(&cfg, n)
			if !ok {
				d = 0
			}
			if d != want || ok != (want != 0) {
				t.Errorf("UpgradeProbes %d, UpgradeInterval %v, after %d probes: %v %v, want %v", c.probes, c.interval, n, d, ok, want)
			}
		}
		if d, ok := upgradeDelay(&cfg, 1<<40); c.probes >= 0 && c.interval > 0 && (!ok || d != max(c.interval, s)) {
			t.Errorf("UpgradeProbes %d, UpgradeInterval %v, after 2^40 probes: %v %v", c.probes, c.interval, d, ok)
		}
	}
}
