package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

// GameRun is n peers in one process, each a netcode mesh running a
// lockstep session at 60 Hz, for Duration.
type GameRun struct {
	Peers    int
	Duration time.Duration
	// CPU is the process's user+system CPU time over Duration (all peers,
	// pion, and the idle in-process signaling server); CPUPercent is it as
	// a share of one core, PerPeerPercent that divided by Peers.
	CPU            time.Duration
	CPUPercent     float64
	PerPeerPercent float64
	// UploadKbps is the mean UDP upload of one peer, IP/UDP headers
	// included (28 bytes per datagram), in kbit/s.
	UploadKbps float64
	// DatagramWire is the mean size of one UDP datagram sent, IP/UDP
	// headers included.
	DatagramWire float64
	// Frames is the fewest frames a peer ran; Stalls the most stalled
	// ticks of a peer.
	Frames int
	Stalls uint64
	// Per peer and second: UDP datagrams sent (Packets), of which lone
	// SCTP SACKs (SACKs, see SACKWire) and STUN (ICE keepalives), and
	// the lockstep datagrams handed to the data channels (Frames). SACKs
	// per remote peer is SACKs / (Peers-1).
	Packets, SACKs, STUN, LockstepDatagrams float64
	// LockstepBytes is the mean lockstep datagram handed to the data
	// channel (payload only).
	LockstepBytes float64
	// DelayMedian is the median input delay over the peers' last ticks.
	DelayMedian float64
}

// IPUDPHeader is the IPv4 + UDP header of every datagram (RFC 791, 768).
const IPUDPHeader = 20 + 8

// RunMeshGame forms an n-peer mesh on loopback and plays lockstep on it at
// 60 Hz for d (after a 1 s warm-up), measuring CPU and upload.
func RunMeshGame(ctx context.Context, n int, d time.Duration) (GameRun, error) {
	return RunMeshGameWith(ctx, n, d, GameOptions{})
}

// GameOptions vary a mesh game (zero: the defaults, as RunMeshGame).
type GameOptions struct {
	// SendInterval is the sessions' lockstep.Config.SendInterval (0:
	// a datagram every tick). The 1 s warm-up covers the start-up, when
	// a session sends every tick until its links are measured (8 pings).
	SendInterval time.Duration
	// Netcode, if set, tunes every peer's netcode.Config (RTSNetcode).
	Netcode func(*netcode.Config)
	// Commands plays RTSInput (a command now and then, the zero input
	// otherwise) instead of an input that changes every tick.
	Commands bool
	// ChecksumInterval is the sessions' lockstep.Config.ChecksumInterval
	// (0: its default, 30 frames).
	ChecksumInterval int
}

