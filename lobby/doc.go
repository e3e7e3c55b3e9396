// Package lobby lets the peers of a room meet before a game and agree on
// the match, over one Reliable transport.Conn of the mesh the game uses:
// members with a name, a ready flag and a team and seat preference; a host
// who sets the game settings and can kick; host migration; and a start in
// which every seated peer gets the identical Match (seats, settings and a
// seed no single peer chose) or an error.
//
// Quick start (the game loop drives: no callbacks, no goroutines):
//
//	lb, err := lobby.New(mesh.Channel("lobby"), lobby.Config{Name: "alice"})
//	if err != nil {
//		return err
//	}
//	defer lb.Close()
//	lb.SetReady(true)
//	for { // each frame
//		for _, e := range lb.Poll() {
//			if e.Kind == lobby.EventStarted {
//				return play(e.Match.Seats, e.Match.Seed, e.Match.Settings.Data)
//			}
//		}
//		draw(lb.State())
//	}
//
// Give the lobby a channel of its own (it reads every message on it) and
// call Poll every frame. State returns a copy of the roster;
// State().Listing() gives the players/max/state triple to publish in a
// room listing. With a netcode mesh, the host mirrors it into the
// signaling server's listing (GET /rooms) when it changes; the server
// counts the players itself, and the mesh restores the listing after a
// signaling restart:
//
//	var published lobby.Listing
//	for { // each frame, after lb.Poll()
//		if st := lb.State(); st.Host == st.Local {
//			if li := st.Listing(); li != published {
//				published = li
//				_ = mesh.SetRoomInfo(netcode.RoomMeta{State: li.State, Max: li.MaxPlayers})
//			}
//		}
//		// ...
//	}
//
// # Host
//
// A new peer listens for Config.DiscoveryDelay; if no host speaks, it
// founds the lobby. Peers that found lobbies at the same moment merge: a
// Snapshot is a host claim, and every peer follows the best claim it hears
// (higher term, then more members, then the smaller PeerID), so all
// converge on one host. The host admits members in arrival order, gives
// duplicate names a suffix ("sam (2)", EventRenamed), turns peers away when
// MaxPlayers are in (EventRejected), and broadcasts a snapshot of the
// lobby after every change; members ask for changes with their profile.
//
// When the host leaves or disconnects, every member picks the same
// successor from the same rule: the next member in admission order still
// connected. The successor claims the next term and the others follow
// (EventHostChanged); if it stays silent for Config.MigrationTimeout they
// pass over it. Settings, the roster and the ban list carry over.
//
// # Starting
//
// When MinPlayers members are all ready (or the host calls Start), the host
// counts down (EventCountdown); a member joining, leaving or getting
// unready, or new settings, cancel it (EventCountdownCancelled with the
// Reason). Then a start round runs:
//
//  1. Propose (host → seats): the seats (preferences honoured in admission
//     order, then the rest in admission order), teams and settings.
//  2. Commit (seat → seats): SHA-256 of the proposal and of a fresh 32-byte
//     nonce from Config.Rand (crypto/rand by default).
//  3. Reveal (seat → seats): the nonce, sent only after holding every
//     seat's commitment. Each seat checks every nonce against its
//     commitment and computes Seed = SHA-256 over all nonces in seat order.
//  4. Confirm (seat → host): the hash of the Match the seat computed.
//  5. Launch (host → seats): sent only when every seat confirmed the same
//     hash; every seat relays it once to the others.
//
// A peer starts (EventStarted) only on a Launch naming the Match it
// computed itself, so it never starts on a Match another seat does not
// hold. A seat that leaves, a timeout (Config.StartTimeout), a mismatched
// proposal or a nonce that does not open its commitment abandon the round
// on every seat (EventStartFailed with a *StartError naming the peer), and
// the lobby reopens; the peer named is marked unready, so a peer that
// stalls cannot make the lobby retry forever.
//
// What the seed resists: nobody can choose or steer it. A nonce is fixed
// by its commitment before any nonce is known, and the seed depends on all
// of them, so the last peer to reveal can no longer change its
// contribution. What it cannot prevent: that last peer may withhold its
// reveal after seeing the others, which aborts the round (everyone sees
// who did it) — at most a veto, never a choice. A Config.Rand that is
// predictable makes the local contribution predictable.
//
// What "nobody starts alone" means: the host launches only after every
// seat confirmed the same Match, and the relay carries the Launch to every
// seat still connected to any seat that got it. The one case left — a seat
// that loses every link during those few milliseconds — reports
// EventStartFailed while the others start without it, which lockstep then
// sees as a missing peer. No protocol can do better over a network that
// can fail (the two generals problem).
//
// After a match the host calls Reopen to bring everyone back to the
// lobby. A peer joining while a match starts or runs is admitted as Late
// (EventLateArrival) and seated in the next one.
//
// # Trust
//
// Peer bytes never crash a peer: every message goes through a total
// decoder (size, identifier, version and count checks under recover,
// fuzzed) and is dropped and counted (Stats) if it does not fit the
// protocol. A hostile member can still do what a member can: disrupt a
// start round (it is named and marked unready), or claim to be host with a
// higher term, which every peer follows. The lobby has no authority to
// appeal to, as in any serverless lobby; the host's Kick and the ban list
// are the remedy.
//
// Events describe the lobby the local peer follows. Two lobbies merging
// at start-up report the new host and the members that are new to the
// local peer, not the dissolution of the old lobby. EventLeft says
// ReasonLeft when the peer's goodbye arrived before the transport reported
// it gone, ReasonDisconnected otherwise.
//
// The wire format (FlatBuffers, identifier "PPLB", version 1) is documented
// in internal/lobbyfb/README.md beside its schema.
package lobby
