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
	// STUNRequests counts answered STUN binding requests; TURNAllocations
	// is the number of live TURN allocations.
	STUNRequests    uint64
	TURNAllocations int
}

type serverStats struct {
	conns, members                   atomic.Int64
	in, out, signals, joins, resumes atomic.Uint64
	stun                             atomic.Uint64
	rejects                          map[Code]*atomic.Uint64 // fixed keys, set by init
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
