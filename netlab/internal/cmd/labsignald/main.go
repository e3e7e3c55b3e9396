// Command labsignald is a stand-in for cmd/signald inside the netlab: the
// signaling.Server with its embedded STUN and TURN servers, configured by
// flags, printing "ready" once every socket listens. It exists so the lab's
// scenarios can run before (or independently of) cmd/signald's flag set.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/peerplay/peerplay/signaling"
)

func main() {
	httpAddr := flag.String("http", "203.0.113.1:8080", "signaling (WebSocket) address")
	stunAddr := flag.String("stun", "203.0.113.1:3478", "STUN address (empty: none)")
	turnAddr := flag.String("turn", "203.0.113.1:3479", "TURN address (empty: none)")
	relayIP := flag.String("relay-ip", "203.0.113.1", "TURN relay address")
	secret := flag.String("secret", "netlab-secret", "TURN shared secret")
	grace := flag.Duration("resume-grace", 2*time.Second, "seat resume grace")
	verbose := flag.Bool("v", false, "debug logs")
	flag.Parse()

	lvl := slog.LevelInfo
	if *verbose {
		lvl = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	if err := run(log, *httpAddr, *stunAddr, *turnAddr, *relayIP, *secret, *grace); err != nil {
		fmt.Println("labsignald:", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, httpAddr, stunAddr, turnAddr, relayIP, secret string, grace time.Duration) error {
	var ice []signaling.ICEServer
	if stunAddr != "" {
		ice = append(ice, signaling.ICEServer{URLs: []string{"stun:" + stunAddr}})
	}
	if turnAddr != "" {
		ice = append(ice, signaling.ICEServer{URLs: []string{"turn:" + turnAddr + "?transport=udp"}})
	}
	srv := &signaling.Server{Logger: log, ICEServers: ice, TURNSecret: secret, ResumeGrace: grace}
	if err := srv.Validate(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp4", httpAddr)
	if err != nil {
		return err
	}
	errc := make(chan error, 3)
	if stunAddr != "" {
		pc, err := net.ListenPacket("udp4", stunAddr)
		if err != nil {
			return err
		}
		go func() { errc <- srv.ServeSTUN(pc) }()
	}
	if turnAddr != "" {
		pc, err := net.ListenPacket("udp4", turnAddr)
		if err != nil {
			return err
		}
		go func() { errc <- srv.ServeTURN(pc, signaling.TURNRelay{IP: net.ParseIP(relayIP)}) }()
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go func() { errc <- hs.Serve(ln) }()
	fmt.Println("ready")

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		log.Info("shutting down", "signal", s.String())
	case err := <-errc:
		if !errors.Is(err, signaling.ErrServerClosed) {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(ctx)
	return srv.Shutdown(ctx)
}
