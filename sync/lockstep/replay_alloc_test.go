package lockstep_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"runtime"
	"testing"

	"github.com/peerplay/peerplay/sync/lockstep"
)

// TestReplayStartClaimAllocates (review): a 67-byte log whose header
// claims a start state of MaxReplayStart bytes that are not there is
// refused without allocating what it claims (before: 64 MiB per call,
// also per FuzzReplay input that found it).
func TestReplayStartClaimAllocates(t *testing.T) {
	valid, err := hex.DecodeString(goldenReplay)
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte(nil), valid[:67]...)
	binary.LittleEndian.PutUint32(b[59:], 5)                       // start frame 5
	binary.LittleEndian.PutUint32(b[63:], lockstep.MaxReplayStart) // state length claimed
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = lockstep.NewReplay[input](bytes.NewReader(b))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, lockstep.ErrBadReplay) {
		t.Errorf("NewReplay = %v, want ErrBadReplay", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("NewReplay allocated %d bytes for a %d-byte log", n, len(b))
	}
}
