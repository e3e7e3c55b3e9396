package signaling

import (
	"sync/atomic"
)

// Stats are a Server's counters, for metrics. Counters only grow; gauges
// (Connections, Members) are the current value.
type Stats struct {
	// Connections is the number of open WebSocket connections (joined or
	// not); Members the number of those that joined a room.
	Connections int64
	Members     int64
	// MessagesIn and MessagesOut count WebSocket messages read from and
	// written to clients; Signals counts relayed signals.
	MessagesIn  uint64
	MessagesOut uint64
	Signals     uint64
	// Joins and Resumes count admitted joins and resumed seats.
	Joins   uint64
	Resumes uint64
	// Rejects counts refusals and disconnections by error code (only codes
	// that occurred are present).
	Rejects map[Code]uint64
	// Refusals counts refusals by the rule that refused (the Refuse...
	// constants; every rule is present, zero included), finer than
	// Rejects: rate_limited, say, is the message rate, the join rate or a
	// failure backoff.
	Refusals map[string]uint64
	// STUNRequests counts answered STUN binding requests; TURNAllocations
	// is the number of live TURN allocations.
	STUNRequests    uint64
	TURNAllocations int
}

// Refusal reasons: the rule that refused, for Stats.Refusals and
// signald's signald_refusals_total{rule}.
const (
	RefuseOrigin        = "origin"          // a browser origin not allowed
	RefuseConns         = "conns"           // the server's MaxConns
	RefuseConnsPerIP    = "conns_per_ip"    // MaxConnsPerIP (connections + held seats) at the WebSocket
	RefuseTCPPerIP      = "tcp_per_ip"      // the listener's per-IP cap on TCP connections (LimitListener)
	RefuseJoinRate      = "join_rate"       // JoinsPerMinute per IP
	RefuseRoomRate      = "room_rate"       // RoomsPerMinute per IP
	RefuseRoomsPerIP    = "rooms_per_ip"    // MaxRoomsPerIP (rooms whose creator seat is attached or held)
	RefuseBackoff       = "backoff"         // an address backing off after too many failures
	RefuseBadPassword   = "bad_password"    // a wrong room password
	RefuseBadToken      = "bad_token"       // a missing, forged, expired or reused join token
	RefuseResume        = "resume_failed"   // a resume with a wrong token or of a gone seat
	RefuseNotOwner      = "not_owner"       // a listing update or kick from a member that is not the owner
	RefuseKicked        = "kicked"          // a kicked peer's resume, or its seat removed
	RefuseMessageRate   = "message_rate"    // MessagesPerSecond per connection
	RefuseTURNPeer      = "turn_peer"       // a TURN permission to a denied address
	RefuseTURNTCP       = "turn_tcp"        // a TURN TCP allocation (RFC 6062) while off
	RefuseTURNUser      = "turn_user"       // TURNMaxAllocationsPerUser
	RefuseTURNIP        = "turn_ip"         // TURNMaxAllocationsPerIP
	RefuseTURNPerms     = "turn_perms"      // TURNMaxPermissions
	RefuseTURNAuth      = "turn_auth"       // a TURN credential forged or expired
	RefuseTURNNotSeated = "turn_not_seated" // a TURN credential of a peer not seated here
)

var refuseReasons = []string{
	RefuseOrigin, RefuseConns, RefuseConnsPerIP, RefuseTCPPerIP, RefuseJoinRate, RefuseRoomRate,
	RefuseRoomsPerIP, RefuseBackoff, RefuseBadPassword, RefuseBadToken, RefuseResume, RefuseNotOwner,
	RefuseKicked, RefuseMessageRate, RefuseTURNPeer, RefuseTURNTCP, RefuseTURNUser, RefuseTURNIP, RefuseTURNPerms,
	RefuseTURNAuth, RefuseTURNNotSeated,
}

// RefuseReasons lists every refusal reason of Stats.Refusals.
func RefuseReasons() []string { return append([]string(nil), refuseReasons...) }

type serverStats struct {
	conns, members                   atomic.Int64
	in, out, signals, joins, resumes atomic.Uint64
	stun                             atomic.Uint64
	rejects                          map[Code]*atomic.Uint64   // fixed keys, set by init
	refusals                         map[string]*atomic.Uint64 // fixed keys, set by init
}

func (st *serverStats) refuse(reason string) {
	if c := st.refusals[reason]; c != nil {
		c.Add(1)
	}
}

func (st *serverStats) reject(code Code) {
	if c := st.rejects[code]; c != nil {
		c.Add(1)
	}
}

// Stats returns a snapshot of the server's counters. Safe for concurrent
// use; never blocks on the network.
func (s *Server) Stats() Stats {
	if s.Validate() != nil {
		return Stats{}
	}
	st := &s.stats
	out := Stats{
		Connections: st.conns.Load(), Members: st.members.Load(),
		MessagesIn: st.in.Load(), MessagesOut: st.out.Load(), Signals: st.signals.Load(),
		Joins: st.joins.Load(), Resumes: st.resumes.Load(),
		STUNRequests: st.stun.Load(),
		Rejects:      make(map[Code]uint64),
	}
	out.Refusals = make(map[string]uint64, len(st.refusals))
	for r, c := range st.refusals {
		out.Refusals[r] = c.Load()
	}
	for code, c := range st.rejects {
		if n := c.Load(); n > 0 {
			out.Rejects[code] = n
		}
	}
	s.mu.Lock()
	for _, t := range s.turn {
		out.TURNAllocations += t.AllocationCount()
	}
	s.mu.Unlock()
	return out
}
