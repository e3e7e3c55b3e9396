// Package netplay puts demo/pong on a Peerplay mesh: it implements
// play.Network and play.Room with netcode (WebRTC), lobby (names, ready,
// seats, seed), chat and lockstep (the match), plus the host's
// embedded signaling + STUN server and LAN discovery (package lan).
//
// Channels of a pong mesh: "lobby" and "chat" are Reliable, "input" is
// Unreliable (lockstep frames; never inputs on a reliable channel),
// "stream" (lockstep.Streamer/Spectator) and "control" (lockstep's
// Config.Control, the readmission agreement) are Reliable.
//
// # Watching
//
// Every player's Match runs a lockstep.Streamer (snapshots on: the state
// is sim.State's 64-byte encoding, decodeState checks it) and gives it
// every step, the checksum of every 30th frame, a snapshot when a
// subscriber waits for one, and Finish at the end. A watcher (Config.Watch,
// pong -watch) is a lobby member that is never seated (lobby.Config.Watch,
// so it takes no player's place in a full room); on lobby.EventWatch its
// Match is a lockstep.Spectator of the Source player, the other seat
// witnessing with its checksums, WatchDelay frames behind (all frames at
// the end). It restores the snapshot, fast-forwards and plays the same
// steps, so it ends on the players' final state; a checksum that a
// witness contradicts is a desync. Its Seat is -1; SetReady does nothing.
// When the Source dies or stops streaming while the match goes on, the
// Spectator switches to the other player by itself (lockstep's "Source
// failover"; a new snapshot is restored when that player's log no longer
// holds the frames) and the room notes "the stream from ann stopped:
// watching from bob" (TestWatchSourceStopsStreaming). With two seats
// nothing verifies the frames after that by a majority: one source is
// left (lockstep.SpectatorStats.Verified stays where it was).
// Rollback players (-rollback) stream their confirmed frames
// (rollback.Session.Steps) with the states after them from their
// history ring, so a watcher cannot tell them from lockstep players. A
// restarted rollback player rejoins as a lockstep one does (rollback
// sessions run the same Control agreement; catchUpRollback).
//
// # Rejoin
//
// A player whose game died (killed, crashed) and who enters the room
// again with the same identity (Config.Identity; main keeps it in a file)
// gets lobby.EventRejoin with its seat of the running match. Its Match
// then starts lockstep with Config.Join and a Spectator of the other seat
// without delay: the join request (repeated until admitted) also stands
// for the dead session's goodbye, so the other seat drops it and admits
// it at a frame R; the game restores the snapshot, plays the stream up to
// R-1 (steps the admitting Advance returned are kept for after), then
// plays on. Meanwhile the other player's game says "waiting for NAME...",
// then that NAME is back. A seat that leaves without a goodbye no longer
// ends the match at once: lockstep waits and, with two seats, ends it
// after twice its disconnect timeout (cut off); one who quits (a lobby
// goodbye) ends it after LeaveGrace unless they enter again meanwhile
// (a restarted player's lobby may say goodbye to a lobby it founded
// first).
//
// The host comes back the same way. Its game runs the room's signaling
// server (unless -signal), so a restart must reopen that room: with
// Config.RoomFile, Host keeps the room's code and port in that file
// while the room is open (Close removes it), and a Host that finds the
// file reopens the room with that code, on that port when Listen says
// port 0 (roomfile.go). The file expires: one not rewritten for
// RoomFileMaxAge (2 min; an open room rewrites it every 30 s) is ignored,
// so a host that died in the lobby and starts days later opens a new room.
// Network.HostedRoom names the room a Host would reopen (the menu offers
// it as "Rejoin your room CODE"); a joiner's Config.JoinFile keeps the
// target it joined the same way (Network.JoinedRoom, the menu's "Rejoin
// TARGET"). The other player's mesh re-dials signaling
// (netcode resumes when the server is back: backoff from 250 ms up to
// 5 s), the lobby it now hosts (a migration) keeps the running match,
// and the restarted host's lone lobby follows it (lobby: a running lobby
// wins over a lone peer's). Meanwhile the other player's Room does not
// end when the embedded host's peer fails during a match the host plays
// in ("the host left, which closes the room" only outside one): lockstep
// waits for it, and cuts it off after twice its disconnect timeout.
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
