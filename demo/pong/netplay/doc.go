// Package netplay puts demo/pong on a Peerplay mesh: it implements
// play.Network and play.Room with netcode (WebRTC), lobby (names, ready,
// seats, seed), chat and lockstep (the match), plus the host's
// embedded signaling + STUN server and LAN discovery (package lan).
//
// Channels of a pong mesh: "lobby" and "chat" are Reliable, "input" is
// Unreliable (lockstep frames; never inputs on a reliable channel).
//
// Quick start (host; a friend calls Join with the room code):
//
//	n, _ := netplay.New(netplay.Config{LAN: true})
//	defer n.Close()
//	room, err := n.Host(ctx, "ann")
//	if err != nil {
//		return err
//	}
//	defer room.Close()
//	fmt.Println(room.JoinHint())
//	_ = room.SetReady(true)
//	for room.Err() == nil { // the game loop, once per tick
//		room.Poll()
//		if m := room.Match(); m != nil {
//			_ = m.Tick(sim.Input{})
//		}
//	}
package netplay
