package natsbackplane

import (
	"os"
	"regexp"
	"testing"
)

// TestLinkStateMachineDocumented: the transitions written in the package
// doc are exactly those of linkTransitions, so the doc cannot drift from
// the code.
func TestLinkStateMachineDocumented(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	states := make(map[string]linkState)
	for i, n := range linkStateNames {
		states[n] = linkState(i)
	}
	events := make(map[string]linkEvent)
	for i, n := range linkEventNames {
		events[n] = linkEvent(i)
	}
	re := regexp.MustCompile(`(?m)^//\t(\S+)\s+--(\S+)-->\s+(\S+)`)
	doc := make(map[[2]int]linkState)
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		from, ok1 := states[m[1]]
		ev, ok2 := events[m[2]]
		to, ok3 := states[m[3]]
		if !ok1 || !ok2 || !ok3 {
			t.Errorf("doc.go: transition %q names an unknown state or event", m[0])
			continue
		}
		doc[[2]int{int(from), int(ev)}] = to
	}
	code := 0
	for from, evs := range linkTransitions {
		for ev, st := range evs {
			code++
			if to, ok := doc[[2]int{int(from), int(ev)}]; !ok || to != st.to {
				t.Errorf("%v --%v--> %v is in linkTransitions but not in the package doc", from, ev, st.to)
			}
		}
	}
	if len(doc) != code {
		t.Errorf("the package doc lists %d transitions, linkTransitions %d", len(doc), code)
	}
}

// TestLinkTransitions: the paths that matter under failover.
func TestLinkTransitions(t *testing.T) {
	type hop struct {
		ev linkEvent
		to linkState
		do linkAction
	}
	tests := []struct {
		name string
		hops []hop
	}{
		{"start", []hop{{evConnected, linkSettingUp, actSetup}, {evSetupOK, linkReady, actRepair}}},
		{"setup fails, retried", []hop{{evConnected, linkSettingUp, actSetup}, {evSetupFailed, linkBackoff, actBackoff},
			{evRetry, linkSettingUp, actSetup}, {evSetupOK, linkReady, actRepair}}},
		// A setup that began on the previous connection is void whatever
		// it answers: its watch is on a dead consumer.
		{"reconnect during setup", []hop{{evConnected, linkSettingUp, actSetup}, {evConnLost, linkStale, 0},
			{evSetupOK, linkDown, actUnready}, {evConnected, linkSettingUp, actSetup}}},
		{"reconnect when ready", []hop{{evConnected, linkSettingUp, actSetup}, {evSetupOK, linkReady, actRepair},
			{evConnLost, linkDown, actUnready}, {evConnected, linkSettingUp, actSetup}}},
		{"watch stalls", []hop{{evConnected, linkSettingUp, actSetup}, {evSetupOK, linkReady, actRepair},
			{evStalled, linkSettingUp, actUnready | actSetup}}},
		{"lost in backoff", []hop{{evConnected, linkSettingUp, actSetup}, {evSetupFailed, linkBackoff, actBackoff},
			{evConnLost, linkDown, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := linkDown
			for i, h := range tt.hops {
				st, ok := step(s, h.ev)
				if !ok || st.to != h.to || st.do != h.do {
					t.Fatalf("hop %d: %v --%v--> %v (action %b, applies %v), want %v (action %b)", i, s, h.ev, st.to, st.do, ok, h.to, h.do)
				}
				s = st.to
			}
		})
	}
	// Events that do not apply leave the state alone: a second setup
	// never starts while one is in flight.
	for _, s := range []linkState{linkSettingUp, linkStale, linkReady, linkBackoff} {
		if _, ok := step(s, evConnected); ok {
			t.Errorf("%v reacts to connected", s)
		}
	}
	if _, ok := step(linkStale, evConnLost); ok {
		t.Errorf("stale reacts to conn-lost")
	}
}
