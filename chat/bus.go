package chat

import (
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/pubsub"
)

// The topic bus chat runs on moved to package pubsub. These names stay
// for one release.
type (
	// Deprecated: use pubsub.Bus.
	Bus = pubsub.Bus
	// Deprecated: use pubsub.Config.
	BusConfig = pubsub.Config
	// Deprecated: use pubsub.Stats.
	BusStats = pubsub.Stats
	// Deprecated: use pubsub.PeerStats.
	PeerStats = pubsub.PeerStats
	// Deprecated: use pubsub.Subscription.
	Subscription = pubsub.Subscription
	// Deprecated: use pubsub.Delivery.
	Delivery = pubsub.Delivery
	// Deprecated: use pubsub.DeliveryKind.
	DeliveryKind = pubsub.DeliveryKind
	// Deprecated: use pubsub.Options.
	Options = pubsub.Options
)

// Deprecated: use pubsub.DeliveryUnknown and its siblings.
const (
	DeliveryUnknown = pubsub.DeliveryUnknown
	DeliveryMessage = pubsub.DeliveryMessage
	DeliveryJoined  = pubsub.DeliveryJoined
	DeliveryLeft    = pubsub.DeliveryLeft
)

// Limits of the bus (deprecated here: use pubsub's).
const (
	// Deprecated: use pubsub.MaxTopicSize.
	MaxTopicSize = pubsub.MaxTopicSize
	// Deprecated: use pubsub.MaxRecipients.
	MaxRecipients = pubsub.MaxRecipients
	// Deprecated: use pubsub.MaxPeerIDSize.
	MaxPeerIDSize = pubsub.MaxPeerIDSize
	// Deprecated: use pubsub.MaxPayloadLimit.
	MaxPayloadLimit = pubsub.MaxPayloadLimit
	// Deprecated: use pubsub.MaxHistoryLimit.
	MaxHistoryLimit = pubsub.MaxHistoryLimit
	// Deprecated: use pubsub.MaxMessageSize.
	MaxMessageSize = pubsub.MaxMessageSize
)

// NewBus starts a bus on conn.
//
// Deprecated: use pubsub.New.
func NewBus(conn transport.Conn, cfg BusConfig) (*Bus, error) { return pubsub.New(conn, cfg) }
