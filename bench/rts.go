package bench

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// The RTS profile (README "RTS profile"): 8 players, a 60 Hz simulation,
// one lockstep datagram every 200 ms, against the Age of Empires budget
// ("1500 Archers on a 28.8", Bettner and Terrano, GDC 2001: 8 players on
// a 28.8 kbit/s modem, 200 ms communication turns).
const (
	RTSSeats        = 8
	RTSSendInterval = 200 * time.Millisecond
	AoEBudgetKbps   = 28.8
)

// RTSNetcode is the mesh tuning of the RTS profile: the link upkeep that
// a game datagram every 200 ms makes redundant is cut.
//
// ICE keepalives off: pion's agent (ice/v4 v4.4.8, agent.go) runs its
// task loop at most every 2 s (its default keepalive interval caps the
// loop's period, whatever the configured one) and sends a STUN binding
// request on the selected pair at every run, whatever the traffic (its
// doc says "if no packet has been sent", the code does not check), each
// answered by the peer: 7 STUN datagrams/s and 6.5 kbit/s per peer of an
// 8-player mesh, a keepalive above 2 s changes nothing. A zero interval
// turns them off (pion's SettingEngine; netcode.Config treats 0 as its
// default, so the SettingEngine hook sets it). Any packet received keeps
// a pair connected, so the links live on the game's datagrams and the
// mesh's RTT probe, every 5 s (instead of 500 ms; lockstep measures the
// RTT it needs itself), and the disconnected and failed timeouts are 12
// s and 20 s so that an idle link (a lobby) with a probe each way every
// 5 s never looks disconnected. Browsers answer STUN requests and send
// their own consent checks, which pion answers.
//
// Cost: a dead link is declared disconnected after 12 s (default 2 s)
// and failed after 32 s (lockstep's own DisconnectTimeout, 5 s, still
// decides when a silent player is voted out of a match), the mesh's RTT
// figures (netcode.PeerStats.RTT) refresh every 5 s, and a link whose
// peer restarted while signaling lost the room is probed for 5 s before
// it is replaced. NAT bindings (UDP timeouts of 30 s and more) are kept
// by the probes.
func RTSNetcode(c *netcode.Config) {
	disconnected, failed := 12*time.Second, 20*time.Second
	c.ICEDisconnectedTimeout, c.ICEFailedTimeout = disconnected, failed
	c.PingInterval = 5 * time.Second
	prev := c.SettingEngine
	c.SettingEngine = func(se *webrtc.SettingEngine) {
		if prev != nil {
			prev(se)
		}
		se.SetICETimeouts(disconnected, failed, 0) // keepalives off
	}
}

// RTSCommandEvery is how often an RTS player of the benchmarks gives a
// command: every 20 ticks (3 a second, 180 actions per minute, a busy
// player); its input is the zero value in between.
const RTSCommandEvery = 20

// RTSInput is seat's input at tick in the RTS benchmarks: a command (a
// non-zero input for one tick) every RTSCommandEvery ticks, seats
// staggered, the zero input otherwise.
func RTSInput(tick, seat int) Input {
	if tick%RTSCommandEvery == seat%RTSCommandEvery {
		return Input{Buttons: uint8(tick) | 1, Axis: int16(seat)}
	}
	return Input{}
}

// RTSSweepRTTs are the RTTs (ms) the RTS profile is shown at.
var RTSSweepRTTs = []int{50, 150, 300}

// RTSSweep is one row of the RTS profile's memnet sweep: the 8-seat
// cell every tick (the baseline) and with the 200 ms send interval.
type RTSSweep struct {
	RTTms     int       `json:"rtt_ms"`
	EveryTick SweepCell `json:"every_tick"`
	RTS       SweepCell `json:"rts"`
}

