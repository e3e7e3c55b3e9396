package netcode

import (
	"errors"
	"fmt"

	"github.com/peerplay/peerplay/signaling/sigclient"
)

// RoomMeta is what a member may change in the room's listing (the
// signaling server's GET /rooms): Name, Game, State and Max. Empty
// strings and a zero Max keep the current value.
type RoomMeta = sigclient.RoomMeta

// RoomInfo is the room's listing as the signaling server keeps it.
type RoomInfo = sigclient.RoomInfo

// SetRoomInfo changes the room's listing on the signaling server for
// everyone (GET /rooms shows it; Players is counted by the server). It
// never blocks: the update is queued, and sent when signaling is back if
// it is down. It fails only for a closed Mesh (ErrClosed) or a meta the
// server would refuse (a field too long or holding control characters,
// Max out of range: errors.Is(err, sigclient.CodeBadRequest.Sentinel())).
//
// The listing outlives a signaling restart: a mesh that has to re-join a
// restarted server (which lost the room) puts the listing back — the
// first member back restores all it knew (its updates merged with the
// ones it heard from the others), the others their own updates made
// while signaling was away. Any member may set the listing; the last
// update the server gets wins.
func (m *Mesh) SetRoomInfo(meta RoomMeta) error {
	m.roomMu.Lock()
	defer m.roomMu.Unlock()
	m.mu.RLock()
	closed := m.closed
	m.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	// The client checks meta before anything else, even once closed (the
	// client of a lost server stays here until a new one joins).
	err := m.roomSig.SetRoomInfo(meta)
	switch {
	case err == nil && m.roomUp:
	case err == nil, errors.Is(err, sigclient.ErrClosed), errors.Is(err, sigclient.ErrSendQueueFull):
		// Signaling is away (or congested): keep the update for the
		// next connection. A resumed seat may get it twice; that is
		// harmless.
		mergeMeta(&m.roomPending, meta)
		m.roomDirty = true
	default:
		return fmt.Errorf("netcode: room info: %w", err)
	}
	mergeMeta(&m.roomKnown, meta)
	m.roomHave = true
	return nil
}

// RoomInfo returns the room's listing as last heard from the signaling
// server: at joining, and at every SetRoomInfo by any member. Players is
// the count at that moment (the server sends no update for joins and
// leaves; Peers is live).
func (m *Mesh) RoomInfo() RoomInfo {
	m.roomMu.Lock()
	sig := m.roomSig
	m.roomMu.Unlock()
	return sig.RoomInfo()
}

// mergeMeta applies an update as the server does: empty and zero fields
// keep the current value (the room rules' one merge, #19).
func mergeMeta(dst *RoomMeta, u RoomMeta) { dst.Merge(u) }

// The loop tells the listing what happens to signaling.

// roomDown: the signaling connection is lost.
func (m *Mesh) roomDown() {
	m.roomMu.Lock()
	defer m.roomMu.Unlock()
	m.roomUp = false
}

// roomResumed: the seat was resumed; the room (and its listing) was kept.
func (m *Mesh) roomResumed() {
	m.roomMu.Lock()
	defer m.roomMu.Unlock()
	m.roomUp = true
	m.flushRoomLocked()
}

// roomRejoined: sig is a new client, in a room the mesh entered again. If
// nobody else is back yet the room is new: restore the whole listing.
func (m *Mesh) roomRejoined(sig signaler) {
	m.roomMu.Lock()
	defer m.roomMu.Unlock()
	m.roomSig, m.roomUp = sig, true
	if m.roomHave && len(sig.Peers()) == 0 {
		m.roomPending, m.roomDirty = m.roomKnown, true // it holds our own updates too
	}
	m.flushRoomLocked()
}

// roomHeard: a member (maybe this one) changed the listing.
func (m *Mesh) roomHeard(info RoomInfo) {
	m.roomMu.Lock()
	defer m.roomMu.Unlock()
	m.roomKnown = RoomMeta{Name: info.Name, Game: info.Game, State: info.State, Max: info.Max}
	m.roomHave = true
}

// roomTick retries an update the client's full queue refused.
func (m *Mesh) roomTick() {
	m.roomMu.Lock()
	defer m.roomMu.Unlock()
	m.flushRoomLocked()
}

func (m *Mesh) flushRoomLocked() {
	if !m.roomDirty || !m.roomUp {
		return
	}
	if err := m.roomSig.SetRoomInfo(m.roomPending); err != nil {
		m.log.Debug("netcode: room info not sent yet", "err", err)
		return
	}
	m.roomPending, m.roomDirty = RoomMeta{}, false
}
