// Package netlab is Peerplay's kernel network lab (test layer 5): real
// network namespaces joined by veth pairs and bridges, home routers that
// NAT with iptables, and Peerplay programs running as separate processes on
// separate network stacks.
//
// Quick start (in a _test.go file behind the netlab build tag, run as root):
//
//	func TestHello(t *testing.T) {
//		lab := netlab.New(t, netlab.Config{})
//		home := lab.AddRouter("home", netlab.NATRestricted)
//		alice := home.AddHost("alice")
//		out, err := alice.Run(context.Background(), "ip", "-br", "addr")
//		if err != nil {
//			t.Fatal(err)
//		}
//		t.Logf("%s", out) // eth0 UP 192.168.1.11/24
//	}
//
// # Topology
//
// Every lab has an internet namespace; a test adds routers, hosts behind
// them, public hosts and isolated LANs. Numbering follows the order of the
// Add calls (router N, host M of its router, public host N, LAN N):
//
//	                  internet namespace (signald, STUN, TURN run here)
//	             bridge inet0: 203.0.113.1/24 and 198.51.100.1/24
//	              no default route, no route to any private range
//	        +------------------+--------------+-----------------------+
//	        |                  |                                      |
//	  wan0 203.0.113.11   wan0 203.0.113.12                 eth0 203.0.113.101
//	  +--------------+    +-----------------+               public host 1
//	  | router 1     |    | router 2        |               (no NAT)
//	  | MASQUERADE   |    | MASQUERADE      |
//	  | (restricted) |    | --random-fully  |               isolated LAN 1:
//	  | lan0         |    | (symmetric)     |               switch namespace,
//	  | 192.168.1.1  |    | lan0 192.168.2.1|               bridge lan0 10.10.1.1,
//	  +--+--------+--+    +--------+--------+               no uplink
//	     |        |                |                        +----+-----+
//	192.168.1.11 192.168.1.12  192.168.2.11            10.10.1.11   10.10.1.12
//	  host 1     host 2        host 1                    host 1       host 2
//	  (one LAN segment: they also reach each other directly)
//
// Routers' default route is 203.0.113.1; hosts' default route is their
// router (or, on an isolated LAN, the switch at 10.10.N.1, which forwards
// nothing: the default route exists because broadcast/multicast sends fail
// with "network is unreachable" without one). The internet namespace has no
// route to any 192.168.N.0/24 or 10.10.N.0/24, so private addresses are
// unreachable from outside their segment, as on the real internet. IPv6 is
// disabled in every namespace but those of AddLAN6's IPv6-only segments
// (fd00:10:N::/64, no IPv4 but loopback, no uplink).
//
// Router.BlockUDP turns a router into an office/hotel firewall: it drops
// every UDP packet it would forward between its LAN and the internet, so
// its hosts reach the internet over TCP only (TURN over TCP or TLS).
//
// # NAT types
//
// NATRestricted is iptables MASQUERADE. Linux keeps the host's source port
// unless it clashes, so the mapping is the same whatever the destination
// (endpoint-independent mapping), while conntrack admits only replies from
// the exact address and port a host sent to (address-and-port-dependent
// filtering): a "port-restricted cone". ICE connects two such hosts with
// server-reflexive (srflx) candidates.
//
// NATSymmetric is MASQUERADE --random-fully: each new 5-tuple gets a random
// source port, so the address STUN reports is useless to a peer
// (address-and-port-dependent mapping). Two such hosts, or one such host
// and a restricted one, connect only through TURN (relay).
//
// Both routers also drop traffic from the WAN that conntrack did not see go
// out, forwarded or addressed to the router itself, as a home router's
// firewall does. The second drop keeps hole punching working: see
// Lab.AddRouter. TestNATMapping, TestNATFiltering, TestHolePunch and
// TestSegments prove these behaviours with real packets (the natprobe
// helper) before any Peerplay test relies on them. Impairment (delay,
// loss) is not modelled: tc netem is missing on the CI kernel.
//
// # Isolation and cleanup
//
// Namespaces are named "<prefix>-<run id>-<name>" (prefix "pplab", run id 8
// random hex digits), so parallel and aborted runs never collide. Veth
// pairs are created directly inside their namespaces, bridges and iptables
// rules live inside them: nothing is added to the root namespace (no
// interface of the lab is connected to it, so no packet can leave the
// lab), and deleting a lab's namespaces removes every interface, bridge
// and rule it made. New registers the teardown with t.Cleanup, so it runs
// when a test fails or calls t.Fatal: it SIGKILLs every process left in
// the namespaces (ip netns pids), deletes them, and fails the test if any
// remains (TestCleanup checks this, also for a test that fails fatally).
// Processes started with Host.Start carry Pdeathsig=SIGKILL, so they die
// with the test binary.
//
// A live run holds an flock on /run/netlab/<prefix>-<run id>.lock. New
// first calls Sweep, which deletes the namespaces (and kills the processes)
// of every run whose lock is no longer held: a test binary killed by
// SIGKILL or by go test's -timeout (which skips t.Cleanup) leaves
// namespaces behind only until the next run (TestSweep).
//
// # Scenarios
//
// The tests run Peerplay as separate processes, built once per test
// process by Builds: cmd/signald in the internet namespace (signaling on
// 203.0.113.1:8080, STUN :3478, TURN :3479), the test peer
// internal/cmd/labpeer (netcode directly; "mesh" and 4-seat lockstep
// "game" modes) and demo/pong built with -tags headless:
//
//	TestConnectivityMatrix  5 peers, 10 links: host on one LAN, direct
//	                        (srflx/prflx) through two restricted NATs, relay
//	                        whenever a symmetric NAT is involved
//	TestTURNExpired         expired TURN credentials: the peers give up in
//	                        seconds and the peer's error names TURN's 401
//	TestGamePeerKilled      4-seat lockstep, one peer SIGKILLed: the three
//	                        survivors drop it at the same frame and finish
//	                        with equal checksums
//	TestGameSignaldKilled   signald SIGKILLed mid-game: play goes on;
//	                        restarted: the meshes re-join it and a new room
//	                        forms
//	TestPongTopologies      headless pong bots, LAN/restricted/symmetric/
//	                        mixed at once: equal result lines and checksums
//	TestPongLANDiscovery    two pong hosts on an isolated LAN find each
//	                        other by LAN discovery and play
//	TestPongUDPBlocked      a home whose router drops all UDP plays an
//	                        ordinary home through signald's TURN over TCP,
//	                        over TLS (:443, a lab CA in SSL_CERT_FILE) and
//	                        Debian's coturn over TCP; logs connect times
//	TestPongIPv6Only        two pong processes on an IPv6-only segment:
//	                        host candidates, signaling dialed by [addr]:port
//	TestPongDualStackPrefersWorking  the same with an unroutable IPv4
//	                        address on each host too: ICE gathers both
//	                        families and plays over the one that works
//	TestPongHostedForward   the README's internet play: pong -host behind a
//	                        router forwarding TCP+UDP 7700, no other server;
//	                        the friend behind restricted and symmetric NATs,
//	                        with and without the host router's WAN-input
//	                        firewall: equal results, link types logged
//	TestPongLoopbackOnly    a machine with no network but loopback
//	                        (AddLoopbackHost): the window build, no flags:
//	                        every join command pong -host prints joins,
//	                        R in both windows (Xvfb, xdotool in the
//	                        namespace) and the match runs
//
// # coturn and unreachable peers
//
// The internet namespace has no route to private ranges, so a relayed
// datagram to a peer's private host candidate fails at once with
// ENETUNREACH. coturn (4.6.1; the code is unchanged in 4.17.1:
// send_data_from_ioa_socket_nbh in ns_ioalib_engine_impl.c sets
// tobeclosed on the relay socket on any udp_send error, and the next
// datagram arriving there ends the session) then closes the allocation, and
// with a TCP client its connection: pion logs "write: connection reset by
// peer" and "Failed to bind channel ... broken pipe", and no pair
// succeeds (issue #23's failure; TestPongUDPBlocked fails so without the
// flag below; its coturn log then reads "session N: peer 192.168.2.13
// lifetime updated", "udp send: Network is unreachable", "session N:
// closed (2nd stage) ... reason: general"). Minimal reproduction for
// upstream, on loopback (signaling's TestCoturnSendErrorClosesAllocation):
// coturn relaying from 127.0.0.1, a TURN-over-TCP client allocates, sends
// one datagram to 198.51.100.9 through the relay (sendto: EINVAL), a peer
// then sends one datagram to the relay address: the session is closed
// and the next request on the connection fails; pion/turn keeps the
// allocation (TestTURNSendErrorKeepsAllocation). The lab starts
// coturn with --denied-peer-ip for the private ranges (the README's
// recommended settings), which answers 403 to such a permission instead,
// so nothing is sent; signald's embedded TURN refuses them the same way
// (turnguard.go) and never closes an allocation on a send error.
//
// # Running
//
// The tests need root (CAP_NET_ADMIN, CAP_SYS_ADMIN), iproute2, iptables,
// procps and util-linux (setpriv), and sit behind the build tag netlab so
// a developer's plain go test ./... does not need root. From the module
// root:
//
//	sudo go test -tags netlab -race ./netlab/...
//
// The whole lab takes about 150 s on two cores once the helpers are built
// (a cold build adds about a minute). Without root every test fails at
// once with ErrNeedRoot's message, which says why; none skips
// (TestNeedsRoot checks this). NETLAB_VERBOSE=1 logs every helper
// process's output even when tests pass; a failing test always logs the
// output of its processes and each namespace's addresses, NAT rules and
// conntrack table.
package netlab
