package chat

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

func TestConfigValidation(t *testing.T) {
	conn := memnet.New(memnet.Config{}).Join("x").Channel("chat", transport.Reliable)
	bad := []Config{
		{MaxRunes: -1},
		{MaxRunes: MaxRunesLimit + 1},
		{Team: 1 << 40},
		{Bus: BusConfig{History: MaxHistoryLimit + 1}},
		{Bus: BusConfig{Rate: -1}},
		{Bus: BusConfig{MaxPayload: MaxPayloadLimit + 1}},
		{Bus: BusConfig{MaxDelay: -time.Second}},
		{Bus: BusConfig{LeaveGrace: -time.Second}},
	}
	for _, cfg := range bad {
		if _, err := New(conn, cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("New(%+v) = %v, want ErrInvalidConfig", cfg, err)
		}
	}
	if _, err := NewBus(nil, BusConfig{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil conn: %v", err)
	}
	c, err := New(conn, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.MaxRunes != 280 || c.name != "x" || c.cfg.Bus.History != 64 || c.cfg.Bus.Rate != 2 || c.cfg.Bus.Burst != 5 {
		t.Errorf("defaults: %+v name %q", c.cfg, c.name)
	}
	c.Close()
	if err := c.Say("hi"); !errors.Is(err, ErrClosed) {
		t.Errorf("Say after Close = %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestPublishChecks(t *testing.T) {
	b, _ := NewBus(memnet.New(memnet.Config{}).Join("x").Channel("bus", transport.Reliable), BusConfig{})
	tests := []struct {
		topic   string
		to      []transport.PeerID
		payload []byte
		want    error
	}{
		{"", nil, nil, ErrInvalidTopic},
		{"\xff", nil, nil, ErrInvalidTopic},
		{string(make([]byte, MaxTopicSize+1)), nil, nil, ErrTooLarge},
		{"t", nil, make([]byte, 1025), ErrTooLarge},
		{"t", make([]transport.PeerID, MaxRecipients+1), nil, ErrTooLarge},
		{"t", []transport.PeerID{""}, nil, ErrUnknownPeer},
	}
	for _, tt := range tests {
		if err := b.PublishWith(tt.topic, tt.payload, Options{To: tt.to}); !errors.Is(err, tt.want) {
			t.Errorf("PublishWith(%q, %d bytes, %d recipients) = %v, want %v", tt.topic, len(tt.payload), len(tt.to), err, tt.want)
		}
	}
}

// A subscription nobody drains keeps the newest QueueLen deliveries and
// counts the rest.
func TestSubscriptionOverflow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{})
		defer n.Close()
		a, _ := NewBus(n.Join("a").Channel("bus", transport.Reliable), BusConfig{QueueLen: 4, Rate: 100, Burst: 100})
		sub := a.Subscribe("")
		for i := range 10 {
			if err := a.Publish("t", []byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
		a.Update()
		got := sub.PollDeliveries()
		if len(got) != 4 || got[0].Payload[0] != 6 || sub.Dropped() != 6 || a.Stats().Overflow != 6 {
			t.Errorf("got %d deliveries from %v, dropped %d", len(got), got[0].Payload, sub.Dropped())
		}
		other := a.Subscribe("u")
		a.Publish("t", nil)
		if got := other.PollDeliveries(); len(got) != 0 {
			t.Errorf("prefix u got %+v", got)
		}
		other.Close()
		if got := other.PollDeliveries(); len(got) != 0 {
			t.Errorf("closed subscription got %+v", got)
		}
	})
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{KindJoined.String(), "joined"},
		{Kind(9).String(), "unknown(9)"},
		{ChannelTeam.String(), "team"},
		{DeliveryLeft.String(), "left"},
		{Message{Kind: KindText, Channel: ChannelEveryone, Name: "ann", Text: "hi"}.String(), "ann: hi"},
		{Message{Kind: KindLeft, Name: "bob"}.String(), "* bob left"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
