package pubsub

import (
	"errors"

	"github.com/peerplay/peerplay/internal/pubsubwire"
)

var (
	// ErrInvalidConfig wraps every configuration error New reports.
	ErrInvalidConfig = errors.New("pubsub: invalid config")
	// ErrClosed is returned by calls on a closed Bus.
	ErrClosed = errors.New("pubsub: closed")
	// ErrRateLimited is returned by a publication above the local peer's
	// own rate limit (Config.Rate, Burst): nothing was sent. Peers enforce
	// the same limit on receipt, so sending anyway would only get the
	// publication dropped there.
	ErrRateLimited = errors.New("pubsub: rate limited")
	// ErrTooLarge is returned for a payload above Config.MaxPayload, a
	// topic above MaxTopicSize or more than MaxRecipients recipients.
	ErrTooLarge = errors.New("pubsub: too large")
	// ErrInvalidTopic is returned for an empty topic or one that is not
	// valid UTF-8.
	ErrInvalidTopic = errors.New("pubsub: invalid topic")
	// ErrQueueFull is returned by a publication made before the bus has
	// synchronised with its peers when Config.QueueLen publications are
	// already waiting.
	ErrQueueFull = errors.New("pubsub: outgoing queue full")
	// ErrUnknownPeer is returned by PublishTo for a recipient that is no
	// valid PeerID.
	ErrUnknownPeer = errors.New("pubsub: unknown peer")
	// ErrMalformed wraps every error of the wire decoder: the message was
	// dropped and counted (Stats.Malformed).
	ErrMalformed = pubsubwire.ErrMalformed
	// ErrVersion is returned by the decoder for another wire version.
	ErrVersion = pubsubwire.ErrVersion
)
