package bench

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func joinMeshes(b *testing.B, n int) *Meshes {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ms, err := JoinMeshes(ctx, n)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ms.Close)
	return ms
}

// BenchmarkRTTNetcode adds the SDK rungs to the ladder of BenchmarkRTT:
// a netcode Unreliable Channel (64-byte ping) and a lockstep frame (two
// sessions playing ping-pong over that channel, see LockstepRTT).
func BenchmarkRTTNetcode(b *testing.B) {
	b.Run("netcode-unreliable", func(b *testing.B) {
		ms := joinMeshes(b, 2)
		benchRTT(b, NewConnPinger(ms.M[0].Channel(LabelInput), ms.M[1].Channel(LabelInput)))
	})
	b.Run("lockstep-frame", func(b *testing.B) {
		ms := joinMeshes(b, 2)
		b.ReportAllocs()
		b.ResetTimer()
		d, lost, err := LockstepRTT(ms.M[0].Channel(LabelInput), ms.M[1].Channel(LabelInput), 50, b.N)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		s := d.Summary()
		b.ReportMetric(Micros(s.P50), "p50-µs")
		b.ReportMetric(Micros(s.P99), "p99-µs")
		b.ReportMetric(float64(lost), "lost")
	})
}

// BenchmarkThroughputNetcode: one op is one message, netcode Reliable
// channel and chat lines (64 B).
func BenchmarkThroughputNetcode(b *testing.B) {
	for _, size := range []int{64, 1024} {
		b.Run("netcode-reliable/"+sizeName(size), func(b *testing.B) {
			ms := joinMeshes(b, 2)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			t, err := ConnThroughput(context.Background(), ms.M[0].Channel(LabelBulk), ms.M[1].Channel(LabelBulk), size, b.N, 50*time.Microsecond)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(t.MsgsPerSec(), "msgs/s")
		})
	}
	b.Run("chat/64B", func(b *testing.B) {
		ms := joinMeshes(b, 2)
		b.SetBytes(64)
		b.ReportAllocs()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		b.ResetTimer()
		t, err := ChatThroughput(ctx, ms.M[0].Channel(LabelChat), ms.M[1].Channel(LabelChat), 64, b.N)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(t.MsgsPerSec(), "msgs/s")
	})
}

// BenchmarkMeshFormation: one op forms a full mesh of n peers on loopback
// (signaling join, offers, ICE, DTLS, SCTP, handshake, every channel
// open). ms/mesh is the formation time, start of all joins to the last
// peer seeing the others.
func BenchmarkMeshFormation(b *testing.B) {
	for _, n := range []int{2, 4, 8} {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			var ds Durations
			for range b.N {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				ms, err := JoinMeshes(ctx, n)
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				ds = append(ds, ms.Formation)
				b.StopTimer()
				ms.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(ds.Quantile(0.5))/1e6, "ms/mesh")
		})
	}
}

// BenchmarkMeshGame: 8 peers in this process, each a netcode mesh playing
// lockstep at 60 Hz; one op is one 60 Hz tick of every peer (so b.N=1 is
// a short smoke; bench/cmd/report plays 30 s). cpu-%/peer is process CPU
// per peer as a share of one core; kbit/s/peer the upload of one peer.
func BenchmarkMeshGame(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r, err := RunMeshGame(ctx, 8, max(time.Duration(b.N)*SweepTick, 250*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r.PerPeerPercent, "cpu-%/peer")
	b.ReportMetric(r.UploadKbps, "kbit/s/peer")
	b.ReportMetric(r.DatagramWire, "B/datagram-wire")
}

// BenchmarkDatagram reports the steady-state lockstep datagram (payload
// handed to the data channel) for 2, 4 and 8 seats, 3-byte inputs.
func BenchmarkDatagram(b *testing.B) {
	for _, seats := range []int{2, 4, 8} {
		b.Run(fmt.Sprintf("seats=%d", seats), func(b *testing.B) {
			var mean float64
			for range b.N {
				var err error
				if mean, err = DatagramSizes(seats); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(mean, "B/datagram")
		})
	}
}

// BenchmarkRTSUpload: the RTS profile's upload against the every-tick
// baseline, in one run: 8 peers in this process, each a netcode mesh
// playing lockstep at 60 Hz, first sending every tick, then every 200 ms
// (lockstep.Config.SendInterval), each player giving a command every 20
// ticks (RTSInput). Per peer: kbit/s on the wire (IP/UDP
// headers, DTLS, SCTP, SACKs and STUN included), lone SACK and STUN
// datagrams per second, and the ratio of the two uploads. One op is one
// 60 Hz tick of every peer, at least 1 s of each (bench/cmd/report
// -only rts plays 30 s with one process per peer).
func BenchmarkRTSUpload(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d := max(time.Duration(b.N)*SweepTick, time.Second)
	base, err := RunMeshGameWith(ctx, 8, d, GameOptions{Commands: true})
	if err != nil {
		b.Fatal(err)
	}
	rts, err := RunMeshGameWith(ctx, 8, d, GameOptions{SendInterval: RTSSendInterval, Netcode: RTSNetcode, Commands: true})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(base.UploadKbps, "kbit/s/peer-every-tick")
	b.ReportMetric(rts.UploadKbps, "kbit/s/peer-200ms")
	b.ReportMetric(rts.UploadKbps/base.UploadKbps, "upload-ratio")
	b.ReportMetric(base.SACKs, "sacks/s/peer-every-tick")
	b.ReportMetric(rts.SACKs, "sacks/s/peer-200ms")
	b.ReportMetric(rts.STUN, "stun/s/peer-200ms")
	b.ReportMetric(rts.Packets, "pkts/s/peer-200ms")
	b.ReportMetric(rts.DelayMedian, "delay-frames-200ms")
	b.ReportMetric(float64(rts.Stalls), "stalls-200ms")
}
