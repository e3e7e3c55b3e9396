// Package game is the ebiten front of demo/pong: menu, lobby, match, chat
// and network overlays, and the end screens. It maps keys to sim.Input,
// drives a play.Match once per Update, and draws the sim.State.
//
// It holds no game logic: the simulation is package sim, matches and rooms
// are package play, so everything but drawing is tested without a display.
//
// Quick start:
//
//	g := game.New(game.Options{Name: "ann", Start: game.StartLocal})
//	if err := game.Run(g); err != nil {
//		log.Fatal(err)
//	}
package game
