package netplay

import (
	"slices"

	"github.com/peerplay/peerplay/demo/pong/sim"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// catchUpFrom subscribes a restarted player to the stream of the other
// seats of its match: the lowest other seat connected streams the inputs
// (and a snapshot), the rest witness with their checksums. No delay: the
// game must reach the frame its seat comes back at.
func (r *Room) catchUpFrom(seats []transport.PeerID, gameID uint64) (*lockstep.Spectator[sim.Input], error) {
	source, witnesses := r.sources(seats, "")
	return r.newSpectator(gameID, source, witnesses, 0)
}

// sources picks, among seats (without the local peer), a source and
// witnesses: source if it is one of them, else the lowest seat connected
// (else the lowest seat).
func (r *Room) sources(seats []transport.PeerID, source transport.PeerID) (transport.PeerID, []transport.PeerID) {
	var others []transport.PeerID
	for _, id := range seats {
		if id != r.mesh.Local() {
			others = append(others, id)
		}
	}
	if len(others) == 0 {
		return "", nil
	}
	if !slices.Contains(others, source) {
		source = others[0]
		peers := r.mesh.Peers()
		for _, id := range others {
			if slices.Contains(peers, id) {
				source = id
				break
			}
		}
	}
	return source, slices.DeleteFunc(others, func(id transport.PeerID) bool { return id == source })
}
