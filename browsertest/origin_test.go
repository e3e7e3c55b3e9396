//go:build browser && !js

package browsertest

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/peerplay/peerplay/signaling"
)

// TestBrowserOriginRefused: a page from an origin the signaling server
// does not allow learns why. Browsers hide HTTP refusal bodies, so the
// server accepts the upgrade and closes with 4403 and the code as reason;
// the js client maps that to signaling.ErrOrigin (before, the page saw
// only "use of closed network connection").
func TestBrowserOriginRefused(t *testing.T) {
	pages := peerSite(t)                                // the page's origin
	other := startSiteWith(t, nil, &signaling.Server{}) // signaling elsewhere, no OriginPatterns
	c := startChromium(t)
	q := url.Values{"signal": {other.signalURL()}, "room": {"origin"}, "scenario": {"mesh"}, "name": {"wasm"}}
	page := c.Open("wasm", pages.URL+"/?"+q.Encode())
	l := page.Wait(2*time.Minute, "JOINED ", "ERROR ", "EXCEPTION ")
	t.Logf("page: %s", l)
	if !strings.HasPrefix(l, "ERROR join:") || !strings.Contains(l, "(ErrOrigin: true)") {
		t.Errorf("a refused origin: %q; want a join error matching signaling.ErrOrigin", l)
	}
}
