package hosted

import "github.com/peerplay/peerplay/signaling"

// addStats adds b's counters to a (maps are copied, never shared).
func addStats(a, b signaling.Stats) signaling.Stats {
	a.Connections += b.Connections
	a.Members += b.Members
	a.MessagesIn += b.MessagesIn
	a.MessagesOut += b.MessagesOut
	a.Signals += b.Signals
	a.Joins += b.Joins
	a.Resumes += b.Resumes
	a.STUNRequests += b.STUNRequests
	a.TURNAllocations += b.TURNAllocations
	if len(b.Rejects) > 0 && a.Rejects == nil {
		a.Rejects = make(map[signaling.Code]uint64)
	}
	for k, v := range b.Rejects {
		a.Rejects[k] += v
	}
	if len(b.Refusals) > 0 && a.Refusals == nil {
		a.Refusals = make(map[string]uint64)
	}
	for k, v := range b.Refusals {
		a.Refusals[k] += v
	}
	return a
}
