package natsbackplane

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/peerplay/peerplay/signaling"
)

// registry is the room registry: the JetStream KV bucket, the watch that
// keeps this node's view of it (view.go), compare-and-set updates of
// room records, and restoring rooms the registry lost (restore.go).
// Its lock comes first in the lock order: with it held, applying a
// record reconciles the seats of delivery (delivery.mu) and reads the
// outage window (liveness.mu).
type registry struct {
	b *Backplane

	mu          sync.Mutex // guards all following fields
	kv          jetstream.KeyValue
	stream      jetstream.Stream // the bucket's stream (for lastOpOf)
	watcher     jetstream.KeyWatcher
	watchCancel context.CancelFunc
	readySince  time.Time // the view is complete since; zero while (re)watching
	rooms       map[string]*cached
	nodes       map[string]time.Time // node heartbeats seen (local time)
	synced      map[string]bool      // keys seen by the current watcher before its initial marker
	beatPut     time.Time            // a heartbeat put that the watch has not shown yet
	selfSeen    time.Time            // when the watch last showed this node's heartbeat
}

func (r *registry) init(b *Backplane) {
	r.b = b
	r.rooms = make(map[string]*cached)
	r.nodes = make(map[string]time.Time)
}

// kvNow returns the KV bucket if the backplane can use it now.
func (r *registry) kvNow() (jetstream.KeyValue, error) {
	if r.b.closed.Load() {
		return nil, signaling.ErrShutdown
	}
	r.mu.Lock()
	kv := r.kv
	r.mu.Unlock()
	if kv == nil || !r.b.nc.IsConnected() {
		err := r.b.health.get().Err
		if err == nil {
			err = errors.New("not ready")
		}
		return nil, unavailable("%v", err)
	}
	return kv, nil
}

// kvOrNil returns the bucket once found, whatever the connection.
func (r *registry) kvOrNil() jetstream.KeyValue {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.kv
}

