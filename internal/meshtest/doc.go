// Package meshtest is the test harness shared by the packages that run a
// protocol over a mesh's Reliable channel and are driven by the game
// loop's Poll (lobby, chat): a Cluster of peers on one memnet network on
// a fake clock, a Room of real pion peers on loopback, seeded property
// runs, and golden wire files. Import it from _test files only: it pulls
// in memnet, netcode and signaling, which the packages under test must
// not depend on.
//
//	c := meshtest.New(t, meshtest.Config[*lobby.Lobby, lobby.Event]{
//		Seed: 1, Label: "lobby", Poll: (*lobby.Lobby).Poll,
//	})
//	a := c.Add("a", func(conn transport.Conn) (*lobby.Lobby, error) { return lobby.New(conn, lobby.Config{}) })
//	c.Add("b", func(conn transport.Conn) (*lobby.Lobby, error) { return lobby.New(conn, lobby.Config{}) })
//	c.Until("one lobby", 5*time.Second, func() bool { return len(a.App.State().Members) == 2 })
package meshtest
