package pubsub

import (
	"fmt"

	"github.com/peerplay/peerplay/netcode/transport"
)

// DeliveryKind says what a Delivery reports.
type DeliveryKind int

const (
	// DeliveryUnknown is the zero value.
	DeliveryUnknown DeliveryKind = iota
	// DeliveryMessage is a publication.
	DeliveryMessage
	// DeliveryJoined: From started a bus session with us.
	DeliveryJoined
	// DeliveryLeft: From disconnected.
	DeliveryLeft
)

// String returns "message", "joined", "left" or "unknown(N)".
func (k DeliveryKind) String() string {
	switch k {
	case DeliveryMessage:
		return "message"
	case DeliveryJoined:
		return "joined"
	case DeliveryLeft:
		return "left"
	}
	return fmt.Sprintf("unknown(%d)", int(k))
}

// Delivery is one publication (or a peer joining or leaving), handed out
// by Subscription.Poll in the bus's total order. The caller owns it.
type Delivery struct {
	Kind  DeliveryKind
	Topic string
	// From is the publication's origin (or the peer that joined or left).
	From transport.PeerID
	// To lists the recipients; nil means every peer.
	To []transport.PeerID
	// Seq numbers From's publications (1, 2, ...); Stamp is the Lamport
	// time. The total order is (Stamp, From, Seq).
	Seq, Stamp uint64
	Payload    []byte
	// History is set for a publication that reached us in the history a
	// peer served when we met it; Via is that peer. The origin of a
	// relayed publication is only as trustworthy as Via.
	History bool
	Via     transport.PeerID
}

// Stats counts a Bus's traffic.
type Stats struct {
	Published uint64 // local publications sent
	Delivered uint64 // publications delivered in order (local ones too)
	// Forced counts publications delivered after MaxDelay without every
	// peer's promise (a stalled or silent peer).
	Forced     uint64
	Throttled  uint64 // publications dropped by the receive rate limit
	Duplicates uint64 // publications dropped as already held
	Malformed  uint64 // messages dropped by the decoder
	Ignored    uint64 // well-formed messages that made no sense (unsolicited history, misaddressed)
	Overflow   uint64 // deliveries dropped from full subscription queues
	SendErrors uint64
	// Refused counts messages and history entries refused because their
	// Lamport stamp was too far ahead of the local clock (see the package
	// doc, "Threat model"); PeerStats.Refused names the sender.
	Refused uint64
	// Oversized counts messages above MaxMessageSize, dropped unread.
	Oversized uint64
}

// PeerStats counts one peer's publications as received here.
type PeerStats struct {
	Received  uint64 // live publications accepted
	Throttled uint64 // live publications dropped by the rate limit
	// Refused counts its messages (and history entries it served) whose
	// stamp was too far ahead of the local clock.
	Refused uint64
}
