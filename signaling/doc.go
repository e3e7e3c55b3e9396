// Package signaling is what an operator runs to get the peers of a room to
// find each other and through NAT: a WebSocket signaling server (Server, an
// http.Handler) with its Backplane (NewMemoryBackplane; a NATS one in
// signaling/natsbackplane), join tokens minted for game servers
// (MintToken), limits and Stats, an embedded STUN server (ServeSTUN) and an
// embedded TURN server (ServeTURN) with the time-limited credentials of
// coturn's use-auth-secret scheme. After signaling, peers talk directly.
//
// # Package layout: client and server
//
// What a game imports and what an operator runs are separate packages:
//
//   - signaling/sigclient: the client (Client, Dial), its events, the
//     protocol's data types (ICEServer, RoomMeta, RoomInfo, ...) and error
//     codes. It imports no pion package, and netcode imports only it, so a
//     game's binary (wasm included) carries neither the server nor its
//     STUN/TURN serving (TestClientDeps, netcode's TestDeps).
//   - signaling (this package): the server side.
//   - signaling/internal/proto: the wire protocol both share (frame,
//     total decoder, field limits, codes and sentinels). The shared types
//     are aliases, so a RoomMeta or an Event is the same type in both
//     packages (a Backplane carries Events).
//
// The client's old names here (Client, Dial, DialOptions and the client
// Default* constants) are deprecated aliases of sigclient's, kept for one
// release (so are the bare event kinds, PeerJoined, ...); the protocol
// types, codes, sentinels and the Event… kinds stay here as plain aliases,
// since the server and its backplanes use them.
//
// Quick start:
//
//	srv := &signaling.Server{}              // zero value: documented defaults
//	go http.ListenAndServe("127.0.0.1:8080", srv)
//	defer srv.Close()
//
//	c, err := sigclient.Dial(ctx, "ws://127.0.0.1:8080/ws", "lobby-1",
//		sigclient.DialOptions{Name: "alice", GameID: "pong"})
//	if err != nil {
//		return err // errors.Is(err, signaling.ErrRoomFull), ...
//	}
//	defer c.Close()
//	for { // the game loop (CONTRIBUTING.md, the drain convention)
//		for _, ev := range c.PollEvents() {
//			switch ev.Kind {
//			case sigclient.EventPeerJoined: _ = c.Signal(ev.Peer, offerJSON)
//			case sigclient.EventSignal:     handle(ev.Peer, ev.Data)
//			}
//		}
//	}
//
// # Protocol (version 2)
//
// Every message is one WebSocket text message holding one JSON object whose
// "type" field says which other fields apply; it must be valid UTF-8.
// Unknown fields are ignored; a client ignores unknown types (a server
// answers them with bad_request). A signal's payload is opaque bytes: one
// that is a JSON value (an object holding an SDP offer or an ICE
// candidate, say; in UTF-8, no space around it) travels as that value in
// "data", relayed byte for byte, and any other as base64 (standard,
// padded) in "bin"; an empty payload has neither. Version 1 carried every
// payload as base64 in "data"; the two do not interoperate, so a version 2
// server answers a version 1 join with error version (min_version 2). The
// golden files in testdata/golden show every kind.
//
//	client → server
//	  join    version (required; 2), room ([A-Za-z0-9_.-]{1,64}), name, password,
//	          token, game, private, max — or, to resume a seat: version, room,
//	          peer, resume
//	  signal  to, data | bin                  relay a payload to one member
//	  room    meta {name, game, state, max}   change the listing (empty/0 = keep; owner only)
//	  kick    peer                            owner only: remove peer now, refuse it until unkick
//	  unkick  peer                            owner only: let peer back
//	  ping                                    answered by pong
//	  leave                                   leave now (no grace period)
//	server → client
//	  welcome version, room, peer (yours), peers [{id, name}], ice [{urls,
//	          username, credential}], info {room, name, game, players, held,
//	          max, password, state, owner}, limits {max_message_bytes, messages_per_second,
//	          burst, ping_interval_ms, idle_timeout_ms, resume_grace_ms},
//	          resume (token), resumed (true for a resume)
//	  peer-joined peer, name
//	  peer-left   peer
//	  signal  peer (the sender), data | bin
//	  room    info                            the owner changed the room, or the owner changed
//	  ice     ice [{urls, username, credential}]  fresh TURN credentials (half their TTL)
//	  pong
//	  error   code, message [, min_version, max_version] [, peer]
//
// Flow: the client opens the WebSocket (any path except /rooms) and sends
// join within the join timeout. The server checks the version first: a
// version it does not speak gets error "version" with min_version and
// max_version, then the close; never a hang. Then admission: the join token
// (when the server has a TokenSecret), the room's password, game and size,
// the room-count limit. The server answers welcome, and announces
// peer-joined to the others. From then on the client sends signal (to),
// the server relays it as signal (peer) to that member only; room updates
// are broadcast to every member as room, and listed by GET /rooms. A
// member that sends leave or closes the WebSocket normally leaves at once
// (peer-left). A member whose connection is lost keeps its seat for the
// resume grace period: signals to it are buffered (at most 64, oldest
// dropped), and a new connection that sends join with peer and resume
// (the welcome's token) gets the same seat back (welcome with resumed);
// only when the grace period ends do the others see peer-left. Client does
// all this itself (Disconnected, Reconnected events).
//
// Errors carry a stable code. Fatal ones are followed by the close of the
// WebSocket, whose close reason is the code again (so a client that missed
// the message still knows). Refusals before a join (origin, connections,
// rate, shutdown) accept the upgrade, send the error and close with 4403
// (origin), 4429 (rate_limited, too_many_connections from one address) or
// 4503 (the server's capacity, shutdown) and the code as reason: a browser
// sees only a WebSocket's close code and reason, never an HTTP body, and
// the client (native and js/wasm alike) maps both to the same sentinel
// errors. Codes: not_owner (not fatal: a listing update, kick or unkick
// from a member that does not own the room), kicked (the owner removed
// this member; the client does not reconnect), bad_request, version, too_large, rate_limited,
// room_full, bad_password, bad_token, token_expired, wrong_game,
// too_many_rooms, too_many_connections, origin, timeout (no join in time),
// idle (ping unanswered), unknown_peer (not fatal: a signal to a non-member;
// carries peer), resume_failed, slow_consumer, replaced, shutdown,
// unavailable (the server cannot reach its backplane, e.g. NATS: retry
// later; Client's reconnects do), internal. A *ServerError matches the sentinel of its code:
// errors.Is(err, ErrRoomFull).
//
// Keepalive: the server pings (WebSocket ping) every PingInterval and cuts a
// client whose pong does not come within IdleTimeout (idle); the client
// pings the server the same way and reconnects when it does not answer.
// Browsers answer pings by themselves but cannot send one, so the client
// built for js/wasm sends a "ping" message instead and waits for the
// "pong" message (same interval and timeout; ping_js.go).
//
// # Limits (Server fields; zero = default)
//
// Message size 64 KiB (too_large); 50 messages/s per connection with a
// burst of 200 (rate_limited; Client paces itself below it); 10000 rooms
// (too_many_rooms); 16 members per room (room_full); 10000 connections,
// 64 per IP (too_many_connections); join within 10 s (timeout); pings every
// 20 s, answered within 60 s (idle); 256 queued messages per client
// (slow_consumer); resume grace 30 s; browser Origin must match the host
// or OriginPatterns (origin). Join tokens are HMAC-SHA256 (MintToken,
// VerifyToken); passwords are kept salted and hashed.
//
// # Room rules (package internal/rooms, the same for every Backplane)
//
// The creator owns the room; when the owner's seat ends, the oldest
// remaining member (join order) owns it. Only the owner changes the
// listing and kicks. A kicked peer's seat is removed at once (no grace)
// and its ID refused (resume included) until unkick or the room ends. A
// resume token is single-use: every resume returns a new one, so a stolen
// token is void after the owner's next resume. A join token takes one
// seat until it expires. A seat held for the resume grace is listed as
// held, not as a player; it still takes a place in the room.
//
// # Abuse limits per client address
//
// Threat model: one address opening many connections (an address is an
// IPv4 address or an IPv6 /64). Token buckets per address for joins (JoinsPerMinute), room creations
// (RoomsPerMinute) and failures (FailuresPerMinute: wrong password, bad or
// reused join token, failed resume; past the budget the address backs off
// 1 s doubling to a minute, and joins are refused before any check, so
// guessing runs at the configured rate). Held seats count toward
// MaxConnsPerIP, and rooms whose creator seat (attached or held) is from
// the address toward MaxRoomsPerIP, so join-and-drop cannot fill the
// server. LimitListener caps all TCP connections per address (signald
// -max-tcp-per-ip). Stats.Refusals counts every rule (Refuse... reasons).
//
// # Rooms listing
//
// GET /rooms[?game=ID][&limit=N][&cursor=C] answers {"rooms": [{"room",
// "name", "game", "players", "held", "max", "password", "state"}], "next":
// C'} for public rooms, sorted by room, at most N (default 50, at most 200)
// after room C; next is the cursor of the following page. Private rooms
// are never listed.
//
// # STUN and TURN
//
// ServeSTUN answers binding requests on a UDP socket. ServeTURN runs
// pion/turn on a UDP socket and accepts credentials made by TURNCredentials
// with the Server's TURNSecret: username "<unix expiry>:<peer>@<room>",
// password base64(HMAC-SHA1(secret, username)) — coturn's
// --use-auth-secret --static-auth-secret, so coturn can replace it with
// the same secret. The welcome carries fresh credentials (TURNCredentialTTL,
// 10 min) for every ICEServers entry with a turn: URL, and an ice message
// refreshes them while the member stays seated. ServeTURN refuses relaying
// to internal and own addresses (TURNAllowPeers opens a LAN), TCP
// allocations (TURNAllowTCP), allocations beyond the per-user and per-IP
// quotas, and allocations whose credential is expired or names a seat this
// Server does not hold (TURNAnyUser); see turnguard.go.
//
// ServeTURNStreams runs the same TURN server on TCP and TLS listeners too
// (turn:...?transport=tcp and turns:, for players whose network blocks
// UDP), prepared by TURNListener (per-IP cap, first-read and idle bounds);
// relays stay UDP, and one relay guard spans every transport. See
// turnstream.go.
//
// # Backplane
//
// Rooms, seats and delivery live behind the Backplane interface. The
// default, MemoryBackplane, serves one process; Servers sharing a
// Backplane serve the same rooms, which is how several nodes form one
// service: package signaling/natsbackplane keeps the rooms in a NATS
// JetStream KV bucket and delivers over NATS subjects, so signald nodes on
// several machines (signald -nats URL) serve the same rooms, and a client
// resumes its seat on any of them.
package signaling
