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
// disabled in every namespace.
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
// Lab.AddRouter. TestNAT* in this package prove these
// behaviours with real packets (cmd natprobe) before any Peerplay test
// relies on them. Impairment (delay, loss) is not available: tc netem is
// missing on the CI kernel.
//
// # Isolation and cleanup
//
// Namespaces are named "<prefix>-<run id>-<name>" (prefix "pplab", run id 8
// random hex digits), so parallel and aborted runs never collide. Veth
// pairs are created directly inside their namespaces, bridges and iptables
// rules live inside them: nothing is added to the root namespace, and
// deleting a lab's namespaces removes every interface, bridge and rule it
// made. New registers the teardown with t.Cleanup, so it runs when a test
// fails or calls t.Fatal: it SIGKILLs every process left in the namespaces
// (ip netns pids), deletes them, and fails the test if any remains.
// Processes started with Host.Start carry Pdeathsig=SIGKILL.
//
// A live run holds an flock on /run/netlab/<prefix>-<run id>.lock. New
// first calls Sweep, which deletes the namespaces (and kills the processes)
// of every run whose lock is no longer held: a test binary killed by
// SIGKILL or a go test timeout leaves nothing behind for long.
//
// The lab only ever sends to addresses of namespaces it created.
//
// # Running
//
// The tests need root (CAP_NET_ADMIN, CAP_SYS_ADMIN), iproute2, iptables
// and procps, and sit behind the build tag netlab so a developer's plain
// go test ./... does not need root:
//
//	sudo go test -tags netlab -race ./netlab/...
//
// Without root every test fails at once with ErrNeedRoot's message, which
// says why; none skips. NETLAB_VERBOSE=1 logs every helper process's output
// even when tests pass. Helper programs (internal/cmd/...) are built once
// per test process by Builds.
package netlab
