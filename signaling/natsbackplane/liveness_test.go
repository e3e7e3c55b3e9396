package natsbackplane

import "testing"

// TestReapable: the reap decision for one member.
func TestReapable(t *testing.T) {
	const now = int64(1_000_000)
	dead := map[string]bool{"gone": true}
	tests := []struct {
		name    string
		m       member
		unknown bool
		want    bool
	}{
		{"orphan held on", member{Node: "", HeldUntil: now + 1}, false, false},
		{"orphan hold ran out", member{Node: "", HeldUntil: now - 1}, false, true},
		{"on a live node", member{Node: "alive"}, false, false},
		{"on a dead node", member{Node: "gone"}, false, true},
		{"ours, known here", member{Node: "self"}, false, false},
		{"ours, unknown here for a TTL", member{Node: "self"}, true, true},
		// unknown applies to this node's members only.
		{"another's, flagged unknown", member{Node: "alive"}, true, false},
	}
	for _, tt := range tests {
		if got := reapable(tt.m, now, "self", dead, tt.unknown); got != tt.want {
			t.Errorf("%s: reapable = %v, want %v", tt.name, got, tt.want)
		}
	}
}
