//go:build js && wasm

package netcode

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall/js"

	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/internal/safetext"
	"github.com/peerplay/peerplay/netcode/transport"
)

// pionAPI makes the PeerConnections of one mesh. In the browser pion
// drives the browser's RTCPeerConnection: ICE timeouts, SCTP RTO and
// pion's logging are the browser's business, so only the caller's hook
// runs.
type pionAPI struct {
	api *webrtc.API
}

func newAPI(cfg *Config, _ *Identity) (*pionAPI, error) {
	se := webrtc.SettingEngine{}
	if cfg.SettingEngine != nil {
		cfg.SettingEngine(&se)
	}
	return &pionAPI{api: webrtc.NewAPI(webrtc.WithSettingEngine(se))}, nil
}

// localIdentity: pion's browser build cannot give the RTCPeerConnection a
// certificate (the browser makes one per connection), so a browser mesh
// cannot prove a key-derived ID. It gets a random ID of the browser form
// ("~" + 32 characters) and Config.Identity is not used; see "Threat
// model" in the package doc.
func localIdentity(*Config) (*Identity, transport.PeerID, error) {
	return nil, newBrowserID(), nil
}

// canReadRemoteCert: RTCDtlsTransport.getRemoteCertificates is missing
// in Firefox, so a browser mesh accepts a key-derived ID it cannot check
// (and says so in its log).
const canReadRemoteCert = false

// newPeerConnection makes one PeerConnection and listens for the
// browser's icecandidateerror events: those of a turn: or turns: URL
// become a *TURNError for onTURN (errorCode is the STUN error code, e.g.
// 401, or 701 when the server did not answer). The returned stop function
// removes the listener; call it after closing the PeerConnection.
func (a *pionAPI) newPeerConnection(conf webrtc.Configuration, onTURN func(*TURNError), _ *punchSet) (*webrtc.PeerConnection, func(), error) {
	pc, err := a.api.NewPeerConnection(conf)
	if err != nil {
		return nil, nil, err
	}
	v := pc.JSValue()
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) == 0 {
			return nil
		}
		if e := browserTURNError(args[0]); e != nil {
			onTURN(e)
		}
		return nil
	})
	v.Call("addEventListener", "icecandidateerror", fn)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			v.Call("removeEventListener", "icecandidateerror", fn)
			fn.Release()
		})
	}
	return pc, stop, nil
}

// browserTURNError converts an RTCPeerConnectionIceErrorEvent about a TURN
// server, or returns nil.
func browserTURNError(ev js.Value) *TURNError {
	str := func(name string) string {
		if f := ev.Get(name); f.Type() == js.TypeString {
			return f.String()
		}
		return ""
	}
	url := str("url")
	if !strings.HasPrefix(url, "turn:") && !strings.HasPrefix(url, "turns:") {
		return nil
	}
	e := &TURNError{URL: safetext.Name(url, 256), Reason: safetext.Name(str("errorText"), 64)}
	if f := ev.Get("errorCode"); f.Type() == js.TypeNumber {
		e.Code = f.Int()
	}
	if e.Code >= 700 { // 701: no answer; not a STUN code
		e.Err = fmt.Errorf("browser ICE error %d: %s", e.Code, e.Reason)
		e.Code, e.Reason = 0, ""
	}
	return e
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

func closePC(pc *webrtc.PeerConnection) error {
	statsCache.Delete(pc)
	return pc.Close()
}
