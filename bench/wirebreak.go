package bench

import (
	"github.com/peerplay/peerplay/netcode"
)

// DataOverhead is what one SCTP DATA packet adds to a data-channel
// message on the wire: IPv4 + UDP (28), the DTLS 1.2 record with
// AES-128-GCM (13 header, 8 explicit nonce, 16 tag) and SCTP (12 common
// header, 16 DATA chunk header): 93 bytes, plus the payload's padding to
// 4 bytes.
const DataOverhead = IPUDPHeader + 13 + 8 + 16 + 12 + 16

// WireRate is a rate of datagrams or messages and the bits they cost on
// the wire.
type WireRate struct {
	PerSec float64 `json:"per_s"`
	// Bytes is the mean size: for datagrams the UDP payload plus the
	// IP/UDP header, for messages the payload handed to the channel.
	Bytes float64 `json:"bytes"`
	// Kbps is the wire cost: for datagrams everything, for messages the
	// payload plus DataOverhead each (one SCTP packet per message).
	Kbps float64 `json:"kbps"`
}

// WireBreakdown is one peer's upload over a window, by kind of datagram
// (told apart by WireCounter) and by the channel messages inside the
// DATA packets (from netcode's channel stats).
type WireBreakdown struct {
	// Kinds is indexed by WireKind.
	Kinds [numWireKinds]WireRate `json:"kinds"`
	// Lockstep is the lockstep channel's messages; Control the mesh's
	// own control and RTT-ping messages (netcode.PeerStats.Control).
	Lockstep WireRate `json:"lockstep"`
	Control  WireRate `json:"control"`
}

// wireSnap is the counters a WireBreakdown is the difference of.
type wireSnap struct {
	kinds           [numWireKinds][2]int64
	lockM, lockB    uint64
	controlM, contB uint64
}

func snapWire(w *WireCounter, m *netcode.Mesh, label string) wireSnap {
	var s wireSnap
	for k := range numWireKinds {
		s.kinds[k][0], s.kinds[k][1] = w.Kind(k)
	}
	if m == nil {
		return s
	}
	for _, p := range m.Stats().Peers {
		for _, c := range p.Channels {
			if c.Label == label {
				s.lockM += c.MessagesSent
				s.lockB += c.BytesSent
			}
		}
		s.controlM += p.Control.MessagesSent
		s.contB += p.Control.BytesSent
	}
	return s
}

// breakdown is the rates between snapshots a and b, sec seconds apart.
func breakdown(a, b wireSnap, sec float64) WireBreakdown {
	var r WireBreakdown
	for k := range numWireKinds {
		n, by := b.kinds[k][0]-a.kinds[k][0], b.kinds[k][1]-a.kinds[k][1]
		r.Kinds[k] = rate(float64(n), float64(by+IPUDPHeader*n), sec)
	}
	msg := func(n, by uint64) WireRate {
		x := rate(float64(n), float64(by), sec)
		x.Kbps = float64(by+DataOverhead*n) * 8 / 1000 / sec
		return x
	}
	r.Lockstep = msg(b.lockM-a.lockM, b.lockB-a.lockB)
	r.Control = msg(b.controlM-a.controlM, b.contB-a.contB)
	return r
}

func rate(n, bytes, sec float64) WireRate {
	r := WireRate{PerSec: n / sec, Kbps: bytes * 8 / 1000 / sec}
	if n > 0 {
		r.Bytes = bytes / n
	}
	return r
}

// TotalKbps is every kind's wire cost.
func (w WireBreakdown) TotalKbps() float64 {
	var t float64
	for _, k := range w.Kinds {
		t += k.Kbps
	}
	return t
}

// PayloadKbps is the messages' own bytes (lockstep and control).
func (w WireBreakdown) PayloadKbps() float64 {
	return (w.Lockstep.PerSec*w.Lockstep.Bytes + w.Control.PerSec*w.Control.Bytes) * 8 / 1000
}
