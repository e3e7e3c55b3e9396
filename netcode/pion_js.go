//go:build js && wasm

package netcode

import (
	"errors"
	"sync"
	"syscall/js"

	"github.com/pion/webrtc/v4"
)

// newAPI builds the pion API. In the browser pion drives the browser's
// RTCPeerConnection: ICE timeouts, SCTP RTO and pion's logging are the
// browser's business, so only the caller's hook runs.
func newAPI(cfg *Config) *webrtc.API {
	se := webrtc.SettingEngine{}
	if cfg.SettingEngine != nil {
		cfg.SettingEngine(&se)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se))
}

var (
	errPipeClosed    = errors.New("netcode: data channel closed")
	errMessageTooBig = errors.New("netcode: peer sent a message above 4 MiB") // never returned in the browser
	// errPipeOverflow: the browser delivered more than maxPipeBytes that
	// the read loop could not take (a Reliable inbox stayed full). The
	// browser offers no back-pressure on receive, so the peer is failed
	// rather than buffered without bound.
	errPipeOverflow = errors.New("netcode: receive queue overflow (slow consumer)")
)

// maxPipeBytes bounds the messages a pipe holds for its read loop.
const maxPipeBytes = 32 << 20

// pipe is one open data channel. pion's js OnMessage (and its detach
// emulation) starts a goroutine per message, which may reorder a reliable
// channel; so pipe takes the browser's onmessage itself, copies each
// message synchronously into an ordered queue, and read drains it.
type pipe struct {
	dc    *webrtc.DataChannel
	onMsg js.Func
	onEnd js.Func

	mu       sync.Mutex
	q        [][]byte
	bytes    int
	wake     chan struct{}
	closed   bool
	overflow bool
}

func openPipe(dc *webrtc.DataChannel) (*pipe, error) {
	p := &pipe{dc: dc, wake: make(chan struct{}, 1)}
	v := dc.JSValue()
	v.Set("binaryType", "arraybuffer")
	uint8Array := js.Global().Get("Uint8Array")
	p.onMsg = js.FuncOf(func(_ js.Value, args []js.Value) any {
		data := args[0].Get("data")
		if data.Type() == js.TypeString {
			return nil // netcode sends binary only
		}
		u := uint8Array.New(data)
		b := make([]byte, u.Length())
		js.CopyBytesToGo(b, u)
		p.mu.Lock()
		switch {
		case p.closed:
		case p.bytes+len(b) > maxPipeBytes:
			p.overflow, p.closed = true, true
		default:
			p.q = append(p.q, b)
			p.bytes += len(b)
		}
		p.mu.Unlock()
		select {
		case p.wake <- struct{}{}:
		default:
		}
		return nil
	})
	p.onEnd = js.FuncOf(func(js.Value, []js.Value) any {
		p.markClosed()
		return nil
	})
	v.Set("onmessage", p.onMsg)
	v.Set("onclose", p.onEnd)
	return p, nil
}

func (p *pipe) markClosed() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *pipe) read([]byte) ([]byte, error) {
	for {
		p.mu.Lock()
		if p.overflow {
			p.mu.Unlock()
			return nil, errPipeOverflow
		}
		if len(p.q) > 0 {
			b := p.q[0]
			p.q[0] = nil
			p.q = p.q[1:]
			p.bytes -= len(b)
			p.mu.Unlock()
			return b, nil
		}
		closed := p.closed
		p.mu.Unlock()
		if closed {
			return nil, errPipeClosed
		}
		<-p.wake
	}
}

func (p *pipe) write(b []byte) error { return p.dc.Send(b) }

func (p *pipe) buffered() uint64 { return p.dc.BufferedAmount() }

func (p *pipe) close() error {
	p.markClosed()
	v := p.dc.JSValue()
	v.Set("onmessage", js.Null())
	v.Set("onclose", js.Null())
	err := p.dc.Close()
	p.onMsg.Release()
	p.onEnd.Release()
	return err
}

func closePC(pc *webrtc.PeerConnection) error { return pc.Close() }

// transportStats is not available in the browser build (pion's js
// PeerConnection has no GetStats); Stats reports zeros.
func transportStats(*webrtc.PeerConnection) transportCounters { return transportCounters{} }
