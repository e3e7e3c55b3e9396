package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRecordedMatchReplays records a headless bot match and replays the
// file: the replay ends on the same score, frame and checksum, and a
// corrupted file is refused.
func TestRecordedMatchReplays(t *testing.T) {
	bin := build(t, true)
	file := filepath.Join(t.TempDir(), "match.pprp")
	out := runOK(t, bin, "-headless", "-seed", "7", "-score", "3", "-record", file)
	score, frames, sum := parseResult(t, "record", out)

	out = runOK(t, bin, "-headless", "-replay", file)
	rScore, rFrames, rSum := parseResult(t, "replay", out)
	if rScore != score || rFrames != frames || rSum != sum {
		t.Errorf("replay: score %s frames %s checksum %s; recorded %s, %s, %s", rScore, rFrames, rSum, score, frames, sum)
	}
	if !strings.Contains(out, "every recorded checksum matches") {
		t.Errorf("replay output does not confirm the checksum:\n%s", out)
	}

	// A different seed gives a different match (the checksum is not constant).
	_, _, other := parseResult(t, "seed 8", runOK(t, bin, "-headless", "-seed", "8", "-score", "3"))
	if other == sum {
		t.Errorf("seeds 7 and 8 end on the same checksum %s", sum)
	}

	// Truncated file: refused with a non-zero exit.
	bad := filepath.Join(t.TempDir(), "bad.pprp")
	if b, err := exec.Command("head", "-c", "30", file).Output(); err != nil {
		t.Fatal(err)
	} else if err := writeFile(bad, b); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-headless", "-replay", bad).CombinedOutput(); err == nil {
		t.Errorf("replay of a truncated file succeeded:\n%s", out)
	} else if !strings.Contains(string(out), "malformed") {
		t.Errorf("truncated file: output %q does not say it is malformed", out)
	}
}
