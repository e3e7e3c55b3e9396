// Command natprobe is the netlab's UDP helper: a stdlib-only program that
// the harness tests run inside network namespaces to show what the NAT
// routers do to real packets.
//
// Modes (the first argument):
//
//	natprobe echo -listen 203.0.113.1:7001,203.0.113.1:7002
//	    Serve UDP on every address. A datagram "who" is answered with
//	    "from <observed source addr:port>". "poke" is answered twice: "direct"
//	    from the socket it arrived on and "other" from the next listening
//	    socket (same host, another port), which an address-and-port-restricted
//	    NAT must drop. "reg NAME PEER" registers NAME at its observed address
//	    and is answered "peer <addr>" once PEER has registered, else "wait"
//	    (a tiny rendezvous for hole punching).
//
//	natprobe probe -bind 0.0.0.0:40000 -to A,B,C
//	    From ONE socket, ask every echo server "who" and print
//	    "mapped <dest> <observed>" per destination; exit 1 if one of them
//	    never answers (which also makes it a reachability check).
//
//	natprobe poke -bind 0.0.0.0:40001 -to A
//	    Send "poke" and print "recv direct" / "recv other" for each answer
//	    that gets through within a second.
//
//	natprobe punch -bind 0.0.0.0:40002 -rv A -name a -peer b
//	    Register at the rendezvous, learn the peer's mapped address, send to
//	    it until a datagram from the peer arrives: prints "punched <addr>" and
//	    exits 0, or "punch: timeout" and exits 1.
//
// Every mode prints "ready" once its sockets are bound, and every wait is
// bounded by -timeout (default 5s).
package main