// RunMeshGameWith is RunMeshGame with options.
func RunMeshGameWith(ctx context.Context, n int, d time.Duration, opt GameOptions) (GameRun, error) {
	send := opt.SendInterval
	wire := make([]*WireCounter, n)
	for i := range wire {
		wire[i] = &WireCounter{}
	}
	ms, err := JoinMeshesTuned(ctx, n, wire, opt.Netcode)
	if err != nil {
		return GameRun{}, err
	}
	defer ms.Close()
	seats := make([]transport.PeerID, n)
	for i, m := range ms.M {
		seats[i] = m.Local()
	}
	sess := make([]*lockstep.Session[Input], n)
	for i, m := range ms.M {
		s, err := lockstep.NewSession[Input](m.Channel(LabelInput), lockstep.Config{Seats: seats, SendInterval: send, ChecksumInterval: opt.ChecksumInterval, Adaptive: lockstep.AdaptiveDelay{Enabled: true}})
		if err != nil {
			return GameRun{}, err
		}
		defer s.Close()
		sess[i] = s
	}
	run := func(dur time.Duration) error {
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i, s := range sess {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := time.NewTicker(SweepTick)
				defer t.Stop()
				end := time.Now().Add(dur)
				var in Input
				tick := 0
				for now := range t.C {
					if now.After(end) || ctx.Err() != nil {
						return
					}
					if opt.Commands {
						in = RTSInput(tick, i)
					} else {
						in.Buttons++
					}
					tick++
					steps, err := s.Advance(in)
					if err != nil {
						errs[i] = err
						return
					}
					for _, st := range steps {
						s.ReportChecksum(st.Frame, uint64(st.Frame))
					}
				}
			}()
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	if err := run(time.Second); err != nil {
		return GameRun{}, err
	}
	var p0, b0, stun0, sack0 [64]int64
	for i, w := range wire {
		p0[i], b0[i] = w.Load()
		stun0[i], sack0[i] = w.Kinds()
	}
	base := make([]lockstep.Stats, n)
	for i, s := range sess {
		base[i] = s.Stats()
	}
	cpu0 := processCPU()
	t0 := time.Now()
	if err := run(d); err != nil {
		return GameRun{}, err
	}
	el := time.Since(t0)
	r := GameRun{Peers: n, Duration: el, CPU: processCPU() - cpu0, Frames: -1}
	r.CPUPercent = 100 * r.CPU.Seconds() / el.Seconds()
	r.PerPeerPercent = r.CPUPercent / float64(n)
	var pk, by, stun, sack int64
	for i, w := range wire {
		p, b := w.Load()
		pk += p - p0[i]
		by += b - b0[i]
		st, sa := w.Kinds()
		stun += st - stun0[i]
		sack += sa - sack0[i]
	}
	perPeerSec := float64(n) * el.Seconds()
	r.Packets, r.SACKs, r.STUN = float64(pk)/perPeerSec, float64(sack)/perPeerSec, float64(stun)/perPeerSec
	var delays []float64
	var dgs, dgBytes uint64
	if pk > 0 {
		r.DatagramWire = float64(by)/float64(pk) + IPUDPHeader
		r.UploadKbps = float64(by+IPUDPHeader*pk) * 8 / 1000 / el.Seconds() / float64(n)
	}
	for i, s := range sess {
		st := s.Stats()
		f := int(st.Frame - base[i].Frame)
		if r.Frames < 0 || f < r.Frames {
			r.Frames = f
		}
		r.Stalls = max(r.Stalls, st.Stalls-base[i].Stalls)
		r.LockstepDatagrams += float64(st.DatagramsSent-base[i].DatagramsSent) / perPeerSec
		dgs += st.DatagramsSent - base[i].DatagramsSent
		dgBytes += st.BytesSent - base[i].BytesSent
		delays = append(delays, float64(st.InputDelay))
	}
	r.DelayMedian = Median(delays)
	if dgs > 0 {
		r.LockstepBytes = float64(dgBytes) / float64(dgs)
	}
	return r, nil
}

// processCPU is this process's user+system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// DatagramSizes runs seats lockstep sessions over locksteptest.Loopback
// (instant, lossless) with a fake 60 Hz clock for 10 s of play and returns
// the mean datagram one seat sent in steady state (3-byte inputs, adaptive
// delay, a checksum every 30 frames) and the mean count of inputs it
// carried.
func DatagramSizes(seats int) (mean float64, err error) {
	ids := make([]transport.PeerID, seats)
	for i := range ids {
		ids[i] = locksteptest.PeerID(i)
	}
	now := time.Unix(1e9, 0)
	clock := func() time.Time { return now }
	var sess []*lockstep.Session[Input]
	for _, c := range locksteptest.Loopback(ids...) {
		s, err := lockstep.NewSession[Input](c, lockstep.Config{Seats: ids, Now: clock, Adaptive: lockstep.AdaptiveDelay{Enabled: true}})
		if err != nil {
			return 0, err
		}
		defer s.Close()
		sess = append(sess, s)
	}
	tick := func() error {
		now = now.Add(SweepTick)
		for _, s := range sess {
			steps, err := s.Advance(Input{Buttons: 1})
			if err != nil {
				return err
			}
			for _, st := range steps {
				s.ReportChecksum(st.Frame, uint64(st.Frame))
			}
		}
		return nil
	}
	for range 300 {
		if err := tick(); err != nil {
			return 0, err
		}
	}
	st0 := sess[0].Stats()
	for range 600 {
		if err := tick(); err != nil {
			return 0, err
		}
	}
	st := sess[0].Stats()
	dg := st.DatagramsSent - st0.DatagramsSent
	if dg == 0 {
		return 0, fmt.Errorf("bench: no datagrams sent")
	}
	return float64(st.BytesSent-st0.BytesSent) / float64(dg), nil
}

// PeerResult is what one peer process of a multi-process game measured
// about itself.
type PeerResult struct {
	Seconds    float64 `json:"seconds"`     // length of the measured window
	CPUPercent float64 `json:"cpu_percent"` // its user+system CPU over the window, % of one core
	UploadKbps float64 `json:"upload_kbps"` // its UDP upload, IP/UDP headers included
	Frames     int     `json:"frames"`      // frames run in the window
	Stalls     uint64  `json:"stalls"`      // stalled ticks in the window
	// Per second of the window: UDP datagrams sent, of which lone SCTP
	// SACKs and STUN (see GameRun), and lockstep datagrams handed to the
	// data channels, with their mean payload; the median input delay.
	Packets           float64 `json:"packets_per_s"`
	SACKs             float64 `json:"sacks_per_s"`
	STUN              float64 `json:"stun_per_s"`
	LockstepDatagrams float64 `json:"lockstep_per_s"`
	LockstepBytes     float64 `json:"lockstep_bytes"`
	DelayMedian       float64 `json:"delay_median"`
	// RTTms and JitterMs are the session's estimate of its worst link
	// at the end of the window (Stats.RTT, Stats.Jitter).
	RTTms    float64 `json:"rtt_ms"`
	JitterMs float64 `json:"jitter_ms"`
	// Wire is its upload by kind over the window.
	Wire WireBreakdown `json:"wire"`
}

// RunPeer is one peer of an n-peer game, meant to run alone in its own
// process: it joins room at the signaling URL, waits for the n-1 others,
// plays lockstep at 60 Hz (adaptive delay, 3-byte inputs) for
// warm+measure+tail, and reports its own CPU and upload over the measure
// window. The tail keeps it playing while peers that started a little
// later finish their windows.
func RunPeer(ctx context.Context, url, room, name string, n int, warm, measure, tail time.Duration) (PeerResult, error) {
	return RunPeerWith(ctx, url, room, name, n, GameOptions{}, warm, measure, tail)
}

// RunPeerWith is RunPeer with options (the RTS profile: SendInterval and
// RTSNetcode).
func RunPeerWith(ctx context.Context, url, room, name string, n int, opt GameOptions, warm, measure, tail time.Duration) (PeerResult, error) {
	wire := &WireCounter{}
	m, err := JoinOneTuned(ctx, url, room, name, wire, opt.Netcode)
	if err != nil {
		return PeerResult{}, err
	}
	defer m.Close()
	if err := m.WaitPeers(ctx, n-1); err != nil {
		return PeerResult{}, err
	}
	seats := append(m.Peers(), m.Local())
	slices.Sort(seats)
	s, err := lockstep.NewSession[Input](m.Channel(LabelInput), lockstep.Config{Seats: seats, SendInterval: opt.SendInterval, ChecksumInterval: opt.ChecksumInterval, Adaptive: lockstep.AdaptiveDelay{Enabled: true}})
	if err != nil {
		return PeerResult{}, err
	}
	defer s.Close()
	t := time.NewTicker(SweepTick)
	defer t.Stop()
	start := time.Now()
	var (
		in          Input
		r           PeerResult
		st0         lockstep.Stats
		cpu0        time.Duration
		p0, b0      int64
		stun0, sak0 int64
		delays      []float64
		t0          time.Time
		begun, done bool
		ws0         wireSnap
		tick        int
	)
	seat := slices.Index(seats, m.Local())
	for now := range t.C {
		el := now.Sub(start)
		if !begun && el >= warm {
			begun, t0, cpu0, st0 = true, now, processCPU(), s.Stats()
			p0, b0 = wire.Load()
			stun0, sak0 = wire.Kinds()
			ws0 = snapWire(wire, m, LabelInput)
		}
		if begun && !done {
			delays = append(delays, float64(s.Stats().InputDelay))
		}
		if begun && !done && el >= warm+measure {
			done = true
			w := now.Sub(t0)
			p, b := wire.Load()
			st := s.Stats()
			r = PeerResult{Seconds: w.Seconds(), CPUPercent: 100 * (processCPU() - cpu0).Seconds() / w.Seconds(),
				UploadKbps: float64(b-b0+IPUDPHeader*(p-p0)) * 8 / 1000 / w.Seconds(),
				Frames:     int(st.Frame - st0.Frame), Stalls: st.Stalls - st0.Stalls}
			stun, sak := wire.Kinds()
			sec := w.Seconds()
			r.Packets, r.SACKs, r.STUN = float64(p-p0)/sec, float64(sak-sak0)/sec, float64(stun-stun0)/sec
			if dg := st.DatagramsSent - st0.DatagramsSent; dg > 0 {
				r.LockstepDatagrams = float64(dg) / sec
				r.LockstepBytes = float64(st.BytesSent-st0.BytesSent) / float64(dg)
			}
			r.DelayMedian = Median(delays)
			r.RTTms, r.JitterMs = float64(st.RTT)/1e6, float64(st.Jitter)/1e6
			r.Wire = breakdown(ws0, snapWire(wire, m, LabelInput), sec)
		}
		if el >= warm+measure+tail || ctx.Err() != nil {
			break
		}
		if opt.Commands {
			in = RTSInput(tick, seat)
		} else {
			in.Buttons++
		}
		tick++
		steps, err := s.Advance(in)
		if err != nil {
			return PeerResult{}, err
		}
		for _, st := range steps {
			s.ReportChecksum(st.Frame, uint64(st.Frame))
		}
	}
	if !done {
		return PeerResult{}, fmt.Errorf("bench: peer %s stopped before its window ended: %v", name, ctx.Err())
	}
	return r, nil
}
