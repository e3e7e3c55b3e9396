// Package natsbackplane lets several signald nodes serve the same rooms: a
// signaling.Backplane over NATS (github.com/nats-io/nats.go), with the
// room registry in a JetStream key-value bucket and delivery on NATS
// subjects. One node needs none of it (signaling's MemoryBackplane is the
// default); this package is for operators who outgrow one machine. It
// lives outside package signaling so that the library does not import
// NATS.
//
// Quick start (one node of many; run the same on every node, each behind
// the same load balancer, all on one NATS):
//
//	bp, err := natsbackplane.New(natsbackplane.Config{
//		URL:  "nats://n1:4222,nats://n2:4222,nats://n3:4222",
//		Node: "signald-1", // unique per node
//	})
//	if err != nil {
//		return err // invalid Config or URL; an unreachable NATS is not an error
//	}
//	defer bp.Close() // after srv.Shutdown
//	srv := &signaling.Server{Backplane: bp}
//	go http.ListenAndServe(":8080", srv)
//	defer srv.Shutdown(ctx)
//	if bp.Health().State != natsbackplane.StateOK { /* /healthz: 503 */ }
//
// cmd/signald does this with -nats URL.
//
// # Registry: JetStream KV
//
// One bucket (Config.Bucket, default "peerplay_rooms"), history 1, TTL =
// Config.TTL (default 15 s) as the bucket's max age, Config.Replicas
// replicas, file storage. Keys:
//
//	room.<room>   the room (JSON, version 1): room, name, game, max, state,
//	              private, password salt and SHA-256 hash, and members
//	              {peer: {name, token (SHA-256 of the resume token), node,
//	              attach, held_until}}
//	node.<node>   a node's heartbeat (JSON: node, seats, at), put every TTL/8
//
// A room name becomes one key token: bytes outside [A-Za-z0-9-] are
// written _xx in hex ("lobby.1" is room.lobby_2e1).
//
// Every change to a room (join, resume, leave, room update, reaping) is a
// compare-and-set on its key: Get, change, then Update with the revision
// read (Create when the room is new; Delete with the revision when the
// last member leaves). A writer that lost the race reads again and
// retries (with a small random backoff, at most 200 times). So admission
// (room size, password, game) is decided on the room's latest record, and
// joins racing on different nodes can never exceed a room's size. The
// room-count limit (Server.MaxRooms) is checked against the node's watched
// view of the registry, a few milliseconds behind: it is a soft limit
// across nodes (racing creations on different nodes may pass it by the
// number in flight).
//
// Each node watches the whole bucket and keeps a view of rooms and
// heartbeats; GET /rooms is served from it, so every node lists the same
// rooms within milliseconds. A room record is rewritten (same content,
// compare-and-set) by a node with seats in it when nobody wrote it for
// TTL/3 (plus jitter), so live rooms never reach the bucket's TTL; a room
// no live node has seats in stops being refreshed and NATS expires it
// within the TTL. Views drop records not refreshed within the TTL (but
// see "Registry outages" below).
//
// # Delivery: subjects
//
//	<subject>.seat.<room>.<peer>   events for one seat: peer joined, peer
//	                               left, signal, room updated (JSON v1
//	                               with a unique id). The node holding the
//	                               seat subscribes; whoever causes an event
//	                               publishes it there.
//	<subject>.node.<node>          requests to one node: "takeover" of a
//	                               seat resumed elsewhere (reply: the
//	                               signals it held).
//
// (<subject> is Config.Subject, default "peerplay".) A node publishes
// PeerJoined to the other members after its join is committed, and a
// member's signals come from the node that holds the member; NATS keeps
// the order of one connection's messages, so a PeerJoined precedes that
// peer's signals. Events from different nodes have no order between them;
// a resume may announce a peer the welcome already listed (clients treat
// a repeated PeerJoined as a no-op).
//
// # Seats, resumes and node loss
//
// A lost connection is held by its node for the Server's ResumeGrace
// (signals buffered there, at most 64); the registry is not touched
// unless the grace ends (the node then removes the seat) or the node
// shuts down first: Close hands its seats to the registry as orphans
// (node "", held_until) that any node removes once their grace ends, and
// deletes its heartbeat. A client may resume on any node (the seat and its
// token hash are in the registry): that node compare-and-sets the seat to
// itself and asks the previous node (<subject>.node.<node>, 2 s) to let
// go, which replaces the old connection and hands over the held signals.
//
// A node that dies stops heartbeating. Its node.<node> key expires within
// the TTL; rooms only it held expire within the TTL; its seats in rooms
// shared with live nodes are removed by any live node (the reaper, every
// TTL/4, confirms the missing heartbeat with a Get) about TTL after the
// death, announcing PeerLeft. Its clients thus have about TTL to resume on
// another node (through the load balancer); those that do keep their seat
// and peer ID, and their WebRTC mesh never notices.
//
// # NATS failures
//
// New never waits for NATS: it dials with endless reconnects. Health
// reports StateUnavailable (not connected; the error names the servers and
// the last dial error), StateDegraded (connected, but JetStream or the
// bucket fails) or StateOK. While not OK, joins, resumes and GET /rooms
// fail with the signaling code "unavailable" (clients retry); connected
// clients stay connected, and their signals are buffered by the NATS
// client and sent on reconnection (a signal whose recipient's node has not
// resubscribed yet is lost, like a lost datagram: WebRTC negotiation
// retries). In a NATS cluster, losing a server moves its clients to the
// others (list every server in URL); while JetStream elects new leaders
// for what it led, registry operations fail with unavailable for a few
// seconds. A node also restarts its watch of the registry when the watch
// stops showing its own heartbeats (its consumer died with a server).
// On reconnection a node watches the registry again (creating the bucket
// if NATS lost it; in the background, heartbeats and refreshes go on
// meanwhile, and GET /rooms answers unavailable until the watch has
// delivered the registry's current values, which replace the node's view
// whatever their revisions: they start again from 1 when NATS lost its
// store), and puts back any of its live seats the registry lost (NATS
// restarted without its store, or expired it after an outage, or this
// node was cut off longer than the TTL and reaped).
//
// # Registry outages: a missing room is not always an absent one
//
// NATS expires an entry TTL after its last write even when nobody could
// write: while JetStream elects a new leader for the bucket's stream (the
// server that led it died; measured 4 to 6 s on an idle machine with
// nats-server 2.9, more under load), writes fail, but the surviving
// replicas keep expiring entries and keep answering reads, so a live
// room's record reads "not found" rather than failing. The same happens
// when NATS restarts without its store. A deletion, unlike an expiry,
// leaves a delete marker (for the TTL). A node never takes a missing room
// for an absent one while it cannot tell:
//
//   - A node that holds seats in a room the registry lost writes it back
//     whole, from its copy (every member as its watch last showed them,
//     its own members as it holds them): when its refresh finds the
//     record gone without a delete marker, when a join or resume there
//     finds it missing, and at re-sync. Members on other nodes keep their
//     seats; nobody sees anyone leave and join again.
//   - A join or resume on another node that finds the room missing while
//     its view shows the room with members on live nodes reads the
//     stream: no trace at all (no delete marker) means the registry lost
//     it, and the node writes it back from its view before admitting.
//     Either way admission (password, size, game) is decided on the
//     room's real record, and the newcomer's welcome lists its members.
//   - Each node times its own heartbeats (every TTL/8). When none landed
//     for TTL/2 or more while it kept trying (an outage: entries may have
//     expired meanwhile, heartbeats included; a gap in which its
//     heartbeat goroutine did not even run, on a starved machine, is
//     none: the registry was not seen failing), then until TTL after
//     heartbeats land again
//     the reaper removes no seat (live nodes put their heartbeats back
//     within TTL/8), listings keep rooms last written up to TTL before
//     the outage, nodes heard from then still count as live, and, if the
//     node's watch did not run throughout the outage (it reconnected or
//     re-watched: its view may lack a room), a join or resume that finds
//     no trace of its room anywhere (neither in the registry nor in the
//     view, nor a delete marker) fails with unavailable (clients retry)
//     instead of creating a fresh room or answering resume_failed.
//     Stats.Outages counts these outages, Stats.Restored the rooms
//     written back.
//
// Joins into rooms the registry has go on as usual throughout. A node
// whose own connection or heartbeats stall longer than the TTL is taken
// for dead by the others (they reap its seats; it repairs them on
// return): keep the TTL well above NATS's failover time.
//
// # Inside a node
//
// A Backplane is four parts, each with its own lock or goroutine, so that
// none waits on another's network round trips:
//
//   - link (link.go): the connection's state machine, below, run by its
//     own goroutine (the only writer of the state). It sets up the
//     registry and reports health.
//   - registry (registry.go, view.go, restore.go): the KV bucket and its
//     stream, the watch and the view it keeps (rooms, heartbeats seen),
//     compare-and-set updates, and restoring rooms the registry lost.
//     Lock registry.mu.
//   - liveness (liveness.go): this node's heartbeats (their goroutine)
//     and the outage window they reveal (window: when they last landed,
//     since when they have been trying, the last gap of TTL/2 or more
//     while trying), and the sweep goroutine: refresh
//     every TTL/4 (while connected), reap and repair (while ready), end
//     held seats whose grace ran out (every 100 ms). Lock liveness.mu,
//     a leaf; the reaper's own bookkeeping belongs to the sweep goroutine.
//   - delivery (delivery.go): this node's seats, their subjects, the
//     dispatch goroutine that hands messages to them, publishing, and
//     takeover requests and answers. Lock delivery.mu.
//
// Lock order: registry.mu, then delivery.mu (a record the registry
// applies to its view reconciles the seats in its room at once, so that a
// seat never sees revisions out of order), then liveness.mu and the
// health lock. No lock is held across a network call; sinks are called
// under delivery.mu, as they were under the one lock before. Close
// cancels the backplane's context, which ends the link, sweep, heartbeat
// and dispatch goroutines (and a setup in flight); it waits for them
// before it hands seats over, so that nothing puts a heartbeat or watches
// after it deleted them.
//
// The link's states and transitions (an event a state does not list
// leaves it unchanged; link.go's linkTransitions is this table):
//
//	down        --connected-->     setting-up   start a setup (find or create
//	                                            the bucket, watch it, wait for
//	                                            its current values)
//	setting-up  --setup-ok-->      ready        repair, then health follows
//	                                            the heartbeats (ok/degraded)
//	setting-up  --setup-failed-->  backoff      health degraded
//	setting-up  --conn-lost-->     stale
//	stale       --setup-ok-->      down         forget the watcher: it
//	                                            began on the previous connection
//	stale       --setup-failed-->  down         forget the watcher
//	backoff     --retry-->         setting-up   start a setup (1 s after
//	                                            the failure)
//	backoff     --conn-lost-->     down
//	ready       --conn-lost-->     down         forget the watcher
//	ready       --stalled-->       setting-up   forget the watcher, start a
//	                                            setup
//
// conn-lost is a disconnection or a reconnection since the link last
// looked (a new connection needs a new watch); the link looks every
// 100 ms, as nats.go's status listeners drop events. stalled is a watch
// that did not show this node's own heartbeat for min(TTL/2, 3 s). While
// not connected, health is unavailable, whatever the state.
//
// A seat of this node (delivery.go) is joining or resuming (the registry
// write is in flight; events are buffered, at most 1024), attached (a
// connection's sink gets its events), held (connection lost, grace
// running; signals buffered, at most 64), handoff (resumed on another
// node; held signals kept for its takeover request, 5 s) or leaving.
// joining/resuming -> attached when the write lands; attached -> held on
// Detach with a grace; held -> attached on a resume here, -> leaving when
// the grace ends; attached/held -> handoff when the registry shows the
// seat on another node; any -> gone on Leave, takeover, a failed write,
// or a record that lists the peer as kicked (the kicked message may be
// lost: the record alone ends the seat, and repair never writes a kicked
// peer back).
//
// # Metrics
//
// Stats are per node: seats held here, rooms and nodes seen, messages
// published, received and dropped, compare-and-set conflicts, registry
// errors, seats reaped, repaired and taken over, rooms restored, registry
// outages seen, reconnections. signald exports them as
// signald_backplane_*.
package natsbackplane
