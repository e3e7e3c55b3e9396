// Package netcode puts a program into a full mesh of WebRTC data channels
// with every other peer of a room, found through a signaling server. It is
// the only Peerplay package that uses pion's WebRTC stack.
//
// Quick start:
//
//	mesh, err := netcode.Join(ctx, netcode.Config{
//		SignalURL: "wss://signal.example.com/ws",
//		Room:      "lobby-1",
//		GameID:    "pong",
//		Build:     "1.0.3",
//		Channels: []netcode.ChannelSpec{
//			{Label: "chat", Reliability: transport.Reliable},
//			{Label: "input", Reliability: transport.Unreliable},
//		},
//	})
//	if err != nil {
//		return err
//	}
//	defer mesh.Close()
//	if err := mesh.WaitPeers(ctx, 1); err != nil { // at least one other player
//		return err
//	}
//	chat := mesh.Channel("chat")
//	_ = chat.Broadcast([]byte("hello"))
//	for { // the game loop
//		for msg, ok := chat.TryRecv(); ok; msg, ok = chat.TryRecv() {
//			fmt.Printf("%s: %s\n", msg.From, msg.Data)
//		}
//		for _, ev := range mesh.PollEvents() {
//			log.Println(ev) // connected, left, refused, ...
//		}
//		// ... simulate, render ...
//	}
//
// Draining follows the repository's drain convention (CONTRIBUTING.md):
// TryRecv for data, PollEvents for facts, its slice valid until the next
// call, the newest Config.EventQueueLen events kept and drops counted.
//
// # Design
//
// Offerer rule. Each pair of peers has one PeerConnection, and only the
// peer with the lower signaling ID creates the offer, so offers never
// collide (no glare) and nothing is ever renegotiated. The offering side
// also makes the ICE restarts.
//
// Identity. A peer's mesh ID (Mesh.Local, the From of its messages) is
// derived from its key: the SHA-256 of the DER SubjectPublicKeyInfo of
// Config.Identity's public key, first 20 bytes, lowercase base32 (32
// characters, signaling's ID alphabet). Every PeerConnection of the mesh
// presents a self-signed DTLS certificate for that key, and once DTLS is
// up each side checks that the certificate the other presented in the
// handshake hashes to the ID it claimed; a link that fails is refused
// before any data flows (see "Threat model"). A game that keeps its
// Identity (MarshalIdentity / ParseIdentity) keeps its ID across runs;
// by default each Mesh has a fresh key. NewSigner(identity) signs with
// it, carrying the public key so that any peer can check a signature
// against the signer's ID, even one relayed by a third peer (lockstep's
// Config.Signer: signed admissions). Every channel is a
// transport.SignerSource: it gives the mesh identity's Signer for a
// group of key-derived IDs (nil if one is a browser ID, and in the
// browser build), which lockstep uses when Config.Signer is nil, so
// admissions over a mesh are signed by default. An RSA identity's
// signature (over 550 bytes) does not fit an admission: such a peer
// does not coordinate rejoins (lockstep doc, "Rejoin").
//
// Signaling. Offers, answers and trickled ICE candidates travel as small
// JSON messages (versioned) through the signaling server; remote
// candidates that arrive before the remote description are queued. Each
// message names its PeerConnection by a random session number and carries
// the ID the sender claims (Mesh.Local): a claim, checked against the DTLS
// certificate before it counts. The signaling ID (seat) is for routing
// only: the server stamps the sender's seat on every relayed signal, and
// netcode sends to a peer's seat and learns a peer's new seat (after it
// re-joined a restarted server) only from a link that proved the peer's
// key, never from what a signal says. An offer from another seat for an
// ID that already has a link opens a "challenger" PeerConnection that is
// kept apart: if its certificate proves the key, the existing link is
// probed with a ping: if it answers it learns the new seat, if it is down
// or silent (the peer restarted with its kept Identity) the challenger
// replaces it; otherwise it is refused and that seat ignored.
// One room member speaks for one mesh peer at a time, so a member cannot
// make others open connections for made-up IDs.
//
// Channels. Every channel is pre-negotiated (negotiated: true) with a fixed
// SCTP stream ID: 0 is the mesh's reliable control channel (handshake,
// refusal, goodbye), 1 its unreliable ping channel (RTT), and application
// channel i of Config.Channels gets ID 2+i. Reliable channels are ordered
// and retransmitted, with SCTP's retransmission timeout capped at 200 ms
// (instead of pion's 1 s floor); Unreliable channels are unordered with
// maxRetransmits 0 and carry at most MaxUnreliableSize (1150) bytes per
// message, one SCTP packet (larger: transport.ErrTooLarge). This needs
// pion/datachannel ≥ v1.6.4: older versions silently made negotiated
// channels reliable.
//
// Chunk framing. A Reliable message may be up to its channel's
// ChannelSpec.MaxMessageBytes long (default Config.MaxMessageSize,
// 16 MiB; a lobby or chat channel should say 16 KiB). A received message
// above the limit is dropped at its first chunk and its other chunks are
// skipped unread (ChannelStats.TooLarge). On the wire each SCTP message of a Reliable application
// channel starts with one kind byte: 0 = a whole message follows (messages
// under 16 KiB); 1 = the first chunk, then a big-endian uint32 total
// length, then data; 2 = a middle chunk; 3 = the last chunk. Chunks are at
// most 16 KiB, the size every browser accepts; the channel is ordered, so
// chunks arrive in order and never interleave. Unreliable messages are sent
// as they are.
//
// Handshake. When the control channel opens, each side sends a Hello:
// protocol version, GameID, Build, Name and its channel table. A peer
// whose version, GameID, Build or channel table differs is refused on both
// sides: each sends a Refuse frame, closes the connection and reports
// EventRefused with a *RefusedError (errors.Is(err, ErrRefused)). The
// connection is closed once the Refuse frame is acknowledged (at most 5 s,
// in the background; flushRefuse in peer.go), so that the refused peer
// hears why even on a starved machine or across a lost packet. Refused
// peers are not retried. A peer enters Peers (and the channels' Peers),
// and its data starts flowing, only after the handshake and once every
// channel is open.
//
// Inboxes and overflow. Each channel has an inbox per sending peer,
// bounded by Config.InboxLen messages and Config.InboxBytes bytes. An
// Unreliable message that does not fit is dropped and counted
// (ChannelStats.DroppedInbox). A Reliable message is never dropped: the
// channel's read loop waits for room, SCTP's receive window fills, and the
// sender's Send then fails loudly with transport.ErrSlowConsumer once
// Config.MaxReliableBuffered bytes are queued. On the sending side pion
// queues without bound, so an Unreliable Send is dropped (and counted as
// DroppedStale) once Config.MaxUnreliableBuffered bytes wait for one peer:
// stale game datagrams are worth less than fresh ones. Send never blocks.
//
// Memory budget. On top of those per-channel bounds, everything this mesh
// holds for one remote peer (its unfinished chunked messages and its
// messages in every inbox, counted by allocated size) shares one budget,
// Config.PeerMemory (default 8 MiB plus the largest Reliable
// MaxMessageBytes: 24 MiB with the defaults, 8 MiB + 16 KiB for a game
// whose Reliable channels carry at most 16 KiB). A chunked message is
// received into a 64 KiB buffer, then into one buffer of its announced
// size once it outgrows that, each charged before it is allocated (so a
// lone First chunk costs 64 KiB, not its announced size). Overflow rule:
// a Reliable read loop that needs more waits (stops reading: the peer's
// SCTP window fills and its Send fails with ErrSlowConsumer) while some
// of the peer's messages wait in the inboxes, since the game frees them
// by taking them; if unfinished chunked messages alone fill the budget,
// the message that needs more is dropped and its remaining chunks skipped
// (ChannelStats.DroppedBudget) rather than waiting, because one SCTP
// association has one receive window: a stalled stream could starve the
// very message it waits for. So an honest peer sending two big messages
// at once on two channels to a game that holds nothing of it may lose
// one (counted) when both do not fit together. An Unreliable message
// that does not fit is dropped (DroppedInbox). All are counted in
// PeerStats.OverBudget, and PeerStats.Memory shows the budget in use. An
// unfinished chunked message that gets no chunk for Config.ChunkTimeout
// (10 s; time in which the peer's data waits for the game does not
// count) is dropped and its memory freed (ChannelStats.ChunkTimeouts).
// Other peers are never affected. pion's SCTP and DTLS layers hold about
// 1 MiB more per peer under a flood (measured: TestRedTeamUnfinishedChunks,
// TestRedTeamReliableFlood). In the browser, the browser itself queues
// without back-pressure: netcode's pipe fails the peer above 32 MiB
// queued per channel.
//
// Peer life. Events report Connecting, Connected, Disconnected (ICE lost
// the peer; the offering side tries up to Config.ICERestarts ICE restarts
// while signaling is up), Connected again on recovery, and finally one of
// Left (the peer said goodbye, closed its connection, or left the room
// while unreachable), Failed (no connection within ConnectTimeout, or
// disconnected longer than PeerTimeout) or Refused. A Failed peer's
// connection is gone with whatever it held: Reliable messages sent to it
// and not yet acknowledged are lost, not carried to the peer's next
// connection (a process starved of CPU for longer than the ICE timers and
// PeerTimeout together, ~17 s with the defaults, looks like a lost peer to
// the others; TestRedTeamUnfinishedChunks saw it beside a CPU hog). Games
// whose messages must survive that resend at their own level (lockstep's
// rejoin does: the rejoined seat catches up from a snapshot or the log).
//
// Signaling outages. Once connected, peers talk directly: if the
// signaling server goes away, traffic continues (EventSignalingLost). The
// signaling client resumes its seat when the server returns; if the
// server lost the seat (it restarted), the mesh joins the room again with
// a new signaling ID but keeps its mesh ID, and EventSignalingRestored
// follows. New peers can then join.
//
// Blocking. Mesh.Block(id, reason) closes every link to an identity at
// once, tells it (a Refuse frame, reason "blocked") and refuses it until
// Mesh.Unblock: the network side of a lobby kick. The blocked peer keeps
// trying, silently ignored, so an Unblock lets it back in within a
// connect timeout. The room's owner's Block also has the signaling server
// kick the peer's seat (it leaves the room and its count; an honest
// kicked mesh reports EventSignalingLost with ErrKicked and stays out:
// the game may Join again after an Unblock). The server knows seats, not
// keys, so a hostile peer may come back under a new seat; every mesh that
// blocked its key still refuses it.
//
// Hostile peers. Every byte from a peer goes through total decoders: bad
// frames and oversize messages are dropped and counted (ChannelStats
// Malformed), a bad handshake is refused, and nothing a peer sends can
// panic the mesh or grow a queue without bound. Each side advertises that
// it accepts SCTP messages of at most 64 KiB (netcode's own are at most
// 16 KiB), so a conforming stack cannot wedge SCTP's 1 MiB receive buffer
// with one giant message.
//
// Logging goes to Config.Logger, pion's own logs included (attribute
// "pion" = pion's scope). Close says goodbye to every peer and returns
// once every goroutine the mesh started has exited.
//
// In the browser (GOOS=js GOARCH=wasm) pion drives the browser's
// RTCPeerConnection: the same API works, but the ICE and SCTP tuning is
// the browser's (the Config fields marked "Native builds only" say what
// applies there instead), Stats' transport counters come from the
// browser's getStats() and are up to 500 ms old, and identity is weaker
// (see "Threat model"). Package browsertest runs all of this in Chromium
// against native peers.
//
// # Threat model
//
// Assume any peer of a room may be hostile, and the signaling server
// routes honestly but vouches for nothing.
//
// A hostile peer can always: leave, lag, stop reading, send garbage (it
// is dropped and counted in ChannelStats.Malformed), refuse the handshake,
// or send well-formed messages with lying content: what the messages say
// is for the protocols above (lockstep, lobby, chat) to judge.
//
// A hostile peer can never:
//   - Speak as another peer. Message.From is the ID the remote's DTLS
//     certificate proved, and an ID is the hash of a public key: taking
//     one means finding a key whose SHA-256 prefix of 160 bits matches. A
//     link whose certificate does not prove the ID its signals claimed is
//     refused (EventRefused, Event.Peer = the ID the key does prove, Err
//     an *IdentityError matching ErrImpersonation; Stats.Impersonations),
//     and the signaling seat it spoke from is ignored by that mesh from
//     then on.
//   - Replace or disturb another peer's live link by claiming its ID: the
//     claim opens a challenger connection (at most one per seat, at most
//     8 at once), which is refused unless it proves the key. The live link
//     is not touched, its seat not changed.
//   - Crash the mesh, or make it hold more than Config.PeerMemory for
//     itself (see "Memory budget"): an unfinished chunked message times
//     out, a flood fills only its own budget, and other peers are
//     unaffected.
//
// What a squatter (a room member claiming an ID it cannot prove) can
// still do: cost each peer it targets one PeerConnection and DTLS
// handshake per signaling seat it gets (re-joining signaling for a new
// seat is rate-limited by the server); win the race to a peer that has no
// link to the claimed ID yet, which delays the real link by that
// handshake (the real peer's offer is a challenger that replaces the
// squatter's unproven attempt once proven) and may show the game an
// EventConnecting / EventFailed pair for the claimed ID. A hostile
// signaling server can deny service (drop, delay or misroute signals) and
// see who talks to whom, but cannot make a peer accept an ID the other
// side's key does not prove.
//
// The browser build is weaker. pion's js binding cannot give the
// RTCPeerConnection a certificate (the browser makes a fresh one per
// connection and keys cannot be imported), so a browser mesh cannot prove
// a key-derived ID: it takes a random ID of its own form ("~" + 32
// characters), which every peer accepts unproven, and Config.Identity is
// not used. A live link to a browser peer is still never replaced from
// another seat (no challenger can prove a browser ID), but a squatter that
// reaches a peer first may hold a browser peer's ID there, and a browser
// peer's new seat is not learned after a signaling restart (its link
// carries on; a later ICE restart towards it fails and it reconnects).
// A browser mesh checks native peers' IDs where the browser exposes the
// remote certificate (RTCDtlsTransport.getRemoteCertificates: Chromium),
// and accepts them unchecked where it does not (Firefox), with a log
// line. The a=fingerprint of the SDP does not help: it hashes the whole
// certificate, not the public key.
//
// # Stats
//
// Mesh.Stats reports, per peer, the ping channel's RTT (median, jitter),
// packet and byte counters, drops, and the type of the ICE candidate pair
// in use: PeerStats.Link is the less direct of its two ends (host <
// prflx < srflx < relay). To show a player what matters without ICE
// vocabulary use Link.Class(), PeerStats.Direct or PeerStats.Relayed:
// LinkDirect (host, prflx, srflx: peer to peer, possibly through NATs)
// or LinkRelayed (through a TURN server: more latency, and the server's
// bandwidth).
//
// Expect prflx, not srflx, for a direct link through NATs, even
// endpoint-independent ("port-restricted" or full-cone) ones: pion
// gathers its server-reflexive candidates on sockets of their own, while
// the pair that wins runs between the host sockets, each side learning
// the other's NAT mapping from the connectivity checks that arrive, i.e.
// as a peer-reflexive candidate. srflx shows only when that socket's pair
// happens to win. Both mean the same thing to a player: direct.
//
// # Room listing
//
// Mesh.SetRoomInfo publishes the room's listing (name, game, state, max
// players) on the signaling server, where GET /rooms lists it; RoomInfo
// reads it back. It never blocks, and the listing survives a signaling
// restart: a mesh that re-joins a server that lost the room puts it back.
// A lobby (package lobby) can drive it from the game loop:
//
//	if st := lb.State(); st.Host == st.Local { // one member publishes
//		if li := st.Listing(); li != published {
//			published = li
//			_ = mesh.SetRoomInfo(netcode.RoomMeta{State: li.State, Max: li.MaxPlayers})
//		}
//	}
//
// # TURN failures
//
// A TURN server that refuses this side's allocation (expired or wrong
// credentials: 401) leaves the peer without relay candidates, and behind
// a symmetric NAT that means no connection at all. pion only logs such a
// refusal, so each PeerConnection gets a logger of its own whose ICE
// scope netcode watches for pion's "failed to allocate on TURN client"
// warning and the TURN error response it carries (in the browser: the
// RTCPeerConnection's icecandidateerror event for a turn: URL). The
// refusal is logged at once; if the peer then fails, its EventFailed
// error wraps a *TURNError with the server, the URL and the STUN error
// code: errors.Is(ev.Err, ErrTURNAuth) for a credentials problem,
// errors.Is(ev.Err, ErrTURN) for any TURN failure. A peer left with no
// local candidate at all (Config.RelayOnly with a refused TURN
// allocation) fails as soon as gathering ends, not after ConnectTimeout.
// Watching the log rather than probing the TURN server ourselves costs
// nothing extra on the wire (no second allocation per peer) and reports
// exactly the allocation ICE made; the price is a dependency on pion's
// log call (its format string, or the TURN error response among its
// arguments), which TestTURNFailure pins and the loopback and vnet tests
// exercise end to end against the pion in go.mod.
//
// Config.RelayOnly sends every link through TURN (ICE transport policy
// relay), so peers never learn each other's IP addresses.
//
// SCTP start. Native builds enable SCTP SNAP (sctp-init in the SDP): the
// association starts from the INIT chunks in the two descriptions, with
// no INIT/COOKIE handshake (a peer that sends no sctp-init, a browser
// today, gets the handshake). The handshake's timers are capped by
// SCTPRTOMax like data retransmissions, so with the 200 ms cap it gave up
// after about 1.8 s whenever the other side was slow to start SCTP (a
// loaded machine), leaving a "connected" PeerConnection without data
// channels until ConnectTimeout; and pion/sctp v1.12.1's ClientContext
// returns a failed handshake's error without closing the association,
// whose read loop then blocks forever in completeHandshake once a late
// COOKIE ECHO arrives (a goroutine leak). Upstream-able fixes: close the
// association on a handshake error in sctp.ClientContext, and let the T1
// timers keep RFC 9260's RTO.Max (60 s) when RTOMax is lowered for data.
//
// SCTP and ICE upkeep of a sparse game stream (#20, measured in
// bench/REPORT.md "RTS profile bandwidth"). pion/sctp v1.12.1 answers
// nearly every DATA packet with a SACK packet of its own (93 B on the
// wire): it never bundles a SACK with outgoing DATA, and its delayed-ack
// timer is a fixed 200 ms. It also marks an Unreliable channel's message
// (maxRetransmits 0) abandoned when it first sends it, so a SACK arriving
// while the next message is in flight makes it skip that message with an
// I-FORWARD-TSN, which the receiver SACKs too. An 8-peer mesh sending
// every 200 ms pays 45 such packets a second per peer, 33 kbit/s, a
// third of its upload; bench/patches has the bundling change (26 lines,
// 90.5 -> 65.5 kbit/s). pion/ice v4.4.8 sends a STUN binding request on
// the selected pair at least every 2 s whatever the traffic (a keepalive
// above 2 s changes nothing); a zero keepalive turns them off, which
// netcode.Config cannot say (0 is its default): bench.RTSNetcode does it
// through the SettingEngine hook and says what it costs.
//
// Fast ICE (#20). pion waits before nominating a pair by type (host 0,
// srflx 500 ms, prflx 1 s, relay 2 s); those waits, not the network, set
// connect times through NAT. Native builds use host 0, srflx and prflx
// 100 ms, relay 200 ms: short enough (netlab TestConnectTimes, zero added
// delay, median of both ends of 5 runs: direct through port-restricted
// NATs 1.04 s -> 0.224 s, relayed through symmetric NATs 2.05 s ->
// 0.225 s; pion checks pairs every 200 ms, which sets the floor), long
// enough that a LAN pair still picks host (with no wait at all two peers
// behind one router nominated a hairpin srflx pair, TestConnectivityMatrix)
// and a direct pair that works at once beats a relay.
//
// Relay to direct (#20). A link that connected through TURN moves to a
// direct path that did not work at first or appeared later: while the
// selected pair is relayed (and both sides offered a direct candidate),
// the offering side makes an ICE restart after 1 s relayed, then after
// 2, 4, 8 and 16 s (Config.UpgradeProbes, 5), and then one a minute for
// as long as the link stays relayed (Config.UpgradeInterval), upgrade.go:
// players' networks change mid-match (a router reboot, a VPN dropped, a
// firewall rule lifted). An ICE restart keeps DTLS, SCTP and every data
// channel; it gathers and checks all pairs again, and the acceptance
// waits let a direct pair that works win over the relay. Both sides
// report EventLinkChanged when a connected link moves between relayed and
// direct (checked every 250 ms), and Stats, which reads the selected pair
// at each call, says what it is.
//
// Measured (netlab TestRelayUpgrade: port-restricted NATs whose routers
// drop each other's UDP until both ends are relayed, then the rule is
// lifted; median of 5, the later end; load average 10 on 2 cores):
// direct 1.47 s after the direct path appeared (1.50 s after the relayed
// connect); a numbered Reliable stream both ways (one message per 5 ms)
// arrived whole and in order, its longest pause 15 ms (at load 25:
// 1.34 s, pauses 0.12-0.77 s). A path that opens 40 s after the relayed
// connect, after the quick probes (TestRelayUpgrade/late): direct 55 s
// after it opened, at the first slow probe (91 s after the connect),
// the streams whole; before the slow probes it was never found.
//
// The cost of a probe. pion drops the selected pair for the restart, so
// each probe pauses the link until the new checks pass (Reliable data is
// retransmitted by SCTP, Unreliable datagrams of that moment are lost):
// with no direct path, longest pause 34 ms at load 10, 55-142 ms at load
// 13-16, up to 0.25 s at load 25. On the wire (TestVNetRelayUpgradeCost,
// a quiet relayed link): 11.6 KB in 91 UDP packets at one peer's NAT
// (STUN and TURN: a new allocation each time, and the checks) plus
// 3.7 KB of signaling for the two peers, against 5.1 KB in 45 packets per
// 2 s of the link's own upkeep; once a minute that is about 1.8 kbit/s
// and a pause of a few frames. Limits: a browser offerer probes only
// where the browser shows the selected pair (Chromium's
// getSelectedCandidatePair; not covered by browsertest).
//
// Crossed punches (ice_punch.go). A router without a WAN-input firewall
// (the third case) accepts an unsolicited datagram for itself,
// and Linux conntrack keeps its entry (peer:port -> wan:port); when our
// own check to that peer leaves afterwards, MASQUERADE must give it
// another source port (the tuple is taken) and the peer's NAT drops it.
// ICE checks from both sides always cross like that (at LAN latency the
// first to arrive wins by far), so such a pair stayed relayed through
// every probe (netlab TestRelayUpgrade/noinput, routers with no INPUT
// drop and a router between them: 3 probes, relayed throughout). On the
// upgrade probes both sides now prime each ICE socket with a
// zero-length datagram of TTL 2 to each direct IPv4 address the peer
// offered, as soon as both are known: it maps our socket at our own
// router (hop 1) and dies at the next hop, before it can reach the
// peer's router. And the answering (ICE-controlled) side holds the
// offer's direct candidates 250 ms + 2 RTT (at most 1 s) before handing
// them to pion, so its own checks leave after the offering side learned
// our candidates and primed; it answers the offering side's checks
// meanwhile. Measured: direct in 5 runs of 5, median 1.45 s after the
// path appeared, the same as with a firewall (a second series at load
// 15-19: 5 of 5, median 1.47 s, one of them at the second probe, 3.85
// s); priming alone and holding alone each left the pair relayed (one
// run each, 3 probes). Only
// native Linux builds prime (an IP_TTL control message on pion's own
// sockets, seen through the transport.Net netcode hands pion, so not
// when a SettingEngine hook sets its own Net); initial connects do
// neither (such a pair connects relayed and goes direct at the first
// probe, 1 s later). A TTL of 2 assumes the peer's router is more than
// one hop past ours: with a carrier-grade NAT at hop 2 or further the
// primer dies before it and helps nothing (the checks work as before).
// pion lacks both knobs; the smallest upstream-able change is in
// pion/ice: an agent option that, before the first check of a pair,
// sends a TTL-limited primer from the local candidate's socket (say
// WithPrimerTTL(2)), and one that delays the controlled agent's own
// ordinary checks after a restart while answering and triggering checks
// as now (WithControlledCheckDelay(d)); in pion/webrtc, SettingEngine
// setters for both (and a getter for the Net it was given).
//
// Lying peers: an answerer that offers direct candidates that never work
// costs each offering peer at most UpgradeProbes + t/UpgradeInterval ICE
// restarts over t seconds of a link (the count is never reset for a
// peer, so going direct and relayed again buys no quick probes;
// TestVNetRelayUpgradeNone checks the bound all along). Each new direct
// address a peer sends during a probe makes us send one zero-length
// TTL-2 datagram from each live ICE socket (at most 16 addresses and 32
// sockets remembered, a repeated address nothing: TestPunchBound), less
// than the checks pion sends to the same address; a TTL-2 datagram
// cannot reach past the next router. An offerer could always restart ICE
// at will, and now also makes us hold its direct candidates for at most
// 1 s per restart (it delays only our own checks to it) and makes
// EventLinkChanged, at most one per 250 ms, into the bounded event
// queue.
//
// Why not pion's renomination. pion/ice v4.4.8 has it (non-standard,
// ice-options:renomination; SettingEngine.SetICERenomination turns on
// its automatic mode, the only one pion/webrtc exposes: every 3 s the
// controlling side moves to a host-host pair over a relayed one, an RTT
// 10 ms better or a quality score 15 % better) under the same DTLS and
// SCTP, with no pause at all. Three things keep it off: with it the
// controlling side sometimes never saw a cut after an ICE restart (ICE
// stayed "connected" while the other side failed; TestVNetICERestart 3
// failures in 18 under a CPU hog, not isolated); its automatic mode pings
// every candidate pair on every keepalive tick (500 ms) for the life of
// the link, direct or not (estimated, not measured: a dozen pairs per
// link through NATs x 2/s x ~130 B is ~25 kbit/s per link, against the
// RTS profile's 64 kbit/s per peer for all its links); and its relay-to-direct rule counts only host-host pairs as
// direct (a srflx/prflx path through NATs must win on the score). The
// smallest upstream-able change that would replace the probes: in
// pion/ice, a predicate for automatic renomination (say
// WithRenominationPolicy(func(selected *CandidatePair) bool)) that gates
// both keepAliveCandidatesForRenomination and checkForAutomaticRenomination,
// so an agent probes only while its selected pair is relayed, and a
// shouldRenominate rule that treats any pair without a relay end as
// direct; in pion/webrtc, a RenominationOption passing it through. A
// browser peer without renomination would still keep its first pair.
package netcode
