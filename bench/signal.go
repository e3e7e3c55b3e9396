package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/peerplay/peerplay/signaling"
)

// SignalProtocol is how the load client speaks to one signaling server.
// Both implementations relay the same ~250-byte JSON message (a trickled
// ICE candidate with a send timestamp) from one member of a pair to the
// other.
type SignalProtocol interface {
	// Name is "peerplay" or "peerjs".
	Name() string
	// Open connects client i of pair i/2 and completes the protocol's
	// handshake; it returns the connection and the ID others address it by.
	Open(ctx context.Context, base string, i int) (*websocket.Conn, string, error)
	// Signal is the message that relays payload to dst.
	Signal(dst string, payload []byte) []byte
	// Payload extracts the relayed payload's first 9 bytes from a
	// received message (ok false for any other message).
	Payload(msg []byte) (head [9]byte, ok bool)
}

// wsDial opens a WebSocket without compression, as both servers default.
func wsDial(ctx context.Context, url string) (*websocket.Conn, error) {
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: loadHTTPClient})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	return c, nil
}

var loadHTTPClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1}}

// filler pads a signal to the size of a real trickled candidate.
var filler = strings.Repeat("c", 150)

// Peerplay speaks the signaling protocol of package signaling (the
// version it names): join a room of 2, then "signal" messages whose data
// is a JSON object.
type Peerplay struct{}

// Name implements SignalProtocol.
func (Peerplay) Name() string { return "peerplay" }

// Open implements SignalProtocol.
func (Peerplay) Open(ctx context.Context, base string, i int) (*websocket.Conn, string, error) {
	c, err := wsDial(ctx, base+"/ws")
	if err != nil {
		return nil, "", err
	}
	join := fmt.Sprintf(`{"type":"join","version":%d,"room":"r%d","max":2}`, signaling.ProtocolVersion, i/2)
	if err := c.Write(ctx, websocket.MessageText, []byte(join)); err != nil {
		c.CloseNow()
		return nil, "", err
	}
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			c.CloseNow()
			return nil, "", err
		}
		var f struct{ Type, Peer, Code, Message string }
		if err := json.Unmarshal(msg, &f); err != nil {
			c.CloseNow()
			return nil, "", err
		}
		switch f.Type {
		case "welcome":
			return c, f.Peer, nil
		case "error":
			c.CloseNow()
			return nil, "", fmt.Errorf("bench: peerplay join: %s: %s", f.Code, f.Message)
		}
	}
}

// Signal implements SignalProtocol: data is the same JSON object PeerJS
// carries as payload (protocol version 2 relays it byte for byte).
func (Peerplay) Signal(dst string, payload []byte) []byte {
	b := make([]byte, 0, 300)
	b = append(b, `{"type":"signal","to":"`...)
	b = append(b, dst...)
	b = append(b, `","data":`...)
	b = appendCandidate(b, payload)
	return append(b, '}')
}

// Payload implements SignalProtocol.
func (Peerplay) Payload(msg []byte) (head [9]byte, ok bool) {
	if !bytes.Contains(msg, []byte(`"type":"signal"`)) {
		return head, false
	}
	return candidateHead(msg)
}

// appendCandidate appends the relayed JSON object: the 9 payload bytes as
// the decimal fields "t" and "s", then a trickled-candidate-sized body.
func appendCandidate(b, payload []byte) []byte {
	b = append(b, `{"t":`...)
	b = strconv.AppendUint(b, binary.LittleEndian.Uint64(payload), 10)
	b = append(b, `,"s":`...)
	b = strconv.AppendUint(b, uint64(payload[8]), 10)
	b = append(b, `,"candidate":{"candidate":"`...)
	b = append(b, filler...)
	return append(b, `","sdpMid":"0","sdpMLineIndex":0}}`...)
}

func candidateHead(msg []byte) (head [9]byte, ok bool) {
	t, ok1 := jsonUint(msg, `"t":`)
	s, ok2 := jsonUint(msg, `"s":`)
	if !ok1 || !ok2 {
		return head, false
	}
	binary.LittleEndian.PutUint64(head[:], t)
	head[8] = byte(s)
	return head, true
}

// PeerJS speaks the PeerJS server's protocol (npm "peer" 1.0.2, read from
// its dist/bin/peerjs.js): connect to /peerjs?key=peerjs&id=..&token=..,
// get OPEN, then send {type, dst, payload}; the server sets src and
// forwards the JSON to dst.
type PeerJS struct{}

