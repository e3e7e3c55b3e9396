// Package play runs matches of demo/pong for both fronts (the ebiten window
// and the headless runner): a local match against the bot, the playback of
// a replay file, and networked matches in lockstep over a Peerplay mesh.
// It does not import ebiten, so it is tested without a display.
//
// Quick start, a local match between two bots:
//
//	m := play.NewLocal(play.LocalConfig{Sim: sim.Config{Seed: 1}, Bot: true, Record: true})
//	for !m.State().Over() {
//		_ = m.Tick(sim.Input{})
//	}
//	fmt.Println(m.State().Score, m.State().Checksum())
//	_ = m.Replay().Save("match.pprp")
package play
