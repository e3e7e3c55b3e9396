//go:build browser && !js

package browsertest

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/peerplay/peerplay/browsertest/scenario"
)

// TestBrowserLockstep: a Go/wasm peer in Chromium and a native peer meet
// in a lobby, ready up, play 600 lockstep frames and chat meanwhile; both
// end with the same seats, seed and checksum, and show the same chat
// lines in the same order.
func TestBrowserLockstep(t *testing.T) {
	const frames = 600
	s := peerSite(t)
	c := startChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const room = "lockstep"
	page := c.Open("wasm", pageURL(s, room, "lockstep", "wasm", url.Values{"frames": {strconv.Itoa(frames)}}))
	page.Wait(2*time.Minute, "JOINED ")
	m := joinNative(t, ctx, s, room, "native", scenario.GameChannels)
	type out struct {
		r   *scenario.LockstepResult
		err error
	}
	nc := make(chan out, 1)
	go func() {
		r, err := scenario.RunLockstep(ctx, m, "native", frames)
		nc <- out{r, err}
	}()
	var wasm scenario.LockstepResult
	page.result(&wasm)
	n := <-nc
	if n.err != nil {
		t.Fatalf("native: %v", n.err)
	}
	for _, r := range []*scenario.LockstepResult{&wasm, n.r} {
		t.Logf("%s: seats %v seed %x frames %d checksum %016x chat %q", r.Local, r.Seats, r.Seed, r.Frames, r.Checksum, r.Chat)
	}
	if wasm.Frames != frames || n.r.Frames != frames {
		t.Errorf("frames: wasm %d, native %d, want %d", wasm.Frames, n.r.Frames, frames)
	}
	if !slices.Equal(wasm.Seats, n.r.Seats) || wasm.Seed != n.r.Seed || len(wasm.Seats) != 2 {
		t.Errorf("lobby start differs: wasm seats %v seed %x, native seats %v seed %x", wasm.Seats, wasm.Seed, n.r.Seats, n.r.Seed)
	}
	if wasm.Checksum != n.r.Checksum {
		t.Errorf("checksum after %d frames: wasm %016x, native %016x", frames, wasm.Checksum, n.r.Checksum)
	}
	if want := 2 * (scenario.ChatLines + 1); len(wasm.Chat) != want || !slices.Equal(wasm.Chat, n.r.Chat) {
		t.Errorf("chat: wasm %q, native %q; want the same %d lines", wasm.Chat, n.r.Chat, want)
	}
}
