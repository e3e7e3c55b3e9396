// Package scenario holds the programs the browser tests run on both sides:
// the same Go code runs in a native test process and, compiled to
// js/wasm, in Chromium (../peer), so every assertion compares like with
// like.
package scenario

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/peerplay/peerplay/chat"
	"github.com/peerplay/peerplay/lobby"
	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// Room and game identity of every scenario.
const (
	GameID = "peerplay-browsertest"
	Build  = "1"
)

// MeshChannels is the channel table of the mesh scenario.
var MeshChannels = []netcode.ChannelSpec{
	{Label: "rel", Reliability: transport.Reliable},
	{Label: "unrel", Reliability: transport.Unreliable},
}

// GameChannels is the channel table of the lockstep scenario.
var GameChannels = []netcode.ChannelSpec{
	{Label: "lobby", Reliability: transport.Reliable},
	{Label: "chat", Reliability: transport.Reliable},
	{Label: "input", Reliability: transport.Unreliable},
}

// Sizes of the mesh scenario's traffic towards every peer.
const (
	Reliables   = 200
	Unreliables = 200
	BigSize     = 1<<20 + 300_000 // > 1 MiB: chunked on the wire
)

// PeerResult is what one peer received from one other peer.
type PeerResult struct {
	Reliable   int  // reliable messages received (of Reliables)
	InOrder    bool // they arrived in the order sent
	Unreliable int  // unreliable messages received (of Unreliables)
	BigOK      bool // the big message arrived intact (content checked)
	BigLen     int
	BigSHA     string // sha256 of what arrived, hex, first 16 digits
}

// MeshResult is the mesh scenario's outcome on one peer.
type MeshResult struct {
	Local string
	Peers map[string]*PeerResult
	Stats map[string]netcode.PeerStats
}

// Big returns the big message peer from sends: deterministic, so the
// receiver checks every byte.
func Big(from transport.PeerID) []byte {
	b := make([]byte, BigSize)
	b[0] = 'B'
	h := fnv.New64a()
	h.Write([]byte(from))
	x := h.Sum64() | 1
	for i := 1; i < len(b); i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], x)
		copy(b[i:], w[:])
	}
	return b
}

// RunMesh waits for want other peers, then sends every one of them
// Unreliables unreliable messages, Reliables reliable ones and one Big
// message, and receives the same from each. It returns once it has
// everything from every peer and every peer said it has everything from
// it (a 'D' message on the reliable channel), or when ctx ends.
func RunMesh(ctx context.Context, m *netcode.Mesh, want int) (*MeshResult, error) {
	if err := m.WaitPeers(ctx, want); err != nil {
		return nil, fmt.Errorf("waiting for %d peers: %w", want, err)
	}
	peers := m.Peers()
	rel, unrel := m.Channel("rel"), m.Channel("unrel")
	res := &MeshResult{Local: string(m.Local()), Peers: map[string]*PeerResult{}}
	for _, p := range peers {
		res.Peers[string(p)] = &PeerResult{InOrder: true}
	}
	done := map[transport.PeerID]bool{}
	sentDone := false
	recv := func() error {
		for msg, ok := unrel.TryRecv(); ok; msg, ok = unrel.TryRecv() {
			if r := res.Peers[string(msg.From)]; r != nil && len(msg.Data) == 5 && msg.Data[0] == 'u' {
				r.Unreliable++
			}
		}
		for msg, ok := rel.TryRecv(); ok; msg, ok = rel.TryRecv() {
			r := res.Peers[string(msg.From)]
			if r == nil || len(msg.Data) == 0 {
				continue
			}
			switch msg.Data[0] {
			case 'r':
				if len(msg.Data) == 5 {
					if binary.BigEndian.Uint32(msg.Data[1:]) != uint32(r.Reliable) {
						r.InOrder = false
					}
					r.Reliable++
				}
			case 'B':
				sum := sha256.Sum256(msg.Data)
				r.BigLen, r.BigSHA = len(msg.Data), hex.EncodeToString(sum[:8])
				r.BigOK = slices.Equal(msg.Data, Big(msg.From))
			case 'D':
				done[msg.From] = true
			}
		}
		return nil
	}
	// Unreliable first, paced, so that the reliable bulk cannot crowd it out.
	for i := range Unreliables {
		var b [5]byte
		b[0] = 'u'
		binary.BigEndian.PutUint32(b[1:], uint32(i))
		for _, p := range peers {
			_ = unrel.Send(p, b[:])
		}
		_ = recv()
		time.Sleep(3 * time.Millisecond)
	}
	for i := range Reliables {
		var b [5]byte
		b[0] = 'r'
		binary.BigEndian.PutUint32(b[1:], uint32(i))
		for _, p := range peers {
			if err := rel.Send(p, b[:]); err != nil {
				return res, fmt.Errorf("reliable send to %s: %w", p, err)
			}
		}
	}
	big := Big(m.Local())
	for _, p := range peers {
		if err := rel.Send(p, big); err != nil {
			return res, fmt.Errorf("big send to %s: %w", p, err)
		}
	}
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		_ = recv()
		complete := true
		for _, r := range res.Peers {
			if r.Reliable < Reliables || r.BigLen == 0 {
				complete = false
			}
		}
		if complete && !sentDone {
			sentDone = true
			if err := rel.Broadcast([]byte{'D'}); err != nil {
				return res, fmt.Errorf("done broadcast: %w", err)
			}
		}
		if sentDone && len(done) == len(peers) {
			break
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("mesh scenario: %w (done from %d of %d peers)", ctx.Err(), len(done), len(peers))
		case <-tick.C:
		}
	}
	// Stats: in a browser the transport counters come from getStats(),
	// asynchronously; ask until they show the big message (or give up
	// after 10 s and report what there is).
	deadline := time.Now().Add(10 * time.Second)
	for {
		res.Stats = map[string]netcode.PeerStats{}
		all := true
		for _, ps := range m.Stats().Peers {
			res.Stats[string(ps.Peer)] = ps
			if ps.BytesReceived < BigSize {
				all = false
			}
		}
		if all || time.Now().After(deadline) {
			return res, nil
		}
		select {
		case <-ctx.Done():
			return res, nil
		case <-tick.C:
		}
	}
}

