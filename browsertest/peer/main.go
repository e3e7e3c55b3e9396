//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"syscall/js"
	"time"

	"github.com/peerplay/peerplay/browsertest/scenario"
	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

func main() {
	q, _ := url.ParseQuery(js.Global().Get("location").Get("search").String()[1:])
	res, err := run(q)
	if err != nil {
		fmt.Println("ERROR " + err.Error())
	} else {
		b, _ := json.Marshal(res)
		fmt.Println("RESULT " + string(b))
	}
	js.Global().Set("peerDone", true)
	// Stay alive: the browser may still deliver events for the closed
	// connections, and an exited Go program throws on each.
	select {}
}

func run(q url.Values) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	lvl := slog.LevelWarn
	if q.Get("debug") != "" {
		lvl = slog.LevelDebug
	}
	cfg := netcode.Config{
		SignalURL: q.Get("signal"), Room: q.Get("room"),
		GameID: scenario.GameID, Build: scenario.Build, Name: q.Get("name"),
		ICEServers: []netcode.ICEServer{}, // host candidates: loopback only
		Logger:     slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: lvl})),
	}
	switch q.Get("scenario") {
	case "keepalive":
		return keepalive(ctx, q)
	case "mesh":
		cfg.Channels = scenario.MeshChannels
	case "lockstep":
		cfg.Channels = scenario.GameChannels
	default:
		return nil, fmt.Errorf("unknown scenario %q", q.Get("scenario"))
	}
	mesh, err := netcode.Join(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("join: %w (ErrOrigin: %v)", err, errors.Is(err, sigclient.CodeOrigin.Sentinel()))
	}
	defer mesh.Close()
	fmt.Println("JOINED " + string(mesh.Local()))
	switch q.Get("scenario") {
	case "mesh":
		want, _ := strconv.Atoi(q.Get("want"))
		return scenario.RunMesh(ctx, mesh, max(want, 1))
	default:
		frames, _ := strconv.Atoi(q.Get("frames"))
		return scenario.RunLockstep(ctx, mesh, q.Get("name"), max(frames, 1))
	}
}

// keepalive joins signaling alone with a 1 s keepalive: it reports
// STEADY after 5 s without a disconnection (the server answers), then
// waits for the test to freeze the connection and reports how long the
// client took to notice.
func keepalive(ctx context.Context, q url.Values) (any, error) {
	c, err := sigclient.Dial(ctx, q.Get("signal"), q.Get("room"), sigclient.DialOptions{
		Name: "wasm", PingInterval: time.Second, PingTimeout: time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	fmt.Println("JOINED " + string(c.Local()))
	steady := time.After(5 * time.Second)
	for wait := true; wait; {
		select {
		case ev := <-c.Events():
			if ev.Kind == sigclient.EventDisconnected {
				return nil, fmt.Errorf("disconnected while the server answered: %v", ev.Err)
			}
		case <-steady:
			wait = false
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	fmt.Println("STEADY")
	start := time.Now()
	for {
		select {
		case ev := <-c.Events():
			if ev.Kind == sigclient.EventDisconnected {
				return map[string]any{"DisconnectedAfterMS": time.Since(start).Milliseconds(), "Err": fmt.Sprint(ev.Err)}, nil
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("never noticed the lost server: %w", ctx.Err())
		}
	}
}
