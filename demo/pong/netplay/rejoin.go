package netplay

import (
	"slices"
	"time"

	"github.com/peerplay/peerplay/demo/pong/sim"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// byeEvery spaces the goodbyes a restarted player sends for its previous
// session while it waits to be readmitted.
const byeEvery = 500 * time.Millisecond

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

// sayGoodbyeForOldSession sends, every byeEvery while this restarted
// player waits to be readmitted, the goodbye its killed game could not
// send: a session of the same seat that closes at once (lockstep's Bye).
//
// Why: lockstep readmits only a seat the others dropped, and with two
// seats a majority of the seats is both, so a silent seat is never
// dropped (the other is cut off instead and ends the match after twice
// the disconnect timeout). A goodbye is the seat's own word, which the
// other accepts from the seat alone: it drops the seat and can readmit
// it. Only this peer can say it (every datagram's sender is proven by
// the mesh), as it could by quitting.
func (m *Match) sayGoodbyeForOldSession() {
	if m.input == nil || time.Since(m.byeAt) < byeEvery {
		return
	}
	m.byeAt = time.Now()
	old, err := lockstep.NewSession[sim.Input](m.input, lockstep.Config{Seats: m.seats, GameID: m.gameID})
	if err != nil {
		m.room.net.log.Debug("netplay: goodbye for the previous session", "err", err)
		return
	}
	_ = old.Close()
}
