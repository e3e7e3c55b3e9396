package netcode

import (
	"context"

	"github.com/peerplay/peerplay/signaling/sigclient"
)

// dialSignaling is the production dialFunc. *sigclient.Client is the
// signaler itself: the mesh loop reads its Events channel directly (no
// adapter goroutine, no second channel). Closing the client never waits
// for the mesh: the client stops emitting when it closes.
func dialSignaling(ctx context.Context, cfg *Config) (signaler, error) {
	c, err := sigclient.Dial(ctx, cfg.SignalURL, cfg.Room, sigclient.DialOptions{
		Name: cfg.Name, Password: cfg.Password, Token: cfg.Token, GameID: cfg.GameID,
		Logger: cfg.Logger.With("component", "signaling"),
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
