package pubsub

import (
	"slices"

	"github.com/peerplay/peerplay/internal/pubsubfb"
	"github.com/peerplay/peerplay/internal/pubsubwire"
	"github.com/peerplay/peerplay/netcode/transport"
)

func (b *Bus) handle(m transport.Message) {
	if m.From == b.local || pubsubwire.CheckID(string(m.From)) != nil {
		b.stats.Ignored++
		return
	}
	if len(m.Data) > MaxMessageSize {
		b.stats.Oversized++
		b.log.Debug("drop oversized", "from", string(m.From), "size", len(m.Data))
		return
	}
	body, err := pubsubwire.Decode(m.Data)
	if err != nil {
		b.stats.Malformed++
		b.log.Debug("drop", "from", string(m.From), "err", err)
		return
	}
	st := b.state(m.From)
	switch v := body.Value.(type) {
	case *pubsubfb.HelloT:
		b.onHello(m.From, st, v)
	case *pubsubfb.HistoryT:
		b.onHistory(m.From, st, v)
	case *pubsubfb.PublishT:
		b.onPublish(m.From, st, v)
	case *pubsubfb.ClockT:
		if b.admit(m.From, st, v.Clock) {
			st.frontier = max(st.frontier, v.Clock)
			b.bump(v.Clock)
		}
	}
}

func (b *Bus) onHello(from transport.PeerID, st *peerState, h *pubsubfb.HelloT) {
	if b.admit(from, st, h.Clock) {
		st.frontier = max(st.frontier, h.Clock)
		b.bump(h.Clock)
	}
	b.sendHello(from, st) // ours goes first, if it has not yet
	if st.served {
		b.stats.Ignored++
		return
	}
	st.served = true
	b.serveHistory(from, int(h.History))
	if !st.hello {
		st.hello = true
		b.route(Delivery{Kind: DeliveryJoined, From: from})
	}
}

// serveHistory sends the last n publications p may see, oldest first,
// in chunks that fit a message; the last chunk has done set and carries
// our clock. Publications we hold but have not delivered yet are
// included: they may still be on their way to p's other peers, who then
// could not serve them.
func (b *Bus) serveHistory(p transport.PeerID, n int) {
	var vis []*entry
	all := append(slices.Clip(b.ring), b.pending...)
	for i := len(all) - 1; i >= 0 && len(vis) < n; i-- {
		if e := all[i]; e.visibleTo(p) && e.origin != p && !e.ephemeral {
			vis = append(vis, e)
		}
	}
	slices.Reverse(vis)
	chunk := &pubsubfb.HistoryT{}
	size := 0
	for _, e := range vis {
		sz := pubsubwire.EntryOverhead + len(e.origin) + len(e.topic) + len(e.payload) + len(e.to)*(MaxPeerIDSize+pubsubwire.PeerIDOverhead)
		if len(chunk.Entries) == pubsubwire.MaxChunk || (size+sz > pubsubwire.HistoryBudget && len(chunk.Entries) > 0) {
			chunk.Clock = b.clock
			b.send(p, pubsubfb.BodyHistory, chunk)
			chunk, size = &pubsubfb.HistoryT{}, 0
		}
		t := &pubsubfb.EntryT{Origin: string(e.origin), Seq: e.seq, Stamp: e.stamp, Topic: e.topic, Payload: e.payload}
		for _, r := range e.to {
			t.To = append(t.To, string(r))
		}
		chunk.Entries = append(chunk.Entries, t)
		size += sz
	}
	chunk.Clock = b.clock
	chunk.Done = true
	b.send(p, pubsubfb.BodyHistory, chunk)
}

func (b *Bus) onHistory(from transport.PeerID, st *peerState, h *pubsubfb.HistoryT) {
	if !st.helloSent || st.synced {
		b.stats.Ignored++ // unsolicited
		return
	}
	if b.admit(from, st, h.Clock) {
		st.frontier = max(st.frontier, h.Clock)
		b.bump(h.Clock)
	}
	for _, t := range h.Entries {
		if st.histGot >= b.cfg.History {
			b.stats.Ignored++ // more than we asked for
			continue
		}
		st.histGot++
		e := &entry{
			origin: transport.PeerID(t.Origin), seq: t.Seq, stamp: t.Stamp, topic: t.Topic,
			payload: t.Payload, history: true, via: from, arrived: b.now,
		}
		for _, r := range t.To {
			e.to = append(e.to, transport.PeerID(r))
		}
		if !b.admit(from, st, e.stamp) {
			continue
		}
		b.bump(e.stamp)
		switch {
		case e.origin == b.local || !e.visibleTo(b.local):
			b.stats.Ignored++
		case e.stamp <= b.horizon:
			b.stats.Ignored++ // older than what we keep: we may have delivered it already
		default:
			b.ingest(e)
		}
	}
	if h.Done {
		st.synced = true
	}
}

func (b *Bus) onPublish(from transport.PeerID, st *peerState, p *pubsubfb.PublishT) {
	if p.Seq <= st.lastSeq {
		b.stats.Duplicates++
		return
	}
	if !b.admit(from, st, p.Stamp) {
		return
	}
	st.lastSeq = p.Seq
	st.frontier = max(st.frontier, p.Stamp)
	b.bump(p.Stamp)
	if !st.recv.take(b.now, b.cfg.Rate*recvRateSlack, b.cfg.Burst*recvBurstSlack) {
		st.st.Throttled++
		b.stats.Throttled++
		return
	}
	e := &entry{origin: from, seq: p.Seq, stamp: p.Stamp, topic: p.Topic, payload: p.Payload, arrived: b.now, ephemeral: p.Ephemeral}
	for _, r := range p.To {
		e.to = append(e.to, transport.PeerID(r))
	}
	if !e.visibleTo(b.local) {
		b.stats.Ignored++
		return
	}
	st.st.Received++
	b.ingest(e)
}