// RunGroupCell is RunSweepCell for seats peers (each ticking
// tick/seats after the previous one) with lockstep.Config.SendInterval
// send: memnet, a symmetric link of RTT/2 one-way latency and loss,
// adaptive delay, warmup+measure of memnet time (run it inside
// testing/synctest). The delay is sampled on every peer, the stalls are
// the worst peer's. It fails if two peers step different inputs for a
// frame or a session reports an error.
func RunGroupCell(seats int, send, rtt time.Duration, loss float64, seed uint64, warmup, measure time.Duration) (SweepCell, error) {
	n := memnet.New(memnet.Config{Seed: seed, Link: memnet.Link{Latency: rtt / 2, Loss: loss}})
	defer n.Close()
	ids := make([]transport.PeerID, seats)
	for i := range ids {
		ids[i] = transport.PeerID(fmt.Sprintf("p%d", i))
	}
	sess := make([]*lockstep.Session[Input], seats)
	for i, id := range ids {
		s, err := lockstep.NewSession[Input](n.Join(id).Channel(LabelInput, transport.Unreliable),
			lockstep.Config{Seats: ids, SendInterval: send, Adaptive: lockstep.AdaptiveDelay{Enabled: true}})
		if err != nil {
			return SweepCell{}, err
		}
		defer s.Close()
		sess[i] = s
	}
	inputs := make([][]uint64, seats) // a hash of the inputs peer p stepped for frame f
	var delays []int
	base := make([]lockstep.Stats, seats)
	warm := int(warmup / SweepTick)
	total := warm + int(measure/SweepTick)
	for tick := range total {
		if tick == warm {
			for p, s := range sess {
				base[p] = s.Stats()
			}
		}
		for p, s := range sess {
			time.Sleep(SweepTick / time.Duration(seats))
			steps, err := s.Advance(RTSInput(tick, p))
			if err != nil {
				return SweepCell{}, fmt.Errorf("peer %d tick %d: %w", p, tick, err)
			}
			for _, st := range steps {
				h := uint64(14695981039346656037)
				for _, v := range st.Inputs {
					h = (h ^ uint64(v.Buttons) ^ uint64(uint16(v.Axis))<<8) * 1099511628211
				}
				if int(st.Frame) != len(inputs[p]) {
					return SweepCell{}, fmt.Errorf("peer %d stepped frame %d after %d frames", p, st.Frame, len(inputs[p]))
				}
				inputs[p] = append(inputs[p], h)
				s.ReportChecksum(st.Frame, h)
			}
			if tick >= warm {
				delays = append(delays, s.Stats().InputDelay)
			}
		}
	}
	frames := len(inputs[0])
	for p := range inputs {
		frames = min(frames, len(inputs[p]))
	}
	for p := range inputs {
		if !slices.Equal(inputs[p][:frames], inputs[0][:frames]) {
			return SweepCell{}, fmt.Errorf("peers 0 and %d stepped different inputs", p)
		}
	}
	for _, s := range sess {
		for _, e := range s.PollEvents() {
			if e.Kind == lockstep.EventDesync {
				return SweepCell{}, errors.Join(errors.New("desync"), e.Err)
			}
		}
	}
	c := SweepCell{RTTms: int(rtt / time.Millisecond), Loss: loss, Frames: frames, Theory: TheoryDelay(rtt)}
	for p, s := range sess {
		st := s.Stats()
		ticks, stalls := st.Ticks-base[p].Ticks, st.Stalls-base[p].Stalls
		if p == 0 || stalls > c.Stalls {
			c.Ticks, c.Stalls = ticks, stalls
		}
		c.LongestStall = max(c.LongestStall, st.LongestStall)
	}
	if c.Ticks > 0 {
		c.StallRate = float64(c.Stalls) / float64(c.Ticks)
		c.StallsPerMin = float64(c.Stalls) / measure.Minutes()
	}
	fd := make([]float64, len(delays))
	for i, d := range delays {
		fd[i] = float64(d)
	}
	c.DelayMedian = Median(fd)
	if len(delays) > 0 {
		c.DelayMax = slices.Max(delays)
	}
	return c, nil
}
