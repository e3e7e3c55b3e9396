package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/peerplay/peerplay/signaling"
)

// collector exports signaling.Server.Stats as Prometheus metrics, read at
// scrape time (the library itself has no Prometheus dependency).
type collector struct {
	srv                               *signaling.Server
	conns, members, rooms, turnAllocs *prometheus.Desc
	messages, signals, joins, stun    *prometheus.Desc
	rejects, refusals                 *prometheus.Desc
}

func newCollector(srv *signaling.Server) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("signald_"+name, help, labels, nil)
	}
	return &collector{
		srv:        srv,
		conns:      d("connections", "Open WebSocket connections (joined or not)."),
		members:    d("members", "Connections that joined a room on this node."),
		rooms:      d("rooms", "Rooms in the backplane (public and private).", "visibility"),
		turnAllocs: d("turn_allocations", "Live allocations of the embedded TURN server."),
		messages:   d("messages_total", "WebSocket messages, by direction.", "direction"),
		signals:    d("signals_total", "Signals relayed."),
		joins:      d("joins_total", "Members admitted, by kind.", "kind"),
		rejects:    d("rejects_total", "Refused or cut connections and messages, by error code.", "reason"),
		stun:       d("stun_requests_total", "STUN binding requests answered."),
		refusals:   d("refusals_total", "Refusals by the rule that refused (signaling.Refuse... reasons).", "rule"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.conns, c.members, c.rooms, c.turnAllocs, c.messages, c.signals, c.joins, c.rejects, c.stun, c.refusals} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.srv.Stats()
	g := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	n := func(d *prometheus.Desc, v uint64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	g(c.conns, float64(st.Connections))
	g(c.members, float64(st.Members))
	g(c.turnAllocs, float64(st.TURNAllocations))
	n(c.messages, st.MessagesIn, "in")
	n(c.messages, st.MessagesOut, "out")
	n(c.signals, st.Signals)
	n(c.joins, st.Joins, "join")
	n(c.joins, st.Resumes, "resume")
	n(c.stun, st.STUNRequests)
	// Every known code is exported (zero included), so dashboards see
	// the series before the first reject.
	for _, code := range allCodes {
		n(c.rejects, st.Rejects[code], string(code))
	}
	for _, r := range signaling.RefuseReasons() {
		n(c.refusals, st.Refusals[r], r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if rooms, err := c.srv.Rooms(ctx); err == nil {
		var pub, priv float64
		for _, r := range rooms {
			if r.Private {
				priv++
			} else {
				pub++
			}
		}
		g(c.rooms, pub, "public")
		g(c.rooms, priv, "private")
	}
}

var allCodes = []signaling.Code{
	signaling.CodeBadRequest, signaling.CodeVersion, signaling.CodeTooLarge, signaling.CodeRateLimited,
	signaling.CodeRoomFull, signaling.CodeBadPassword, signaling.CodeBadToken, signaling.CodeTokenExpired,
	signaling.CodeWrongGame, signaling.CodeTooManyRooms, signaling.CodeTooManyConns, signaling.CodeOrigin,
	signaling.CodeTimeout, signaling.CodeIdle, signaling.CodeUnknownPeer, signaling.CodeResumeFailed,
	signaling.CodeSlowConsumer, signaling.CodeReplaced, signaling.CodeShutdown, signaling.CodeUnavailable, signaling.CodeInternal,
	signaling.CodeNotOwner, signaling.CodeKicked,
}
