// Package game is the ebiten front of demo/pong: menu, lobby, match, chat
// and network overlays, and the end screens. It maps keys to sim.Input,
// drives a play.Match once per Update, and draws the sim.State.
//
// It holds no game logic: the simulation is package sim, matches and rooms
// are package play, so everything but drawing is tested without a display.
// What the front itself decides (which frame's result it reports, when it
// ticks) is tested in its own tests, which need a display: build tag
// display, run on Xvfb by e2e's TestGameUnderXvfb.
//
// A networked match ticks on drive's 60 Hz clock, apart from ebiten's
// Update, and keeps ticking after its end (the peer needs our last
// inputs); the front therefore reports and draws the match's Final state
// (the game-over frame), never State after the end.
//
// Quick start:
//
//	g := game.New(game.Options{Name: "ann", Start: game.StartLocal})
//	if err := game.Run(g); err != nil {
//		log.Fatal(err)
//	}
package game