// Input is the lockstep scenario's input.
type Input struct{ Buttons uint8 }

// LockstepResult is the lockstep scenario's outcome on one peer.
type LockstepResult struct {
	Local    string
	Seats    []string
	Seed     uint64
	Frames   int
	Checksum uint64
	Chat     []string // every text line, in the order delivered
}

// ChatLines is how many lines each peer says during the match (then one
// "done" line).
const ChatLines = 3

// RunLockstep joins a lobby on the "lobby" channel and a chat on "chat",
// readies up, and once the lobby starts the match plays frames lockstep
// frames on "input" (inputs derived from the frame and the seat, the game
// state a hash chain over them), saying ChatLines lines along the way and
// "done" at the end. It returns once it played frames frames and
// delivered every peer's lines, "done" included.
func RunLockstep(ctx context.Context, m *netcode.Mesh, name string, frames int) (*LockstepResult, error) {
	if err := m.WaitPeers(ctx, 1); err != nil {
		return nil, fmt.Errorf("waiting for a peer: %w", err)
	}
	lb, err := lobby.New(m.Channel("lobby"), lobby.Config{Name: name, Countdown: 200 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	defer lb.Close()
	ch, err := chat.New(m.Channel("chat"), chat.Config{Name: name})
	if err != nil {
		return nil, err
	}
	defer ch.Close()
	res := &LockstepResult{Local: string(m.Local())}
	var sess *lockstep.Session[Input]
	defer func() {
		if sess != nil {
			sess.Close()
		}
	}()
	var state uint64
	ready, said := false, 0
	dones := 0
	var finishedAt time.Time
	tick := time.NewTicker(time.Second / 60)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("lockstep scenario: %w (frame %d, %d chat lines, lobby %+v)", ctx.Err(), res.Frames, len(res.Chat), lb.State())
		case <-tick.C:
		}
		lb.PollEvents()
		for _, msg := range ch.PollMessages() {
			if msg.Kind == chat.KindText {
				res.Chat = append(res.Chat, msg.Name+": "+msg.Text)
				if msg.Text == "done" {
					dones++
				}
			}
		}
		st := lb.State()
		if !ready && st.Joined && len(st.Members) == 2 {
			if err := lb.SetReady(true); err != nil {
				return res, err
			}
			ready = true
		}
		if sess == nil {
			match, ok := lb.Match()
			if !ok {
				continue
			}
			res.Seed = match.Seed
			for _, s := range match.Seats {
				res.Seats = append(res.Seats, string(s))
			}
			state = match.Seed
			if sess, err = lockstep.NewSession[Input](m.Channel("input"), lockstep.Config{Seats: match.Seats, GameID: 0xb7095e7}); err != nil {
				return res, err
			}
		}
		local := Input{Buttons: uint8(fnvHash(uint64(res.Frames), uint64(sess.LocalSeat())))}
		steps, _ := sess.Advance(local)
		for _, s := range steps {
			if res.Frames >= frames {
				break
			}
			for seat, in := range s.Inputs {
				state = fnvHash(state, uint64(seat)<<8|uint64(in.Buttons))
			}
			res.Frames++
			sess.ReportChecksum(s.Frame, state)
			if res.Frames%150 == 0 && said < ChatLines {
				said++
				if err := ch.Say(fmt.Sprintf("%s line %d", name, said)); err != nil {
					return res, err
				}
			}
			if res.Frames == frames {
				res.Checksum = state
				if err := ch.Say("done"); err != nil {
					return res, err
				}
			}
		}
		for _, e := range sess.PollEvents() {
			if e.Kind == lockstep.EventDesync {
				return res, e.Err
			}
		}
		if res.Frames >= frames && dones == 2 && finishedAt.IsZero() {
			finishedAt = time.Now()
		}
		// Linger so the peer gets our last inputs and chat promises.
		if !finishedAt.IsZero() && time.Since(finishedAt) > 2*time.Second {
			return res, nil
		}
	}
}

func fnvHash(a, b uint64) uint64 {
	h := fnv.New64a()
	var w [16]byte
	binary.LittleEndian.PutUint64(w[:8], a)
	binary.LittleEndian.PutUint64(w[8:], b)
	h.Write(w[:])
	return h.Sum64()
}
