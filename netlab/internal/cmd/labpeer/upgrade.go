package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/netcode/transport"
)

// runUpgrade joins a two-peer room and, once the other peer is connected,
// sends it a numbered stream on a Reliable channel (one message every
// 5 ms) for o.stream, while watching the link type. It prints:
//
//	link <peer> <type> at=<unix ns>       at connect and at every change of Stats' link type
//	stream <peer> sent=<n> received=<m> gaps=<g> reordered=<r> maxpause=<d> probes=<k>
//	ok                                    the peer's whole stream arrived, in order, once
//
// The stream ends with an "end <n>" message carrying the count sent, so a
// message lost at the end is seen too. Any gap, repeat or reordering
// makes the run fail (exit 1) after the stream line. maxpause is the
// longest time without a stream message arriving (the sender sends every
// 5 ms; this peer reads every 10 ms): the longest hiccup, e.g. while the
// link switched paths. probes is Stats' UpgradeProbes for the peer.
func runUpgrade(ctx context.Context, o options) error {
	m, err := netcode.Join(ctx, meshConfig(o, []netcode.ChannelSpec{
		{Label: "rel", Reliability: transport.Reliable},
	}))
	if err != nil {
		return err
	}
	defer m.Close()
	fmt.Printf("joined %s\n", m.Local())
	rel := m.Channel("rel")
	if err := m.WaitPeers(ctx, 1); err != nil {
		return fmt.Errorf("waiting for the peer: %w", err)
	}
	peer := m.Peers()[0]

	var (
		lastLink          netcode.LinkType
		sent, next        uint32 // next: the sequence number expected
		gaps, reordered   int
		peerEnd           = -1 // the count the peer says it sent
		ended             bool
		streamEnd         = time.Now().Add(o.stream)
		buf               [8]byte
		name              string
		lastRecv          time.Time
		maxPause          time.Duration
		sendTick, pollTic = time.NewTicker(5 * time.Millisecond), time.NewTicker(10 * time.Millisecond)
	)
	defer sendTick.Stop()
	defer pollTic.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("timeout: sent %d, received %d (peer's end %d), link %v", sent, next, peerEnd, lastLink)
		case <-sendTick.C:
			if ended {
				continue
			}
			if time.Now().After(streamEnd) {
				binary.BigEndian.PutUint32(buf[:4], 0xffffffff)
				binary.BigEndian.PutUint32(buf[4:], sent)
				if err := rel.Send(peer, buf[:8]); err != nil {
					return fmt.Errorf("send end: %w", err)
				}
				ended = true
				continue
			}
			binary.BigEndian.PutUint32(buf[:4], sent)
			if err := rel.Send(peer, buf[:4]); err != nil {
				return fmt.Errorf("send %d: %w", sent, err)
			}
			sent++
		case <-pollTic.C:
		}
		if err := printEvents(m, true); err != nil {
			return err
		}
		if ps, ok := m.Stats().Peer(peer); ok && ps.Connected && ps.Link != lastLink && ps.Link != netcode.LinkUnknown {
			lastLink = ps.Link
			if name == "" {
				name = ps.Name
			}
			fmt.Printf("link %s %s at=%d\n", name, ps.Link, time.Now().UnixNano())
		}
		for msg, ok := rel.TryRecv(); ok; msg, ok = rel.TryRecv() {
			if len(msg.Data) == 8 && binary.BigEndian.Uint32(msg.Data) == 0xffffffff {
				peerEnd = int(binary.BigEndian.Uint32(msg.Data[4:]))
				continue
			}
			if len(msg.Data) != 4 {
				return fmt.Errorf("stream: a %d-byte message", len(msg.Data))
			}
			if now := time.Now(); !lastRecv.IsZero() {
				maxPause = max(maxPause, now.Sub(lastRecv))
				lastRecv = now
			} else {
				lastRecv = now
			}
			switch seq := binary.BigEndian.Uint32(msg.Data); {
			case seq == next:
				next++
			case seq > next:
				gaps++
				next = seq + 1
			default:
				reordered++
			}
		}
		if ended && peerEnd >= 0 {
			break
		}
	}
	ps, _ := m.Stats().Peer(peer)
	fmt.Printf("stream %s sent=%d received=%d gaps=%d reordered=%d maxpause=%v probes=%d\n",
		name, sent, next, gaps, reordered, maxPause.Round(time.Millisecond), ps.UpgradeProbes)
	if gaps > 0 || reordered > 0 || int(next) != peerEnd {
		return fmt.Errorf("stream: %d gaps, %d reordered, received up to %d of %d", gaps, reordered, next, peerEnd)
	}
	// Linger so our own end reaches the peer before we say goodbye.
	time.Sleep(500 * time.Millisecond)
	fmt.Println("ok")
	return nil
}
