package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peerplay/peerplay/signaling"
)

// SigGenConfig is one signaling load generator process's share of a
// saturation run (SigSaturate sends it to the process as JSON).
type SigGenConfig struct {
	Proto    string        // "peerplay" or "peerjs"
	Addr     string        // the server, host:port
	Workload string        // "relay" or "churn"
	Prefix   string        // makes room names and peer IDs unique per process and run
	Pairs    int           // relay: client pairs (the first of each sends to the second)
	Window   int           // relay: signals in flight per pair (sent, not yet received)
	Message  string        // relay: "candidate" (default: a ~250-byte trickled candidate) or "offer" (a ~650-byte SDP offer)
	Workers  int           // churn: concurrent join-and-leave loops
	Warmup   time.Duration // load before the measured window
	Measure  time.Duration // the measured window
}

// SigGenResult is what one generator process measured in its window.
type SigGenResult struct {
	Ops    int64         // relay: signals received; churn: join-and-leave cycles completed
	CPU    time.Duration // this process's user+system CPU time in the window
	Errors int64         // churn: failed cycles (the run fails if any)
	Err    string        // setup or run failure
}

// sigProto is how the generator's raw client speaks one server's protocol.
type sigProto struct {
	// open connects a client with the given unique ID (PeerJS) or into
	// the given room (Peerplay, rooms of 2) and returns the ID others
	// address it by.
	// The read buffer is bufSize bytes: large for a relay receiver (many
	// frames per read), small for churn (a fresh client per cycle).
	open func(addr, id, room string, bufSize int) (*rawConn, string, error)
	// leave sends what the protocol's client sends when it leaves.
	leave func(rc *rawConn)
	// signal is the message that relays data (a JSON object) to dst, as
	// an offer or a candidate; marker is in every such message as received.
	signal func(dst string, data []byte, offer bool) []byte
	marker func(offer bool) []byte
}

const rawTimeout = 30 * time.Second

var sigProtos = map[string]sigProto{
	"peerplay": {
		open: func(addr, id, room string, bufSize int) (*rawConn, string, error) {
			rc, err := rawDial(addr, "/ws", rawTimeout, bufSize)
			if err != nil {
				return nil, "", err
			}
			join := fmt.Sprintf(`{"type":"join","version":%d,"room":%q,"max":2}`, signaling.ProtocolVersion, room)
			if err := rc.write(rawFrame(nil, 0x1, []byte(join))); err != nil {
				rc.c.Close()
				return nil, "", err
			}
			_ = rc.c.SetReadDeadline(time.Now().Add(rawTimeout))
			defer func() { _ = rc.c.SetReadDeadline(time.Time{}) }()
			for {
				_, msg, err := rc.next()
				if err != nil {
					rc.c.Close()
					return nil, "", err
				}
				if bytes.Contains(msg, []byte(`"type":"welcome"`)) { // no JSON decoding: churn does this per cycle
					_, peer, _ := bytes.Cut(msg, []byte(`"peer":"`))
					peer, _, _ = bytes.Cut(peer, []byte(`"`))
					return rc, string(peer), nil
				}
				var f struct{ Type, Code, Message string }
				if err := json.Unmarshal(msg, &f); err != nil {
					rc.c.Close()
					return nil, "", err
				}
				if f.Type == "error" {
					rc.c.Close()
					return nil, "", fmt.Errorf("bench: peerplay join: %s: %s", f.Code, f.Message)
				}
			}
		},
		leave: func(rc *rawConn) { _ = rc.write(rawFrame(nil, 0x1, []byte(`{"type":"leave"}`))) },
		signal: func(dst string, data []byte, _ bool) []byte {
			b := append([]byte(`{"type":"signal","to":"`), dst...)
			b = append(b, `","data":`...)
			b = append(b, data...)
			return append(b, '}')
		},
		marker: func(bool) []byte { return []byte(`"type":"signal"`) },
	},
	"peerjs": {
		open: func(addr, id, room string, bufSize int) (*rawConn, string, error) {
			rc, err := rawDial(addr, "/peerjs?key=peerjs&id="+id+"&token=t"+id, rawTimeout, bufSize)
			if err != nil {
				return nil, "", err
			}
			_ = rc.c.SetReadDeadline(time.Now().Add(rawTimeout))
			defer func() { _ = rc.c.SetReadDeadline(time.Time{}) }()
			_, msg, err := rc.next()
			if err != nil {
				rc.c.Close()
				return nil, "", err
			}
			if !bytes.Contains(msg, []byte(`"OPEN"`)) {
				rc.c.Close()
				return nil, "", fmt.Errorf("bench: peerjs open: %s", msg)
			}
			return rc, id, nil
		},
		leave: func(*rawConn) {}, // the PeerJS client just closes its socket
		signal: func(dst string, data []byte, offer bool) []byte {
			b := append([]byte(`{"type":"`), peerjsType(offer)...)
			b = append(b, `","dst":"`...)
			b = append(b, dst...)
			b = append(b, `","payload":`...)
			b = append(b, data...)
			return append(b, '}')
		},
		marker: func(offer bool) []byte { return []byte(`"` + peerjsType(offer) + `"`) },
	},
}

