package netplay

import (
	"github.com/peerplay/peerplay/chat"
	"github.com/peerplay/peerplay/demo/pong/play"
	"github.com/peerplay/peerplay/netcode/transport"
)

// roomChat adapts the SDK's chat package to play.ChatLine. Joined/left
// system lines are left out: the lobby already announces them.
type roomChat struct {
	ch *chat.Chat
}

// newChat starts the room's chat; the lobby owns the display names it shows
// (chat.Config.Names), so a name is the same in the roster and the chat.
func newChat(c transport.Conn, name string, names chat.NameSource) (*roomChat, error) {
	ch, err := chat.New(c, chat.Config{Name: name, Names: names})
	if err != nil {
		return nil, err
	}
	return &roomChat{ch: ch}, nil
}

func (c *roomChat) say(text string) error { return c.ch.Say(text) }

func (c *roomChat) poll() []play.ChatLine {
	var out []play.ChatLine
	for _, m := range c.ch.PollMessages() {
		if m.Kind != chat.KindText {
			continue
		}
		out = append(out, play.ChatLine{From: m.Name, Text: m.Text})
	}
	return out
}

func (c *roomChat) close() error { return c.ch.Close() }
