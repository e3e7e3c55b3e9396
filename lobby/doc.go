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
//		for _, e := range lb.PollEvents() {
//			if e.Kind == lobby.EventStarted {
//				return play(e.Match.Seats, e.Match.Seed, e.Match.Settings.Data)
//			}
//		}
//		draw(lb.State())
//	}
//
// Give the lobby a channel of its own (it reads every message on it) and
// call PollEvents every frame. PollEvents follows the repository's drain
// convention (CONTRIBUTING.md): its slice is valid until the next call, the
// queue keeps the newest MaxEvents and counts drops (Stats.EventsDropped),
// a start is delivered once as EventStarted (Match is a snapshot of it);
// Poll is the deprecated, copying alias. The lobby owns display names
// (Member.Name, DisplayName): chat.Config.Names reads them. State returns a copy of the roster;
// State().Listing() gives the players/max/state triple to publish in a
// room listing. With a netcode mesh, the host mirrors it into the
// signaling server's listing (GET /rooms) when it changes; the server
// counts the players itself, and the mesh restores the listing after a
// signaling restart:
//
//	var published lobby.Listing
//	for { // each frame, after lb.PollEvents()
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
// Snapshot is a host claim, and a peer without a host follows the best
// claim it hears; two lobbies merge into the larger one (ties: the smaller
// host PeerID), counting only members connected to the judge and not
// already in its own lobby (see "Threat model"). The host admits members
// in arrival order, gives duplicate names a suffix ("sam (2)",
// EventRenamed), turns peers away when MaxPlayers are in (EventRejected),
// and broadcasts a snapshot of the lobby after every change; members ask
// for changes with their profile.
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
//  2. Commit (seat → seats and host): SHA-256 of the proposal and of a
//     fresh 32-byte nonce from Config.Rand (crypto/rand by default).
//  3. Seal (seat → seats): once it holds every seat's commitment, SHA-256
//     over the proposal and all commitments in seat order.
//  4. Reveal (seat → seats): the nonce, sent only once the seat holds every
//     seat's Seal, each equal to its own: every commitment is fixed, and
//     the same on every seat, before any nonce is known.
//  5. Launch (seat → seats and host): a seat holding every nonce computes
//     Seed = SHA-256 over all nonces in seat order, starts, and sends every
//     nonce on. A receiver checks each nonce against the commitment it
//     holds and starts too, so a nonce that reached one seat reaches all.
//
// Every seat that starts holds the same Match (the same commitments, the
// nonces that open them). A round ends before any reveal on a timeout
// (Config.StartTimeout), a seat leaving, a mismatched proposal or seal, or
// an Abort (EventStartFailed with a *StartError naming the peer, who is
// marked unready so that a stalling peer cannot make the lobby retry
// forever). Once the local peer revealed, nothing calls the round off but
// its own evidence at its own deadline: see "Threat model".
//
// What "nobody starts alone" means: a seat starts only holding every
// nonce, and passes them on; so every seat still connected to one that
// started starts too, unless its deadline passed first (a Launch arriving
// after the deadline still starts the round, as long as no newer round
// replaced it). No protocol can do better over a network that can fail
// (the two generals problem).
//
// After a match the host calls Reopen to bring everyone back to the
// lobby. A peer joining while a match starts or runs is admitted as Late
// (EventLateArrival) and seated in the next one, unless it enters the
// running match (below).
//
// # Entering a running match
//
// The host keeps the running match (Lobby.Running: the seats with their
// current occupants) until Reopen, and answers three kinds of peers
// while it runs. Each gets a Running message, only from the host it
// follows, and the game starts its session from Event.Match (Seats,
// Reserved, Seed, Settings: the same lockstep.Config as at the start):
//
//   - A seat's player back with the same identity (its process crashed
//     and restarted, with the same netcode identity): a seat of the match
//     whose Hello shows it does not hold the match gets it back:
//     EventRejoin with its Seat. No call is needed; the game starts its
//     session with lockstep.Config.Join and catches up from a Streamer
//     (lockstep's "Rejoin and join in progress"). The host itself comes
//     back the same way: its successor (a migration) holds the match, and
//     the restarted host's lone lobby follows a running one. A restart
//     so fast that a member never saw the host's link go (the mesh
//     replaced it) shows as a claim from its host without the member and
//     without the match: the member treats that as the host leaving and
//     migrates (TestRejoinAfterFastHostRestart).
//   - A newcomer, when the host's Settings.LateJoin is on (off by
//     default; members see it in State().Settings): Lobby.JoinRunning
//     asks, and the host gives it the first open seat: a reserved seat
//     still empty (Settings.OpenSeats reserves that many after the
//     players' seats; they hold ReservedID placeholders, listed in
//     Match.Reserved for lockstep.Config.Reserved), else a seat whose
//     player left for good (a goodbye or a kick; a seat whose player only
//     disconnected is held for its rejoin, and a new host after a
//     migration knows no freed seats). Every seat and the newcomer report
//     EventSeated (Peer, Seat): the newcomer starts with Config.Join, the
//     others call their session's Rebind(Seat, Peer). Keep a player's
//     Lobby open while it plays: Lobby.Close says goodbye, which frees
//     its seat in the host's view, and a newcomer seated there waits
//     until lockstep drops the seat (Rebind never moves a seat that
//     plays).
//   - A spectator: Lobby.Watch(true) (or Config.Watch, to join a full
//     lobby as one) makes a member a watcher, never seated and not
//     counted for MaxPlayers (watchers come on top, up to MaxMembers),
//     MinPlayers, the ready check, a countdown or Listing().Players; a
//     watcher cannot turn player while the players are full
//     (TestWatchFullMatch). While a
//     match runs, and when one starts, it gets EventWatch: Source, the
//     first seat connected to the host (run a lockstep.Streamer on every
//     seat so any can be Source), and the other seats as Witnesses.
//     Pass both to the lockstep.SpectatorConfig: when the Source leaves,
//     dies or stops streaming, the Spectator switches to a witness by
//     itself (lockstep's "Source failover"; EventSourceSwitched), with no
//     new EventWatch (TestWatchSourceLeaves: the source, also the host,
//     leaves at tick 600; the watcher follows a witness to frame 1500).
//     Watchers hear EventSeated too, so one that succeeds the host knows
//     who holds every seat (TestWatcherHostKnowsNewcomer).
//
// What a lying peer can do here: nothing names the seat a peer wants; the
// host uses the sender's transport identity (netcode proves it by DTLS),
// so a peer can only get back its own seat (TestRedTeamClaimSeatItDoesNotOwn:
// an outsider's "restarted" hello gets nothing; a peer whose ID looks
// like a placeholder is refused). A Running from anyone but the host is
// refused and named (TestRedTeamRunningFromMember); even the host cannot
// move a receiver's own seat or change the seed of the match it holds
// (TestRedTeamHostMovesLiveSeat, TestRedTeamHostMovesOwnSeatBySeated),
// and lockstep's Rebind moves only a seat that is empty or dropped. A
// watcher is never seated, even if it also asks to join
// (TestRedTeamSpectatorClaimsSeat), or stops watching while the players
// are full (TestRedTeamFullWatcherTakesReservedSeat). Requests are
// idempotent (one seat per peer, repeats answered with the seat it has)
// and the host answers one peer at most every 250 ms, dropping and
// counting the rest in Stats.Ignored (TestRedTeamJoinFlood: 1,000
// requests in 1 s, one seat, at most 5 answers). A lying host can still
// tell a rejoiner or newcomer a wrong match: with another seed or
// settings (passed as lockstep.Config.Seed and Settings) the survivors'
// sessions refuse its join requests and name it, with other seats it is
// never admitted; either way it waits and never plays another game
// (lockstep's TestRedteamRejoinOtherMatch). It can tell a spectator a
// wrong match or name itself the only source (a spectator's state is
// only as good as its sources: lockstep's "Spectators"), or stream
// nothing. And it can tell the seats different newcomers for one open
// seat: the seats then disagree on who holds it, and lockstep admits
// neither newcomer (each lacks the word of a survivor that binds the
// other) and reports the disagreement (lockstep's EventRefused, on both
// sides); the honest seats stall about half a second per attempt, the
// coordinator waits longer after each failed one (lockstep's "Rejoin and
// join in progress", TestRedteamTwoNewcomersOneSeat: 94 % of the frames
// in 60 s, nobody voted out; before, the match crawled at 20 % for as
// long as the newcomers asked). No state diverges and no honest seat is
// lost. (An honest host's Seated reaches every seat: one whose link to
// the host was down when a newcomer was seated is told every seat's
// occupant when it is a member again: TestSeatedReachesSeatBackFromFlap.)
//
// # Kick
//
// Kick is the host's decision; the network enforces it. The host removes
// the member and puts it on the ban list, which every snapshot carries and
// host migration keeps. Every peer's lobby then reports EventBanned naming
// the kicked identity (and EventUnbanned when the host's Unban lifts it);
// Lobby.Banned returns the list. The kicked peer gets EventKicked. The
// lobby never touches the network itself (it imports no netcode); the
// game's loop closes the links and refuses the identity, three lines with
// a netcode mesh:
//
//	for _, e := range lb.PollEvents() {
//		switch e.Kind {
//		case lobby.EventBanned:
//			mesh.Block(e.Peer, "kicked from the lobby")
//		case lobby.EventUnbanned:
//			mesh.Unblock(e.Peer)
//		}
//	}
//
// The host reports its own kick only after Config.KickGrace (1 s) or once
// the kicked peer left, so that its notice, which travels on the host's
// link, arrives before the game cuts that link; the others report it at
// once. The host's listing drops the kicked member at once; netcode's
// Block, on the mesh that owns the signaling room, also has the server
// remove the kicked peer's seat.
//
// # Threat model
//
// Assume any one peer lies. Peer bytes never crash a peer: every message
// goes through a total decoder (size, identifier, version and count checks
// under recover, fuzzed) and is dropped and counted (Stats.Malformed;
// Stats.Oversized above MaxMessageSize = 16 KiB, checked before decoding).
// Messages that break the rules below are refused: counted in
// Stats.Refused and reported as EventRefused naming the sender.
//
// A hostile peer can always: leave, stall, send garbage, refuse to get
// ready, and veto one start round — at the cost of being named
// (EventStartFailed) and, if it vetoes after the nonces started flowing,
// of never being seated again in this lobby by the peers that saw it. A
// hostile host can also do what a host may: set the settings, kick, seat
// members as it likes, or never start.
//
// It can never:
//
//   - Take the lobby over. A term change is accepted only during a host
//     migration the receiver observes itself (the host left its view of
//     the mesh), only from a member of the lobby no later in admission
//     order than the successor the receiver waits for, and only by at most
//     MaxMembers terms. Outside a migration, a claim by the host with
//     another term, or by a member of the lobby, is refused; a competing
//     lobby (an outsider's claim) is joined only if it is larger, and a
//     claim cannot count the receiver's own members (they follow the
//     receiver's host) or peers not connected to the receiver. So a
//     snapshot claiming term 100 moves nobody, and an attacker cannot put
//     anyone on a ban list it has no right to write.
//   - Choose or bias the seed. Every commitment is fixed and agreed (Seal)
//     before any nonce is revealed, and a nonce that reached any seat
//     reaches all (Launch), so the only choice left to the last revealer,
//     who knows the seed before revealing, is to withhold its nonce from
//     everyone. Every seat that revealed then waits until its own
//     deadline (an Abort from anyone is refused and counted:
//     ErrRefusedAbort; a new proposal waits), names the seat whose nonce
//     is missing (StartReasonWithheld; StartReasonLeft if it left,
//     StartReasonBadReveal if it sent a wrong one) and excludes it
//     (State.Excluded): it refuses to commit to any later proposal that
//     seats it (StartReasonExcluded), and the host leaves out a member
//     that it excluded itself or that a majority of the other members
//     refuse (a minority refusal marks the refuser unready instead); if
//     that leaves fewer than MinPlayers seats, no round starts
//     (EventStartFailed, StartReasonExcluded, the excluded marked
//     unready): in a two-player lobby the pair must meet again in a new
//     lobby. A
//     host caught withholding stays host but is never seated again: it
//     can start matches for the others, whose nonces it never sees before
//     the seed is fixed. So each identity gets at most one veto per lobby;
//     TestRedTeamSeedGrinding lets a host try 10,000 times and checks
//     that the seed's low byte is 0x42 no more often than chance.
//   - Make a round fail without a name: every EventStartFailed names a
//     peer (an Abort naming nobody names its sender).
//
// Limits: a peer with no host yet (a newcomer) follows the first claim it
// hears, so a liar that speaks first can keep a newcomer in a fake lobby
// of its own until the real host's game starts without it; a peer whose
// link fails after it revealed is excluded like a withholder (it may have
// seen the seed); exclusion and the ban list last as long as the lobby.
// The lobby has no authority above the host, as in any serverless lobby:
// players who distrust the host leave.
//
// Events describe the lobby the local peer follows. Two lobbies merging
// at start-up report the new host and the members that are new to the
// local peer, not the dissolution of the old lobby. EventLeft says
// ReasonLeft when the peer's goodbye arrived before the transport reported
// it gone, ReasonDisconnected otherwise.
//
// The wire format (FlatBuffers, identifier "PPLB", version 2; the fields
// and the Running message for entering a running match are additions
// that version 2 peers without them ignore or drop as malformed) is documented
// in internal/lobbyfb/README.md beside its schema.
package lobby
