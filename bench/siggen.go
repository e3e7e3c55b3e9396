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
	leave  func(rc *rawConn)
	signal func(dst string) []byte // the relayed message, as SignalProtocol.Signal builds it
	marker []byte                  // in every relayed message as received
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
		signal: func(dst string) []byte {
			return Peerplay{}.Signal(dst, signalPayload(123456789, 1))
		},
		marker: []byte(`"type":"signal"`),
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
		signal: func(dst string) []byte {
			return PeerJS{}.Signal(dst, signalPayload(123456789, 1))
		},
		marker: []byte(`"CANDIDATE"`),
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
		f := rawFrame(nil, 0x1, p.signal(rid))
		pairs[k] = &pair{snd: snd, rcv: rcv, frames: bytes.Repeat(f, cfg.Window), frame: len(f)}
	}
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
					if bytes.Contains(msg, p.marker) {
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