// setup finds or creates the bucket and starts watching it; it returns
// once the watch delivered the registry's current values.
func (r *registry) setup(ctx context.Context) error {
	r.mu.Lock()
	kv, stream := r.kv, r.stream
	r.mu.Unlock()
	if kv == nil || stream == nil {
		var err error
		if kv, stream, err = r.findBucket(ctx); err != nil {
			return err
		}
	}
	// The watcher lives as long as its context (nats.go unsubscribes when
	// it ends), so it gets its own, cancelled when it is replaced; a
	// timer bounds its creation instead (generously: right after a NATS
	// server died, JetStream may take seconds to create a consumer, and
	// an attempt given up is work for nothing).
	wctx, wcancel := context.WithCancel(context.Background())
	slow := time.AfterFunc(2*opTimeout, wcancel)
	w, err := kv.WatchAll(wctx)
	if !slow.Stop() || err != nil {
		wcancel()
		if err == nil {
			err = errors.New("timed out")
		}
		if errors.Is(err, nats.ErrStreamNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrBucketNotFound) {
			// NATS lost the bucket: look it up (create it) again.
			r.mu.Lock()
			r.kv, r.stream = nil, nil
			r.mu.Unlock()
		}
		return fmt.Errorf("natsbackplane: watch registry: %w", err)
	}
	r.mu.Lock()
	old, oldCancel := r.watcher, r.watchCancel
	r.kv, r.stream, r.watcher, r.watchCancel, r.readySince = kv, stream, w, wcancel, time.Time{}
	r.synced = make(map[string]bool)
	r.mu.Unlock()
	if old != nil {
		_ = old.Stop()
		oldCancel()
	}
	synced := make(chan struct{})
	r.b.wg.Add(1)
	go r.watch(w, synced)
	// Wait for the registry's current values, so that what follows
	// (repair, health OK) works on a complete view.
	t := time.NewTimer(opTimeout)
	defer t.Stop()
	select {
	case <-synced:
		return nil
	case <-t.C:
		return errors.New("natsbackplane: registry watch did not deliver its initial values")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// findBucket finds the registry's bucket, or creates it, and its stream.
func (r *registry) findBucket(ctx context.Context) (jetstream.KeyValue, jetstream.Stream, error) {
	cfg, js := r.b.cfg, r.b.js
	sctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	kv, err := js.KeyValue(sctx, cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		storage := jetstream.FileStorage
		if cfg.MemoryStorage {
			storage = jetstream.MemoryStorage
		}
		kv, err = js.CreateKeyValue(sctx, jetstream.KeyValueConfig{
			Bucket: cfg.Bucket, Description: "peerplay signaling room registry",
			History: 1, TTL: cfg.TTL, Replicas: cfg.Replicas, Storage: storage,
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(sctx, cfg.Bucket)
		}
		if err == nil {
			r.b.log.Info("natsbackplane: created registry bucket", "bucket", cfg.Bucket, "ttl", cfg.TTL, "replicas", cfg.Replicas)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("natsbackplane: registry bucket %s (is JetStream enabled?): %w", cfg.Bucket, err)
	}
	stream, err := js.Stream(sctx, "KV_"+cfg.Bucket)
	if err != nil {
		return nil, nil, fmt.Errorf("natsbackplane: registry stream: %w", err)
	}
	if st, err := kv.Status(sctx); err == nil && st.TTL() != cfg.TTL {
		r.b.log.Warn("natsbackplane: the bucket's TTL differs from this node's; use the same -nats-ttl on every node",
			"bucket_ttl", st.TTL(), "node_ttl", cfg.TTL)
	}
	return kv, stream, nil
}

// unready forgets the watcher (the connection changed, or it stalled);
// the next setup makes a new one.
func (r *registry) unready() {
	r.mu.Lock()
	w, cancel := r.watcher, r.watchCancel
	r.watcher, r.watchCancel = nil, nil
	r.readySince, r.beatPut, r.selfSeen = time.Time{}, time.Time{}, time.Time{}
	r.mu.Unlock()
	if w != nil {
		_ = w.Stop()
		cancel()
	}
}

// shutdown returns the bucket (nil if never found) and a function that
// stops the watch (Close calls it after handing seats over).
func (r *registry) shutdown() (jetstream.KeyValue, func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	kv, w, cancel := r.kv, r.watcher, r.watchCancel
	r.watcher, r.watchCancel = nil, nil
	return kv, func() {
		if w != nil {
			_ = w.Stop()
			cancel()
		}
	}
}

// notePut records that this node's heartbeat was put at start (before
// the Put returned: the watch may show it first), for watchStalled.
func (r *registry) notePut(start time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.watcher != nil && (r.beatPut.IsZero() || !r.selfSeen.Before(r.beatPut)) {
		r.beatPut = start // the oldest heartbeat the watch has not shown yet
	}
}

// watchStalled reports a watch that did not show this node's own
// heartbeat for a while: its consumer died (e.g. with the NATS server
// that held it) without the connection noticing.
func (r *registry) watchStalled() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	stall := min(r.b.cfg.TTL/2, 3*time.Second)
	return !r.beatPut.IsZero() && r.selfSeen.Before(r.beatPut) && time.Since(r.beatPut) > stall
}

var errNoChange = errors.New("natsbackplane: no change")

// isConflict reports a lost compare-and-set: the key's revision moved.
func isConflict(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
		return true
	}
	return errors.Is(err, jetstream.ErrKeyExists)
}

// update runs fn on room's current record in a compare-and-set loop until
// its write lands. fn gets the record (nil: no such room) and returns the
// new one (nil: delete the room), errNoChange to write nothing, or an
// error to give up; it may run several times. update returns the record
// and revision it wrote (or found, for errNoChange; the revision is 0 for
// a deletion).
func (r *registry) update(ctx context.Context, room string, fn func(cur *record) (*record, error)) (*record, uint64, error) {
	kv, err := r.kvNow()
	if err != nil {
		return nil, 0, err
	}
	return r.updateKV(ctx, kv, room, fn)
}

// updateKV is update on kv, whatever the backplane's state (Close hands
// seats over after it has set closed).
func (r *registry) updateKV(ctx context.Context, kv jetstream.KeyValue, room string, fn func(cur *record) (*record, error)) (*record, uint64, error) {
	st := &r.b.st
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	key := roomKey(room)
	for attempt := 0; ; attempt++ {
		if attempt >= casAttempts {
			st.registryErrors.Add(1)
			return nil, 0, unavailable("registry contention on room %s", room)
		}
		var cur *record
		var rev uint64
		e, err := kv.Get(ctx, key)
		switch {
		case err == nil:
			rev = e.Revision()
			if cur, err = decodeRecord(e.Value()); err != nil {
				st.registryErrors.Add(1)
				return nil, 0, refuse(signaling.CodeInternal, "room %s: %v", room, err)
			}
		case errors.Is(err, jetstream.ErrKeyNotFound):
		default:
			st.registryErrors.Add(1)
			return nil, 0, unavailable("registry: %v", err)
		}
		next, err := fn(cur)
		if errors.Is(err, errNoChange) {
			return cur, rev, nil
		}
		if err != nil {
			return nil, 0, err
		}
		var newRev uint64
		switch {
		case cur == nil && next == nil:
			return nil, 0, nil
		case cur == nil:
			newRev, err = kv.Create(ctx, key, encodeRecord(next))
		case next == nil:
			err = kv.Delete(ctx, key, jetstream.LastRevision(rev))
		default:
			newRev, err = kv.Update(ctx, key, encodeRecord(next), rev)
		}
		if err == nil {
			if next != nil && !r.b.closed.Load() { // closed: Close's hand-over, seats are going
				r.apply(room, next, newRev)
			}
			return next, newRev, nil
		}
		if !isConflict(err) {
			st.registryErrors.Add(1)
			return nil, 0, unavailable("registry: %v", err)
		}
		st.conflicts.Add(1)
		// Back off a little, randomly, so that racing nodes spread out.
		d := time.Duration(rand.Int64N(int64(min(attempt+1, 20))*int64(time.Millisecond)) + 1)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, 0, unavailable("registry: %v", ctx.Err())
		}
	}
}

// lastOp is what the registry's stream holds last for a key.
type lastOp int

const (
	lastNone    lastOp = iota // nothing: never written, expired, or lost
	lastPut                   // a value (a replica behind another: look again)
	lastDeleted               // a delete marker: deliberately removed
)

// lastOpOf reads what the registry's stream holds last for room's key: a
// deletion leaves a marker (for the TTL), an expiry or a lost store
// nothing.
func (r *registry) lastOpOf(ctx context.Context, room string) (lastOp, error) {
	r.mu.Lock()
	st := r.stream
	r.mu.Unlock()
	if st == nil {
		return lastNone, unavailable("natsbackplane: the registry is not set up")
	}
	cctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	m, err := st.GetLastMsgForSubject(cctx, "$KV."+r.b.cfg.Bucket+"."+roomKey(room))
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return lastNone, nil
	case err != nil:
		r.b.st.registryErrors.Add(1)
		return lastNone, unavailable("registry: %v", err)
	}
	switch m.Header.Get("KV-Operation") {
	case "DEL", "PURGE":
		return lastDeleted, nil
	}
	return lastPut, nil
}

// nodeAlive asks the registry whether node's heartbeat is there: false
// only for a definite "not found".
func (r *registry) nodeAlive(ctx context.Context, kv jetstream.KeyValue, node string) (alive bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	_, err = kv.Get(cctx, nodeKey(node))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	case err == nil:
		r.mu.Lock()
		r.nodes[node] = time.Now()
		r.mu.Unlock()
		return true, nil
	}
	return true, err
}
