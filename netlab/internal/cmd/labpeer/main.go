// Command labpeer is the netlab's Peerplay test peer: one process per
// player, run inside a host namespace, joining a netcode mesh through a
// real signaling server. It prints one fact per line for the test to read.
//
//	labpeer mesh -signal URL -room R -name N -peers K
//	    Join, wait for K-1 peers, exchange messages on a Reliable and an
//	    Unreliable channel with each, then print for every peer
//	    "link <self> <peer> <type> local=<t> remote=<t> rtt=<d>" and "ok",
//	    after a barrier so nobody leaves before the others are done.
//
//	labpeer upgrade -signal URL -room R -name N -stream D
//	    Join a two-peer room and stream numbered messages on a Reliable
//	    channel to the other peer for D, printing every change of the link
//	    type (relay -> direct): see runUpgrade.
//
//	labpeer game -signal URL -room R -name N -peers K -frames F
//	    Join, wait for K-1 peers, and play F frames of a small deterministic
//	    game in lockstep (sync/lockstep over the mesh's Unreliable channel):
//	    see runGame for what it prints.
//
// Every event is printed as "event <kind> <peer name or id>[: error]";
// an EventConnected also as "connect <peer> <time since start>".
// Every wait is bounded by -timeout; on timeout or with -fail-fast on the
// first EventFailed or EventLeft, the peer prints "error: ..." and exits 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling"
)

type options struct {
	signal   string
	room     string
	name     string
	peers    int
	timeout  time.Duration
	failFast bool
	verbose  bool
	frames   int
	tps      int
	// turnExpired, when set, replaces signaling's ICE servers with STUN and
	// TURN on these addresses, with TURN credentials made from this secret
	// that expired an hour ago.
	turnExpired string
	stun, turn  string
	// pionWaits restores pion's ICE acceptance waits (netcode sets them to
	// 0): the "before" of issue #20's measurements.
	pionWaits bool
	stream    time.Duration // upgrade: how long to stream
}

// started is when the program began joining: "connect" lines count from it.
var started = time.Now()

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: labpeer mesh [flags]")
		os.Exit(2)
	}
	mode := os.Args[1]
	var o options
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	fs.StringVar(&o.signal, "signal", "ws://203.0.113.1:8080/ws", "signaling URL")
	fs.StringVar(&o.room, "room", "lab", "room")
	fs.StringVar(&o.name, "name", "peer", "player name")
	fs.IntVar(&o.peers, "peers", 2, "room size to wait for, this peer included")
	fs.DurationVar(&o.timeout, "timeout", 40*time.Second, "bound on the whole run")
	fs.BoolVar(&o.failFast, "fail-fast", false, "exit 1 when a peer fails or leaves")
	fs.BoolVar(&o.pionWaits, "pion-waits", false, "pion's ICE acceptance waits (host 0, srflx 500 ms, prflx 1 s, relay 2 s) instead of netcode's 0")
	fs.BoolVar(&o.verbose, "v", false, "netcode and pion debug logs on stderr")
	fs.DurationVar(&o.stream, "stream", 10*time.Second, "upgrade: how long to stream numbered messages")
	fs.IntVar(&o.frames, "frames", 600, "game: frames to play")
	fs.IntVar(&o.tps, "tps", 60, "game: ticks per second")
	fs.StringVar(&o.turnExpired, "turn-expired-secret", "", "use TURN credentials from this secret that expired an hour ago")
	fs.StringVar(&o.stun, "stun", "203.0.113.1:3478", "STUN address, with -turn-expired-secret")
	fs.StringVar(&o.turn, "turn", "203.0.113.1:3479", "TURN address, with -turn-expired-secret")
	_ = fs.Parse(os.Args[2:])

	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	var err error
	switch mode {
	case "mesh":
		err = runMesh(ctx, o)
	case "game":
		err = runGame(ctx, o)
	case "upgrade":
		err = runUpgrade(ctx, o)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

func logger(o options) *slog.Logger {
	lvl := slog.LevelWarn
	if o.verbose {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})).With("peer", o.name)
}

