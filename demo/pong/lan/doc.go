// Package lan finds Pong games on the local network: a host's Announcer
// sends a small Beacon every second by UDP multicast (239.255.77.77:7701)
// and broadcast (255.255.255.255:7701); a Browser listens on that port and
// keeps the games heard recently. The joiner dials the signaling server at
// the beacon's source address and Port.
//
// Quick start (the addresses here are loopback, as in the tests):
//
//	b, err := lan.Listen(lan.BrowserConfig{Addr: "127.0.0.1:0"})
//	if err != nil {
//		return err
//	}
//	defer b.Close()
//	a, err := lan.Announce(lan.AnnouncerConfig{
//		Targets: []string{b.Addr().String()},
//		Beacon:  lan.Beacon{Name: "ann", Room: "K7Q2", Port: 7700},
//	})
//	if err != nil {
//		return err
//	}
//	defer a.Close()
//	games := b.Games() // after a moment: [{Name: ann, Room: K7Q2, Addr: 127.0.0.1:7700}]
//
// # Beacon format, version 1
//
// One UDP datagram of at most MaxBeaconSize bytes: the 6 bytes "PPLAN1"
// followed by a JSON object {"game", "name", "room", "port", "players",
// "max"}. Decode checks the prefix, size, JSON and field ranges and never
// panics; anything else is ignored.
package lan