// Name implements SignalProtocol.
func (PeerJS) Name() string { return "peerjs" }

// Open implements SignalProtocol.
func (PeerJS) Open(ctx context.Context, base string, i int) (*websocket.Conn, string, error) {
	id := "p" + strconv.Itoa(i)
	c, err := wsDial(ctx, base+"/peerjs?key=peerjs&id="+id+"&token=t"+strconv.Itoa(i))
	if err != nil {
		return nil, "", err
	}
	_, msg, err := c.Read(ctx)
	if err != nil {
		c.CloseNow()
		return nil, "", err
	}
	if !bytes.Contains(msg, []byte(`"OPEN"`)) {
		c.CloseNow()
		return nil, "", fmt.Errorf("bench: peerjs open: %s", msg)
	}
	return c, id, nil
}

// Signal implements SignalProtocol.
func (PeerJS) Signal(dst string, payload []byte) []byte {
	b := make([]byte, 0, 300)
	b = append(b, `{"type":"CANDIDATE","dst":"`...)
	b = append(b, dst...)
	b = append(b, `","payload":`...)
	b = appendCandidate(b, payload)
	return append(b, '}')
}

// Payload implements SignalProtocol.
func (PeerJS) Payload(msg []byte) (head [9]byte, ok bool) {
	if !bytes.Contains(msg, []byte(`"CANDIDATE"`)) {
		return head, false
	}
	return candidateHead(msg)
}

func jsonUint(msg []byte, key string) (uint64, bool) {
	i := bytes.Index(msg, []byte(key))
	if i < 0 {
		return 0, false
	}
	j := i + len(key)
	k := j
	for k < len(msg) && msg[k] >= '0' && msg[k] <= '9' {
		k++
	}
	v, err := strconv.ParseUint(string(msg[j:k]), 10, 64)
	return v, err == nil
}

// signalPayload is the 9 bytes every relayed signal carries: the send
// time (since the sweep started) and the step it belongs to.
func signalPayload(ts int64, step uint8) []byte {
	p := make([]byte, 9)
	binary.LittleEndian.PutUint64(p, uint64(ts))
	p[8] = step
	return p
}

// RelayStep is one offered load of a relay sweep.
type RelayStep struct {
	Offered  float64 // signals per second the client tried to send
	Achieved float64 // signals per second received
	Sent     int
	Received int
	P50, P99 time.Duration
}

// RelayConfig sets up a relay sweep.
type RelayConfig struct {
	Pairs    int           // client pairs; the first of each pair sends to the second
	Rates    []float64     // offered signals per second, ascending
	Step     time.Duration // how long each rate is offered
	SLO      time.Duration // stop after the first step whose p99 exceeds it
	Senders  int           // sending goroutines (0 = 4)
	OpenRate int           // connections opened concurrently (0 = 64)
}

