//go:build !latejoin

package netplay

import "github.com/peerplay/peerplay/lobby"

func (r *Room) runningEvent(lobby.Event) {}
func (r *Room) askToWatch()              {}
