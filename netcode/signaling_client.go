package netcode

import (
	"context"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

// dialSignaling is the production dialFunc: a *sigclient.Client behind
// the signaler interface.
func dialSignaling(ctx context.Context, cfg *Config) (signaler, error) {
	c, err := sigclient.Dial(ctx, cfg.SignalURL, cfg.Room, sigclient.DialOptions{
		Name: cfg.Name, Password: cfg.Password, Token: cfg.Token, GameID: cfg.GameID,
		Logger: cfg.Logger.With("component", "signaling"),
	})
	if err != nil {
		return nil, err
	}
	s := &signalingClient{c: c, events: make(chan sigEvent), stop: make(chan struct{}), done: make(chan struct{})}
	go s.convert()
	return s, nil
}

// signalingClient adapts *sigclient.Client: one goroutine converts its
// events, and ends when the client's event channel closes.
type signalingClient struct {
	c      *sigclient.Client
	events chan sigEvent
	stop   chan struct{}
	done   chan struct{}
}

func (s *signalingClient) convert() {
	defer close(s.done)
	defer close(s.events)
	for ev := range s.c.Events() {
		var out sigEvent
		switch ev.Kind {
		case sigclient.EventPeerJoined:
			out = sigEvent{kind: sigPeerJoined, peer: ev.Peer}
		case sigclient.EventPeerLeft:
			out = sigEvent{kind: sigPeerLeft, peer: ev.Peer}
		case sigclient.EventSignal:
			out = sigEvent{kind: sigSignal, peer: ev.Peer, data: ev.Data}
		case sigclient.EventDisconnected:
			out = sigEvent{kind: sigDisconnected}
		case sigclient.EventReconnected:
			out = sigEvent{kind: sigReconnected}
		case sigclient.EventFailed:
			out = sigEvent{kind: sigFailed, err: ev.Err}
		case sigclient.EventRoomUpdated:
			if ev.Room == nil {
				continue
			}
			out = sigEvent{kind: sigRoom, room: *ev.Room}
		default:
			continue
		}
		select {
		case s.events <- out:
		case <-s.stop:
			// Drain so the client is never stuck on a full channel.
		}
	}
}

func (s *signalingClient) Local() transport.PeerID   { return s.c.Local() }
func (s *signalingClient) Peers() []transport.PeerID { return s.c.Peers() }
func (s *signalingClient) Events() <-chan sigEvent   { return s.events }

func (s *signalingClient) Signal(to transport.PeerID, data []byte) error {
	return s.c.Signal(to, data)
}

func (s *signalingClient) SetRoomInfo(m RoomMeta) error { return s.c.SetRoomInfo(m) }
func (s *signalingClient) RoomInfo() RoomInfo           { return s.c.RoomInfo() }

func (s *signalingClient) Kick(seat transport.PeerID) error   { return s.c.Kick(seat) }
func (s *signalingClient) Unkick(seat transport.PeerID) error { return s.c.Unkick(seat) }

func (s *signalingClient) ICEServers() []ICEServer { return s.c.ICEServers() }

// Close leaves the room and waits for the converter goroutine.
func (s *signalingClient) Close() error {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	err := s.c.Close()
	<-s.done
	return err
}