// meshConfig is the Config every mode uses: UDP4 only, no mDNS (the lab
// sends only where it must).
func meshConfig(o options, channels []netcode.ChannelSpec) netcode.Config {
	cfg := netcode.Config{
		SignalURL: o.signal, Room: o.room, Name: o.name,
		GameID: "netlab", Build: "1",
		Channels: channels,
		Logger:   logger(o),
		SettingEngine: func(se *webrtc.SettingEngine) {
			se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
			se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
			if o.pionWaits {
				se.SetHostAcceptanceMinWait(0)
				se.SetSrflxAcceptanceMinWait(500 * time.Millisecond)
				se.SetPrflxAcceptanceMinWait(time.Second)
				se.SetRelayAcceptanceMinWait(2 * time.Second)
			}
		},
	}
	if o.turnExpired != "" {
		user, pass := signaling.TURNCredentials(o.turnExpired, o.name, -time.Hour, time.Now())
		cfg.ICEServers = []netcode.ICEServer{
			{URLs: []string{"stun:" + o.stun}},
			{URLs: []string{"turn:" + o.turn + "?transport=udp"}, Username: user, Credential: pass},
		}
	}
	return cfg
}

// names maps peer IDs to the names from their handshakes.
func names(m *netcode.Mesh) map[transport.PeerID]string {
	out := map[transport.PeerID]string{}
	for _, p := range m.Stats().Peers {
		out[p.Peer] = p.Name
	}
	return out
}

// printEvents prints the mesh's events; with failFast, a failed peer is an
// error.
func printEvents(m *netcode.Mesh, failFast bool) error {
	nm := names(m)
	for _, ev := range m.PollEvents() {
		who := string(ev.Peer)
		if n := nm[ev.Peer]; n != "" {
			who = n
		}
		line := "event " + ev.Kind.String()
		if who != "" {
			line += " " + who
		}
		if ev.Err != nil {
			line += ": " + ev.Err.Error()
		}
		fmt.Println(line)
		if ev.Kind == netcode.EventConnected {
			fmt.Printf("connect %s %s\n", who, time.Since(started))
		}
		if failFast && (ev.Kind == netcode.EventFailed || ev.Kind == netcode.EventLeft) {
			return fmt.Errorf("peer %s %s: %v", who, ev.Kind, ev.Err)
		}
	}
	return nil
}

func runMesh(ctx context.Context, o options) error {
	m, err := netcode.Join(ctx, meshConfig(o, []netcode.ChannelSpec{
		{Label: "rel", Reliability: transport.Reliable},
		{Label: "dg", Reliability: transport.Unreliable},
	}))
	if err != nil {
		return err
	}
	defer m.Close()
	fmt.Printf("joined %s\n", m.Local())
	rel, dg := m.Channel("rel"), m.Channel("dg")

	want := o.peers - 1
	hello := map[transport.PeerID]bool{} // reliable hello received
	gotDG := map[transport.PeerID]bool{} // at least one datagram received
	done := map[transport.PeerID]bool{}  // peer finished its checks
	greeted := map[transport.PeerID]bool{}
	sentDone := false
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for seq := 0; ; seq++ {
		select {
		case <-ctx.Done():
			st := m.Stats()
			return fmt.Errorf("timeout: peers %d/%d, hello %d, datagrams %d, done %d, stats %+v",
				len(m.Peers()), want, len(hello), len(gotDG), len(done), st.Peers)
		case <-tick.C:
		}
		if err := printEvents(m, o.failFast); err != nil {
			return err
		}
		for _, p := range m.Peers() {
			if !greeted[p] && rel.Send(p, []byte("hello "+o.name)) == nil {
				greeted[p] = true
			}
		}
		_ = dg.Broadcast(fmt.Appendf(nil, "dg %s %d", o.name, seq))
		for msg, ok := rel.TryRecv(); ok; msg, ok = rel.TryRecv() {
			switch string(msg.Data[:min(len(msg.Data), 5)]) {
			case "hello":
				hello[msg.From] = true
			case "done ":
				done[msg.From] = true
			}
		}
		for msg, ok := dg.TryRecv(); ok; msg, ok = dg.TryRecv() {
			gotDG[msg.From] = true
		}
		if !sentDone && len(hello) >= want && len(gotDG) >= want {
			if err := rel.Broadcast([]byte("done " + o.name)); err == nil {
				sentDone = true
			}
		}
		if sentDone && len(done) >= want {
			break
		}
	}
	nm := names(m)
	for _, p := range m.Stats().Peers {
		if !p.Connected {
			continue
		}
		fmt.Printf("link %s %s %s local=%s remote=%s rtt=%v\n", o.name, nm[p.Peer], p.Link, p.LocalCandidate, p.RemoteCandidate, p.RTT)
	}
	// Linger so our own "done" reaches everyone before we say goodbye.
	time.Sleep(500 * time.Millisecond)
	fmt.Println("ok")
	return nil
}
