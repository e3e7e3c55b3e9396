package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/peerplay/peerplay/signaling/natsbackplane"
)

// startNATS makes the NATS backplane and waits up to -nats-wait for it.
// NATS being unreachable is not fatal: signald serves degraded (/healthz
// 503 with the reason, joins refused with "unavailable") and recovers by
// itself when NATS comes. A bad -nats URL or option is fatal.
func startNATS(ctx context.Context, cfg *config, log *slog.Logger) (*natsbackplane.Backplane, error) {
	node := cfg.node
	if node == "" {
		node = defaultNode()
	}
	var opts []nats.Option
	if cfg.natsCreds != "" {
		opts = append(opts, nats.UserCredentials(cfg.natsCreds))
	}
	bp, err := natsbackplane.New(natsbackplane.Config{
		URL: cfg.natsURL, Options: opts, Node: node, Bucket: cfg.natsBucket,
		TTL: cfg.natsTTL, Replicas: cfg.natsReplicas, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, cfg.natsWait)
	defer cancel()
	if err := bp.Ready(wctx); err != nil {
		log.Error("signald: NATS unavailable at start; serving degraded until it comes (health 503, joins refused)", "node", node, "err", err)
	} else {
		log.Info("signald: NATS backplane ready", "node", node, "bucket", cfg.natsBucket, "ttl", cfg.natsTTL)
	}
	return bp, nil
}

// defaultNode is the host name (made safe) and a random suffix, so that
// two signald on one host never share a name.
func defaultNode() string {
	host, _ := os.Hostname()
	var b strings.Builder
	for _, c := range host {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteRune(c)
		}
		if b.Len() >= 40 {
			break
		}
	}
	if b.Len() == 0 {
		b.WriteString("signald")
	}
	r := make([]byte, 3)
	_, _ = rand.Read(r)
	return b.String() + "-" + hex.EncodeToString(r)
}

// health is the body of /healthz.
type health struct {
	Status    string `json:"status"` // ok, degraded, unavailable
	Backplane string `json:"backplane"`
	Node      string `json:"node,omitempty"`
	Error     string `json:"error,omitempty"`
	Since     string `json:"since,omitempty"`
}

// serveHealth answers 200 when signald can serve joins, 503 otherwise
// (the backplane is degraded or unavailable), with the reason.
func serveHealth(w http.ResponseWriter, bp *natsbackplane.Backplane) {
	h := health{Status: "ok", Backplane: "memory"}
	code := http.StatusOK
	if bp != nil {
		bh := bp.Health()
		h = health{Status: bh.State.String(), Backplane: "nats", Node: bh.Node, Since: bh.Since.UTC().Format(time.RFC3339)}
		if bh.State != natsbackplane.StateOK {
			code = http.StatusServiceUnavailable
			if bh.Err != nil {
				h.Error = bh.Err.Error()
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(h)
}

// backplaneCollector exports natsbackplane.Stats, per node.
type backplaneCollector struct {
	bp                                                           *natsbackplane.Backplane
	info, up, state, seats, nodes, msgs                          *prometheus.Desc
	conflicts, regErrs, reaped, repaired, restored, outages, tko *prometheus.Desc
	reconnects                                                   *prometheus.Desc
}

func newBackplaneCollector(bp *natsbackplane.Backplane) *backplaneCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("signald_backplane_"+name, help, labels, nil)
	}
	return &backplaneCollector{
		bp:         bp,
		info:       prometheus.NewDesc("signald_node_info", "This node's name in the NATS cluster (value 1).", []string{"node"}, nil),
		up:         d("up", "1 while the backplane is healthy (connected to NATS, registry answering)."),
		state:      d("state", "1 for the backplane's current state.", "state"),
		seats:      d("seats", "Seats this node holds, by state.", "state"),
		nodes:      d("nodes", "signald nodes whose heartbeat this node sees (itself included)."),
		msgs:       d("messages_total", "Seat messages over NATS, by what happened to them.", "event"),
		conflicts:  d("cas_conflicts_total", "Registry writes that lost a compare-and-set race and were retried."),
		regErrs:    d("registry_errors_total", "Registry operations that failed."),
		reaped:     d("reaped_total", "Seats this node removed: their node died or their hold ran out."),
		repaired:   d("repaired_total", "Seats this node put back after the registry lost them."),
		restored:   d("rooms_restored_total", "Rooms this node wrote back whole after the registry lost them."),
		outages:    d("registry_outages_total", "Registry outages this node noticed (no heartbeat landed for TTL/2)."),
		tko:        d("takeovers_total", "Seats resumed on this node from another node."),
		reconnects: d("nats_reconnects_total", "Reconnections to NATS."),
	}
}

func (c *backplaneCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.info, c.up, c.state, c.seats, c.nodes, c.msgs, c.conflicts, c.regErrs, c.reaped, c.repaired, c.restored, c.outages, c.tko, c.reconnects} {
		ch <- d
	}
}

func (c *backplaneCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.bp.Stats()
	g := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	n := func(d *prometheus.Desc, v uint64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	g(c.info, 1, st.Node)
	up := 0.0
	if st.State == natsbackplane.StateOK {
		up = 1
	}
	g(c.up, up)
	for _, s := range []natsbackplane.State{natsbackplane.StateOK, natsbackplane.StateDegraded, natsbackplane.StateUnavailable} {
		v := 0.0
		if st.State == s {
			v = 1
		}
		g(c.state, v, s.String())
	}
	g(c.seats, float64(st.Seats-st.HeldSeats), "attached")
	g(c.seats, float64(st.HeldSeats), "held")
	g(c.nodes, float64(st.Nodes))
	n(c.msgs, st.Published, "published")
	n(c.msgs, st.Received, "received")
	n(c.msgs, st.Dropped, "dropped")
	n(c.conflicts, st.Conflicts)
	n(c.regErrs, st.RegistryErrors)
	n(c.reaped, st.Reaped)
	n(c.repaired, st.Repaired)
	n(c.restored, st.Restored)
	n(c.outages, st.Outages)
	n(c.tko, st.Takeovers)
	n(c.reconnects, st.Reconnects)
}