// SigGenMain runs one generator process: it reads a SigGenConfig (one
// JSON line) from stdin, sets up its clients and prints "ready", starts
// the load when it reads "go", and prints its SigGenResult (JSON) after
// the window. It returns the process's exit code. Commands that serve as
// generators (bench's test binary, bench/cmd/report) call it when started
// for that.
func SigGenMain() int {
	in := bufio.NewReader(os.Stdin)
	res := sigGen(in, os.Stdout)
	b, _ := json.Marshal(res)
	fmt.Printf("%s\n", b)
	if res.Err != "" {
		return 1
	}
	return 0
}

func sigGen(in *bufio.Reader, out io.Writer) SigGenResult {
	line, err := in.ReadBytes('\n')
	if err != nil {
		return SigGenResult{Err: "reading config: " + err.Error()}
	}
	var cfg SigGenConfig
	if err := json.Unmarshal(line, &cfg); err != nil {
		return SigGenResult{Err: "config: " + err.Error()}
	}
	p, ok := sigProtos[cfg.Proto]
	if !ok {
		return SigGenResult{Err: "unknown protocol " + cfg.Proto}
	}
	var ops, errs atomic.Int64
	var start func(ctx context.Context)
	var stop func()
	switch cfg.Workload {
	case "relay":
		start, stop, err = relaySetup(p, cfg, &ops)
	case "churn":
		start, stop = churnSetup(p, cfg, &ops, &errs), func() {}
	default:
		err = errors.New("unknown workload " + cfg.Workload)
	}
	if err != nil {
		return SigGenResult{Err: err.Error()}
	}
	defer stop()
	fmt.Fprintln(out, "ready")
	if l, err := in.ReadString('\n'); err != nil || l != "go\n" {
		return SigGenResult{Err: fmt.Sprintf("waiting for go: %q %v", l, err)}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start(ctx)
	time.Sleep(cfg.Warmup)
	o0, e0 := ops.Load(), errs.Load()
	c0 := processCPU()
	time.Sleep(cfg.Measure)
	o1, e1 := ops.Load(), errs.Load()
	c1 := processCPU()
	return SigGenResult{Ops: o1 - o0, CPU: c1 - c0, Errors: e1 - e0}
}

// relaySetup opens cfg.Pairs pairs; the returned start makes each pair's
// sender keep cfg.Window signals in flight to its receiver (closed loop:
// a signal received lets another go), writing every signal it may send
// in one write, until stop closes the connections.
func relaySetup(p sigProto, cfg SigGenConfig, ops *atomic.Int64) (start func(context.Context), stop func(), err error) {
	type pair struct {
		snd, rcv *rawConn
		frames   []byte // Window copies of the signal frame
		frame    int
	}
	pairs := make([]*pair, cfg.Pairs)
	var conns []*rawConn
	stop = func() {
		for _, c := range conns {
			c.c.Close()
		}
	}
	for k := range pairs {
		room := cfg.Prefix + "r" + strconv.Itoa(k)
		rcv, rid, err := p.open(cfg.Addr, cfg.Prefix+"b"+strconv.Itoa(k), room, 64<<10)
		if err != nil {
			stop()
			return nil, nil, err
		}
		conns = append(conns, rcv)
		snd, _, err := p.open(cfg.Addr, cfg.Prefix+"a"+strconv.Itoa(k), room, 4<<10)
		if err != nil {
			stop()
			return nil, nil, err
		}
		conns = append(conns, snd)
		data := appendCandidate(nil, signalPayload(123456789, 1))
		if cfg.Message == "offer" {
			data = sdpOffer
		}
		f := rawFrame(nil, 0x1, p.signal(rid, data, cfg.Message == "offer"))
		pairs[k] = &pair{snd: snd, rcv: rcv, frames: bytes.Repeat(f, cfg.Window), frame: len(f)}
	}
	marker := p.marker(cfg.Message == "offer")
	start = func(ctx context.Context) {
		for _, pr := range pairs {
			credit := make(chan struct{}, cfg.Window)
			for range cfg.Window {
				credit <- struct{}{}
			}
			go func() { // receiver: count, return credit
				for {
					_, msg, err := pr.rcv.next()
					if err != nil {
						return
					}
					if bytes.Contains(msg, marker) {
						ops.Add(1)
						credit <- struct{}{}
					}
				}
			}()
			go func() { // the sender's own inbound traffic (ours: peer-joined; pings)
				for {
					if _, _, err := pr.snd.next(); err != nil {
						return
					}
				}
			}()
			go func() { // sender
				for {
					select {
					case <-credit:
					case <-ctx.Done():
						return
					}
					n := 1
				more:
					for n < cfg.Window {
						select {
						case <-credit:
							n++
						default:
							break more
						}
					}
					if err := pr.snd.write(pr.frames[:n*pr.frame]); err != nil {
						return
					}
				}
			}()
		}
	}
	return start, stop, nil
}

// churnSetup returns a start that runs cfg.Workers loops, each connecting
// a new client (a fresh ID, and for ours a fresh room), waiting for the
// server's welcome (ours) or OPEN (PeerJS), and leaving as the protocol's
// client does, one cycle after another until the context ends.
func churnSetup(p sigProto, cfg SigGenConfig, ops, errs *atomic.Int64) func(context.Context) {
	return func(ctx context.Context) {
		var wg sync.WaitGroup
		for w := range cfg.Workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					id := cfg.Prefix + "w" + strconv.Itoa(w) + "c" + strconv.Itoa(i)
					rc, _, err := p.open(cfg.Addr, id, id, 2<<10)
					if err != nil {
						errs.Add(1)
						time.Sleep(10 * time.Millisecond)
						continue
					}
					p.leave(rc)
					rc.close()
					ops.Add(1)
				}
			}()
		}
		go func() { <-ctx.Done(); wg.Wait() }()
	}
}

