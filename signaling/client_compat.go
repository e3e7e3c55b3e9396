package signaling

import (
	"context"

	"github.com/peerplay/peerplay/signaling/internal/proto"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

// The client moved to package signaling/sigclient (what a game imports);
// these names remain for one release.

// Client is a member's connection to a signaling server.
//
// Deprecated: use sigclient.Client.
type Client = sigclient.Client

// DialOptions configures Dial.
//
// Deprecated: use sigclient.DialOptions.
type DialOptions = sigclient.DialOptions

// Dial joins room on the signaling server at url.
//
// Deprecated: use sigclient.Dial.
func Dial(ctx context.Context, url, room string, opts DialOptions) (*Client, error) {
	return sigclient.Dial(ctx, url, room, opts)
}

// Client defaults (zero DialOptions fields).
//
// Deprecated: sigclient documents each default at its DialOptions field.
const (
	DefaultEventQueueLen      = proto.DefaultEventQueueLen
	DefaultClientSendQueueLen = proto.DefaultClientSendQueueLen
	DefaultReconnectMin       = proto.DefaultReconnectMin
	DefaultReconnectMax       = proto.DefaultReconnectMax
	DefaultClientPingInterval = proto.DefaultClientPingInterval
	DefaultClientPingTimeout  = proto.DefaultClientPingTimeout
)