// RelaySweep connects cfg.Pairs pairs of clients to the server at base
// (http://host:port) and offers each rate in turn, open loop, for
// cfg.Step, measuring the sender-to-receiver latency of every relayed
// signal. It stops after a step that misses the SLO or delivers under 90%
// of what was offered (saturation).
func RelaySweep(ctx context.Context, proto SignalProtocol, base string, cfg RelayConfig) ([]RelayStep, error) {
	if cfg.Senders == 0 {
		cfg.Senders = 4
	}
	n := 2 * cfg.Pairs
	conns, ids, err := openMany(ctx, proto, base, n, 1, cfg.OpenRate)
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)

	t0 := time.Now()
	rec := newLatRecorder(len(cfg.Rates))
	var readers sync.WaitGroup
	rctx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); readers.Wait() }()
	for p := 0; p < cfg.Pairs; p++ {
		c := conns[2*p+1]
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				_, msg, err := c.Read(rctx)
				if err != nil {
					return
				}
				now := time.Since(t0)
				if head, ok := proto.Payload(msg); ok {
					sent := time.Duration(binary.LittleEndian.Uint64(head[:]))
					rec.add(int(head[8]), now-sent)
				}
			}
		}()
		// The sender's side receives nothing but control traffic (ours:
		// peer-joined); keep it read so pings are answered.
		readers.Add(1)
		go func(c *websocket.Conn) {
			defer readers.Done()
			for {
				if _, _, err := c.Read(rctx); err != nil {
					return
				}
			}
		}(conns[2*p])
	}

	var steps []RelayStep
	for si, rate := range cfg.Rates {
		var sent atomic.Int64
		var wg sync.WaitGroup
		stepStart := time.Now()
		for g := 0; g < cfg.Senders; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				per := rate / float64(cfg.Senders)
				tick := time.NewTicker(time.Millisecond)
				defer tick.Stop()
				next := g // pair index, round robin over this sender's pairs
				var owed float64
				last := time.Now()
				for {
					now := <-tick.C
					if now.Sub(stepStart) >= cfg.Step {
						return
					}
					owed += per * now.Sub(last).Seconds()
					last = now
					for ; owed >= 1; owed-- {
						p := next % cfg.Pairs
						next += cfg.Senders
						msg := proto.Signal(ids[2*p+1], signalPayload(int64(time.Since(t0)), uint8(si)))
						if err := conns[2*p].Write(ctx, websocket.MessageText, msg); err != nil {
							return
						}
						sent.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(stepStart)
		time.Sleep(500 * time.Millisecond) // drain
		d := rec.take(si)
		s := d.Summary()
		st := RelayStep{Offered: rate, Sent: int(sent.Load()), Received: len(d),
			Achieved: float64(len(d)) / elapsed.Seconds(), P50: s.P50, P99: s.P99}
		steps = append(steps, st)
		if ctx.Err() != nil {
			return steps, ctx.Err()
		}
		if st.P99 > cfg.SLO || st.Achieved < 0.9*rate {
			break
		}
	}
	return steps, nil
}

// MaxRateWithin is the highest achieved rate among steps that met the
// SLO (p99 ≤ slo) without saturating (≥ 90% of offered delivered).
func MaxRateWithin(steps []RelayStep, slo time.Duration) float64 {
	best := 0.0
	for _, s := range steps {
		if s.P99 <= slo && s.Achieved >= 0.9*s.Offered && s.Achieved > best {
			best = s.Achieved
		}
	}
	return best
}

type latRecorder struct {
	mu    sync.Mutex
	steps []Durations
}

func newLatRecorder(n int) *latRecorder { return &latRecorder{steps: make([]Durations, n)} }

func (r *latRecorder) add(step int, d time.Duration) {
	r.mu.Lock()
	if step < len(r.steps) {
		r.steps[step] = append(r.steps[step], d)
	}
	r.mu.Unlock()
}

func (r *latRecorder) take(step int) Durations {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.steps[step]
	r.steps[step] = nil
	return d
}

// openMany opens n clients numbered 0, stride, 2·stride, ... (stride 2
// puts each in a room of its own), at most par at once (0 = 64).
func openMany(ctx context.Context, proto SignalProtocol, base string, n, stride, par int) ([]*websocket.Conn, []string, error) {
	if par == 0 {
		par = 64
	}
	conns := make([]*websocket.Conn, n)
	ids := make([]string, n)
	errs := make([]error, n)
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			octx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			conns[i], ids[i], errs[i] = proto.Open(octx, base, i*stride)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		closeAll(conns)
		return nil, nil, fmt.Errorf("bench: %s: opening %d clients: %w", proto.Name(), n, firstErr(errs))
	}
	return conns, ids, nil
}

func firstErr(errs []error) error {
	k := 0
	var first error
	for _, e := range errs {
		if e != nil {
			if first == nil {
				first = e
			}
			k++
		}
	}
	return fmt.Errorf("%d failed, first: %w", k, first)
}

func closeAll(conns []*websocket.Conn) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for _, c := range conns {
		if c != nil {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				c.CloseNow()
			}()
		}
	}
	wg.Wait()
}

// IdleConns opens n clients to the server at base, each alone in its room
// (so that the server never sends it a data message), left idle
// (control frames answered, nothing sent), and returns them with the time
// it took; Close them with CloseIdle.
func IdleConns(ctx context.Context, proto SignalProtocol, base string, n int) (conns []*websocket.Conn, took time.Duration, err error) {
	t0 := time.Now()
	conns, _, err = openMany(ctx, proto, base, n, 2, 128)
	if err != nil {
		return nil, 0, err
	}
	took = time.Since(t0)
	for _, c := range conns {
		c.CloseRead(context.Background())
	}
	return conns, took, nil
}

// CloseIdle closes what IdleConns opened.
func CloseIdle(conns []*websocket.Conn) { closeAll(conns) }
