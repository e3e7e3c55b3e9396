package game

import (
	"errors"
	"os"
	"runtime"
	"time"

	"github.com/hajimehoshi/ebiten/v2/audio"

	"github.com/peerplay/peerplay/demo/pong/play"
)

// ErrNoAudio is returned by NewSound on a machine without a sound device.
var ErrNoAudio = errors.New("game: no audio device")

const sampleRate = 48000

// beeper plays a short high beep when the ball meets a paddle and a
// longer low one for a point.
type beeper struct {
	ctx        *audio.Context
	hit, point []byte
}

// NewSound returns the game's sound effects, or ErrNoAudio where there is
// no sound device (on Linux: no /dev/snd, as on CI machines and under
// Xvfb); the game then plays silent. Call it at most once per process
// (ebiten allows one audio context).
func NewSound() (Sound, error) {
	if runtime.GOOS == "linux" {
		if _, err := os.Stat("/dev/snd"); err != nil {
			return nil, ErrNoAudio
		}
	}
	return &beeper{
		ctx:   audio.NewContext(sampleRate),
		hit:   play.Tone(660, 40*time.Millisecond, sampleRate),
		point: play.Tone(330, 180*time.Millisecond, sampleRate),
	}, nil
}

func (b *beeper) Hit()   { b.ctx.NewPlayerFromBytes(b.hit).Play() }
func (b *beeper) Point() { b.ctx.NewPlayerFromBytes(b.point).Play() }
