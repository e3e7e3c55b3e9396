//go:build js && wasm

package netcode

import (
	"sync"
	"syscall/js"
	"time"

	"github.com/pion/webrtc/v4"
)

// Transport counters in the browser. pion's js PeerConnection has no
// GetStats, and the browser's getStats() answers with a Promise, so
// Mesh.Stats (which never blocks) reports the last answer and asks for a
// fresh one at most every statsRefresh: the figures are up to that old,
// and zero until the first answer arrived. They come from the selected
// ICE candidate pair ("candidate-pair" stats: packetsSent,
// packetsReceived, bytesSent, bytesReceived, currentRoundTripTime);
// browsers that leave a field out report zero for it.

// statsRefresh is the least time between two getStats() calls per peer.
const statsRefresh = 500 * time.Millisecond

// statsCache maps *webrtc.PeerConnection → *jsStats; closePC drops the
// entry.
var statsCache sync.Map

type jsStats struct {
	mu   sync.Mutex // guards following
	ts   transportCounters
	at   time.Time // when the last getStats() was asked
	busy bool      // a getStats() is pending
}

// transportStats returns pc's last known counters and, if they are old
// enough, asks the browser for new ones.
func transportStats(pc *webrtc.PeerConnection) transportCounters {
	v, _ := statsCache.LoadOrStore(pc, &jsStats{})
	s := v.(*jsStats)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.busy && time.Since(s.at) >= statsRefresh {
		s.busy, s.at = true, time.Now()
		s.refresh(pc.JSValue())
	}
	return s.ts
}

// refresh calls getStats(); its Promise settles later, on the browser's
// event loop, never inside this call.
func (s *jsStats) refresh(pc js.Value) {
	getStats := pc.Get("getStats")
	if getStats.Type() != js.TypeFunction {
		s.busy = false
		return
	}
	var onOK, onErr js.Func
	settle := func(ts *transportCounters) {
		s.mu.Lock()
		if ts != nil {
			s.ts = *ts
		}
		s.busy = false
		s.mu.Unlock()
		onOK.Release()
		onErr.Release()
	}
	onOK = js.FuncOf(func(_ js.Value, args []js.Value) any {
		var ts transportCounters
		if len(args) > 0 {
			ts = selectedPairStats(args[0])
		}
		settle(&ts)
		return nil
	})
	onErr = js.FuncOf(func(js.Value, []js.Value) any {
		settle(nil) // a closed connection: keep the last figures
		return nil
	})
	pc.Call("getStats").Call("then", onOK, onErr)
}

// selectedPairStats reads the transport counters of an RTCStatsReport:
// packets and bytes from the "transport" entry, which counts everything the
// DTLS transport carried whichever candidate pair carried it (a browser may
// receive on one pair while its selected pair is another, or switch pairs
// under load, and a pair's counters start again at zero), and the round
// trip of the selected candidate pair: the one the "transport" entry names,
// else a nominated pair that succeeded. Without a transport entry the
// packets and bytes are the pair's.
func selectedPairStats(report js.Value) transportCounters {
	pairs := map[string]js.Value{}
	var selected, nominated string
	var transport js.Value
	haveTransport := false
	each := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) == 0 || args[0].Type() != js.TypeObject {
			return nil
		}
		st := args[0]
		switch jsString(st, "type") {
		case "transport":
			if id := jsString(st, "selectedCandidatePairId"); id != "" {
				selected = id
			}
			if st.Get("bytesReceived").Type() == js.TypeNumber {
				transport, haveTransport = st, true
			}
		case "candidate-pair":
			id := jsString(st, "id")
			pairs[id] = st
			if n := st.Get("nominated"); n.Type() == js.TypeBoolean && n.Bool() && jsString(st, "state") == "succeeded" {
				nominated = id
			}
		}
		return nil
	})
	defer each.Release()
	if report.Type() != js.TypeObject || report.Get("forEach").Type() != js.TypeFunction {
		return transportCounters{}
	}
	report.Call("forEach", each)
	pair, ok := pairs[selected]
	if !ok {
		pair, ok = pairs[nominated]
	}
	if !ok && !haveTransport {
		return transportCounters{}
	}
	counts := pair
	if haveTransport {
		counts = transport
	}
	var ts transportCounters
	if counts.Type() == js.TypeObject {
		ts.PacketsSent, ts.PacketsReceived = jsUint(counts, "packetsSent"), jsUint(counts, "packetsReceived")
		ts.BytesSent, ts.BytesReceived = jsUint(counts, "bytesSent"), jsUint(counts, "bytesReceived")
	}
	if ok {
		ts.ICERTT = time.Duration(jsFloat(pair, "currentRoundTripTime") * float64(time.Second))
	}
	return ts
}

func jsString(v js.Value, name string) string {
	if f := v.Get(name); f.Type() == js.TypeString {
		return f.String()
	}
	return ""
}

func jsFloat(v js.Value, name string) float64 {
	if f := v.Get(name); f.Type() == js.TypeNumber {
		return f.Float()
	}
	return 0
}

func jsUint(v js.Value, name string) uint64 {
	if f := jsFloat(v, name); f > 0 && f < 1<<53 {
		return uint64(f)
	}
	return 0
}
