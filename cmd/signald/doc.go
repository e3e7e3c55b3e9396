// Command signald runs the Peerplay signaling service: WebSocket rooms
// (package signaling), the public room listing at GET /rooms, an embedded
// STUN server, an optional embedded TURN server with coturn-compatible
// time-limited credentials, /healthz, and Prometheus /metrics. Logs are
// JSON (log/slog) on stderr. SIGINT or SIGTERM shuts it down gracefully:
// clients are told (error shutdown) and may resume on another node.
//
// Every flag can also be set by an environment variable: SIGNALD_ and the
// flag name in upper case with - as _ (e.g. SIGNALD_TURN_SECRET). A flag
// given on the command line wins. Run signald -h for the list.
//
// Example (one public host 203.0.113.7, TLS terminated by signald):
//
//	signald -addr :443 -tls-cert cert.pem -tls-key key.pem \
//	  -stun-addr :3478 -stun-url stun:203.0.113.7:3478 \
//	  -turn-addr :3479 -turn-relay-ip 203.0.113.7 -turn-ports 49152-65535 \
//	  -turn-url 'turn:203.0.113.7:3479?transport=udp' -turn-secret "$SECRET"
//
// Players whose network blocks UDP reach the embedded TURN over TCP
// (-turn-tcp-addr) or TLS (-turns-addr, with -turns-cert/-turns-key or the
// -tls-cert pair; 443 passes most firewalls); hand out their URLs too
// (turn:HOST:PORT?transport=tcp, turns:HOST:443?transport=tcp). The
// welcome lists -turn-url's URLs UDP first, then TCP, then TLS.
//
// On a public address (README "Operating signaling" has the defaults table
// and a checklist): every TCP connection counts toward -max-tcp-per-ip
// (128; the excess is reset at accept, so one address cannot exhaust file
// descriptors); HTTP has -read-header-timeout (5 s), -read-timeout for
// non-WebSocket requests (10 s), -http-idle-timeout (30 s) and
// -max-header-bytes (8 KiB); -admin-addr serves /healthz and /metrics on a
// separate listener (off: on -addr); per-IP joins, room creations and
// failed passwords/tokens are rate-limited with backoff (-joins-per-min,
// -rooms-per-min, -failures-per-min, -max-rooms-per-ip); the embedded TURN
// refuses internal peers (-turn-allow opens a LAN), TCP relays (-turn-tcp)
// and allocations beyond -turn-user-quota/-turn-ip-quota. Every refusal
// rule is counted in signald_refusals_total{rule}.
//
// Several nodes (package signaling/natsbackplane): with -nats, rooms live
// in a JetStream KV bucket on NATS and signals cross nodes over NATS
// subjects, so any number of signald behind a load balancer serve the same
// rooms, and a client whose node dies resumes its seat on another:
//
//	signald -addr :8080 -nats nats://n1:4222,nats://n2:4222,nats://n3:4222 \
//	  -node "$(hostname)" -nats-ttl 15s -nats-replicas 3
//
// NATS unreachable at start is not fatal: signald waits -nats-wait (5 s)
// for it, then serves degraded (/healthz answers 503 with the reason,
// joins are refused with "unavailable") and recovers by itself when NATS
// comes; the same happens when NATS goes away later. /healthz answers
// {"status":"ok|degraded|unavailable","backplane":"nats","node":...,
// "error":...,"since":...}; /metrics adds signald_node_info and
// signald_backplane_* per node. A malformed -nats URL is fatal (exit 1).
package main