// peerjsType is the PeerJS message type of a relayed offer or candidate
// (the server relays both by dst alike).
func peerjsType(offer bool) string {
	if offer {
		return "OFFER"
	}
	return "CANDIDATE"
}

// sdpOffer is the data of an offer-sized signal: the JSON object a PeerJS
// client sends with a data-channel offer (sdp, connection id, label,
// options), with the SDP of a browser's data-channel-only offer before
// trickled candidates (~650 bytes; its CRLFs JSON-escaped).
var sdpOffer = func() []byte {
	sdp := strings.Join([]string{
		"v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
		"a=group:BUNDLE 0", "a=extmap-allow-mixed", "a=msid-semantic: WMS",
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0",
		"a=ice-ufrag:Hp7v", "a=ice-pwd:3Ty0bK2ZP8dS8kZr9jZb1ZwF", "a=ice-options:trickle",
		"a=fingerprint:sha-256 6B:8B:5D:EA:59:04:20:23:29:C8:87:1C:CE:68:E3:A7:6C:4B:3A:1A:5F:8E:7A:DB:9F:41:2C:F1:FC:A5:F1:9E",
		"a=setup:actpass", "a=mid:0", "a=sctp-port:5000", "a=max-message-size:262144",
	}, "\\r\\n") + "\\r\\n"
	return []byte(`{"sdp":{"type":"offer","sdp":"` + sdp + `"},"type":"data","connectionId":"dc_7ks1tqv9zyj","label":"dc_7ks1tqv9zyj",` +
		`"reliable":true,"serialization":"binary","browser":"chrome"}`)
}()

// OfferSize is the size of the offer-sized signal's data (workload
// "offer"), in bytes.
func OfferSize() int { return len(sdpOffer) }
