// Package hosted is the embedded host a game runs so that friends can play
// with nothing else: WebSocket signaling over TCP and STUN + TURN over UDP,
// on one port number (7700 by default), so that one port forward on a
// home router (TCP+UDP 7700 to the hosting machine) makes it reachable from
// the internet.
//
// Quick start:
//
//	srv, err := hosted.Listen(hosted.Config{Addr: ":7700", PublicAddr: "203.0.113.7"})
//	if err != nil {
//		return err
//	}
//	defer srv.Close()
//	mesh, err := netcode.Join(ctx, netcode.Config{SignalURL: srv.LocalURL(), Room: "K7Q2"})
//	// friends dial ws://203.0.113.7:7700/ws (LAN friends: ws://LAN-IP:7700/ws)
//
// # Design: advertise what the client dialed, relay through the host
//
// A home host knows its LAN address, not its public one, and a STUN or
// TURN URL with the LAN address is useless to a friend outside (the bug of
// #21: every NAT combination failed). So:
//
//  1. The ICE servers in a client's welcome are at the address that client
//     dialed, read from its HTTP Host header: a friend who dialed
//     203.0.113.7:7700 (the router, forwarding to this machine) gets
//     stun:203.0.113.7:7700 and turn:203.0.113.7:7700; a LAN friend gets
//     the LAN address; the hosting game's own client (loopback) gets none,
//     as it needs none. Whatever reaches signaling reaches STUN and TURN,
//     because they share the forwarded port number. Each distinct dialed
//     address has its own signaling.Server, all sharing one
//     MemoryBackplane (so they serve the same rooms) and one TURN secret;
//     Config.MaxHosts bounds them (overflow rule: further addresses share
//     the default server, whose ICE servers are at RelayIP).
//  2. TURN runs on the forwarded UDP port (pion/turn also answers STUN
//     binding requests there, so one socket serves both), so a relay
//     through the host always exists: the friend allocates a relay on the
//     host machine through its own NAT's single mapping to the forwarded
//     port, which works behind any NAT, symmetric included; the hosting
//     game reaches the relay address (RelayIP, its LAN address) locally.
//     The relayed path runs host-local, so it costs no extra internet hop.
//     Where both sides' NATs allow it, ICE still finds a direct pair
//     first; netlab's hosted tests log which one each side used.
//
// Rejected alternative: binding the hosting game's ICE to the forwarded
// port with a UDP mux and a 1:1 NAT address. It needs the public address
// up front (unknown without an outside server), and the port would carry
// ICE, STUN and TURN at once, to be demultiplexed by hand.
//
// The public address: Config.PublicAddr if the user gave it, else the
// first public address (or DNS name) a client dialed, else a public
// address of the machine's own interfaces (PublicAddr). A game shows it in
// its join instructions; when it is unknown, the host cannot tell whether
// a port is forwarded at all, so the game should say what friends outside
// the LAN need (a forward and -public-addr, or a public signald).
//
// # Threat model
//
// Signaling keeps all of signaling.Server's limits, but each per-address
// server has its own, so a client that varies its Host header can hold up
// to MaxHosts times the per-IP limits (connections, rooms): bounded, and
// acceptable for a game host among friends; a public deployment runs
// cmd/signald instead. The TURN server accepts only credentials made with
// this host's random secret, which welcomes hand out to seated members;
// TURNAnyUser is on because seats live on the per-address servers, not on
// the TURN one. TURN's default refusal of private and own addresses is
// lifted for exactly this machine's own interface addresses and RelayIP
// (plus Config.AllowPeers): the hosting game's candidates are there. So a
// seated member can send UDP through the relay to any port of the hosting
// machine's own addresses (as a LAN member could anyway), but not to other
// machines of the host's LAN (the router's admin page, say), nor to
// loopback. A Host header is the client's word: a lying client only
// changes the ICE servers in its own welcome (and those of clients who
// claim the same address), and can make PublicAddr report its lie if it is
// the first to dial a public-looking address; PublicAddr is for display
// and never dialed.
package hosted
