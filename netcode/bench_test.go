//go:build !js

package netcode

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkMeshFormation measures how long n peers on loopback take from
// their Join calls to a full mesh (every handshake done), with a real
// signaling server. ns/op is one formation.
func BenchmarkMeshFormation(b *testing.B) {
	for _, n := range []int{2, 4, 8} {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			sig := startSignaling(b)
			for i := range b.N {
				meshes := make([]*Mesh, n)
				for j := range meshes {
					meshes[j] = join(b, sig.url(), fmt.Sprintf("r%d", i), fmt.Sprintf("p%d", j))
				}
				waitMesh(b, 30*time.Second, meshes...)
				b.StopTimer()
				for _, m := range meshes {
					_ = m.Close()
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkRTT measures the application round trip of a 64-byte message
// between two peers on loopback: one side echoes. ns/op is one round trip;
// p50/p99 are reported as extra metrics.
func BenchmarkRTT(b *testing.B) {
	for _, label := range []string{"unrel", "rel"} {
		b.Run(label, func(b *testing.B) {
			sig := startSignaling(b)
			a := join(b, sig.url(), "room", "a")
			e := join(b, sig.url(), "room", "e")
			waitMesh(b, 10*time.Second, a, e)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() { // echo
				for {
					msg, err := e.Channel(label).Recv(ctx)
					if err != nil {
						return
					}
					_ = e.Channel(label).Send(msg.From, msg.Data)
				}
			}()
			msg := make([]byte, 64)
			rtts := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if err := a.Channel(label).Send(e.Local(), msg); err != nil {
					b.Fatal(err)
				}
				rctx, rcancel := context.WithTimeout(ctx, time.Second)
				_, err := a.Channel(label).Recv(rctx)
				rcancel()
				if err != nil {
					b.Fatal(err) // a lost datagram on loopback: not expected
				}
				rtts = append(rtts, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(rtts)
			b.ReportMetric(float64(rtts[len(rtts)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(rtts[len(rtts)*99/100].Microseconds()), "p99-µs")
			cancel()
		})
	}
}
