package signaling

import (
	"testing"
	"time"
)

func TestAddrKey(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1":            "127.0.0.1",
		"::ffff:10.0.0.1":      "10.0.0.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::9":      "2001:db8:1:2::/64",
		"not an ip":            "not an ip",
	} {
		if got := addrKey(in); got != want {
			t.Errorf("addrKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestResumeKeepsCreation: a resumed creator seat keeps counting toward
// MaxRoomsPerIP, and stops when it leaves.
func TestResumeKeepsCreation(t *testing.T) {
	s := &Server{}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	created := s.joined("1.2.3.4", "r", "p", true, false)
	s.left("1.2.3.4", "r", "p", created, true, time.Minute)
	if s.heldSeats("1.2.3.4") != 1 {
		t.Fatal("seat not held")
	}
	created = s.joined("1.2.3.4", "r", "p", false, true)
	if !created || s.heldSeats("1.2.3.4") != 0 {
		t.Fatalf("resume: created %v, held %d", created, s.heldSeats("1.2.3.4"))
	}
	s.left("1.2.3.4", "r", "p", created, false, time.Minute)
	st := s.ips.m["1.2.3.4"]
	if st.seats != 0 || st.creators != 0 {
		t.Fatalf("after leave: %d seats, %d creators", st.seats, st.creators)
	}
}
