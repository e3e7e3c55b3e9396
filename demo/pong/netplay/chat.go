package netplay

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/peerplay/peerplay/demo/pong/play"
	"github.com/peerplay/peerplay/netcode/transport"
)

// chat is a stand-in for the SDK's chat package until it lands: one text
// line per Reliable message, "name\x00text". It is replaced by package
// chat without changing the Room API.
type chat struct {
	conn transport.Conn
	name string
	in   []play.ChatLine
}

// maxChat bounds a chat message in bytes (sender and receiver).
const maxChat = 600

func newChat(c transport.Conn, name string) *chat { return &chat{conn: c, name: name} }

func (c *chat) say(text string) error {
	text = clean(text, 200)
	if text == "" {
		return nil
	}
	c.in = append(c.in, play.ChatLine{From: c.name, Text: text})
	return c.conn.Broadcast([]byte(clean(c.name, 32) + "\x00" + text))
}

// poll drains the channel (bounded per call, so a flood cannot stall a tick).
func (c *chat) poll() []play.ChatLine {
	for range 64 {
		m, ok := c.conn.TryRecv()
		if !ok {
			break
		}
		if l, ok := decodeChat(m.Data); ok {
			c.in = append(c.in, l)
		}
	}
	out := c.in
	c.in = nil
	return out
}

// decodeChat parses a peer's chat message; it is total.
func decodeChat(b []byte) (play.ChatLine, bool) {
	if len(b) > maxChat || !utf8.Valid(b) {
		return play.ChatLine{}, false
	}
	name, text, ok := strings.Cut(string(b), "\x00")
	if !ok {
		return play.ChatLine{}, false
	}
	name, text = clean(name, 32), clean(text, 200)
	if name == "" || text == "" {
		return play.ChatLine{}, false
	}
	return play.ChatLine{From: name, Text: text}, true
}

// clean drops control and non-printing characters and cuts to n runes.
func clean(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if n == 0 {
			break
		}
		if unicode.IsPrint(r) {
			b.WriteRune(r)
			n--
		}
	}
	return strings.TrimSpace(b.String())
}
