package lobby

import (
	"errors"
	"fmt"
	"unicode/utf8"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/peerplay/peerplay/internal/fbenvelope"
	"github.com/peerplay/peerplay/lobby/internal/lobbyfb"
)

// Wire format: one FlatBuffers Envelope per transport message, file
// identifier "PPLB", Envelope.version 2 (version 2 changed the start
// round: Seal, Launch with nonces, no Confirm). The schema, the meaning of every
// field and the compatibility rules are in internal/lobbyfb (lobby.fbs and
// README.md).
const (
	wireVersion = 2
	fileID      = "PPLB"
	hashSize    = 32
	maxWireName = 4 * MaxNameRunes // bytes: a name is cleaned and cut after decoding
)

// encoder builds lobby messages with one reused Builder. The bytes it
// returns alias the builder and are valid until the next call; Conn.Send
// copies them.
type encoder struct{ b *flatbuffers.Builder }

func (e *encoder) encode(typ lobbyfb.Body, v any) []byte {
	if e.b == nil {
		e.b = flatbuffers.NewBuilder(256)
	}
	e.b.Reset()
	env := lobbyfb.EnvelopeT{Version: wireVersion, Body: &lobbyfb.BodyT{Type: typ, Value: v}}
	e.b.FinishWithFileIdentifier(env.Pack(e.b), []byte(fileID))
	return e.b.FinishedBytes()
}

// wireFormat is the envelope every lobby message travels in.
var wireFormat = fbenvelope.Format{ID: fileID, Version: wireVersion, MaxSize: MaxMessageSize,
	Malformed: ErrMalformed, BadVersion: ErrVersion}

// decode parses one lobby message. It is total: any input returns a
// message or an error wrapping ErrMalformed or ErrVersion, never a panic,
// and it allocates in proportion to len(data) (every count is checked
// against the limits before anything is unpacked).
func decode(data []byte) (*lobbyfb.BodyT, error) {
	body, err := fbenvelope.Decode(wireFormat, data, decodeBody)
	if err != nil {
		return nil, err
	}
	if err := validate(body); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, body.Type, err)
	}
	return body, nil
}

// decodeBody unpacks the body of an envelope that fbenvelope checked; it
// runs under fbenvelope's recover, which wraps its errors in ErrMalformed.
func decodeBody(env *lobbyfb.Envelope) (*lobbyfb.BodyT, error) {
	var tab flatbuffers.Table
	if !env.Body(&tab) {
		return nil, errors.New("no body")
	}
	typ := env.BodyType()
	if err := checkCounts(typ, tab); err != nil {
		return nil, fmt.Errorf("%s: %v", typ, err)
	}
	body := typ.UnPack(tab)
	if body == nil || body.Value == nil {
		return nil, fmt.Errorf("body type %d", typ)
	}
	return body, nil
}

// checkCounts bounds every vector before UnPack allocates for it.
func checkCounts(typ lobbyfb.Body, tab flatbuffers.Table) error {
	switch typ {
	case lobbyfb.BodySnapshot:
		var s lobbyfb.Snapshot
		s.Init(tab.Bytes, tab.Pos)
		if n := s.MembersLength(); n > MaxMembers {
			return fmt.Errorf("%d members", n)
		}
		if n := s.BannedLength(); n > MaxMembers {
			return fmt.Errorf("%d banned", n)
		}
	case lobbyfb.BodyPropose:
		var p lobbyfb.Propose
		p.Init(tab.Bytes, tab.Pos)
		if n := p.SeatsLength(); n > MaxMembers {
			return fmt.Errorf("%d seats", n)
		}
		if n := p.TeamsLength(); n > MaxMembers {
			return fmt.Errorf("%d teams", n)
		}
	case lobbyfb.BodyRunning:
		var r lobbyfb.Running
		r.Init(tab.Bytes, tab.Pos)
		if n := r.SeatsLength(); n > MaxMembers {
			return fmt.Errorf("%d seats", n)
		}
		if n := r.TeamsLength(); n > MaxMembers {
			return fmt.Errorf("%d teams", n)
		}
		if n := r.WitnessesLength(); n > MaxMembers {
			return fmt.Errorf("%d witnesses", n)
		}
	}
	return nil
}

// validate checks the values of a decoded message against the protocol's
// limits, so that the state machine only sees well-shaped messages.
func validate(b *lobbyfb.BodyT) error {
	switch v := b.Value.(type) {
	case *lobbyfb.HelloT:
		return checkProfile(v.Name, v.Seat)
	case *lobbyfb.SnapshotT:
		if v.Phase < lobbyfb.PhaseOpen || v.Phase > lobbyfb.PhaseStarted {
			return fmt.Errorf("phase %d", v.Phase)
		}
		if v.MaxPlayers < 1 || v.MaxPlayers > MaxMembers {
			return fmt.Errorf("max players %d", v.MaxPlayers)
		}
		if len(v.Settings) > MaxSettingsSize {
			return fmt.Errorf("settings %d bytes", len(v.Settings))
		}
		if v.OpenSeats > MaxMembers-1 {
			return fmt.Errorf("open seats %d", v.OpenSeats)
		}
		if len(v.Members) == 0 {
			return fmt.Errorf("no members")
		}
		ids := make([]string, 0, len(v.Members))
		for _, m := range v.Members {
			if m == nil {
				return fmt.Errorf("nil member")
			}
			if err := checkProfile(m.Name, m.Seat); err != nil {
				return err
			}
			if len(m.Requested) > maxWireName {
				return fmt.Errorf("requested name %d bytes", len(m.Requested))
			}
			ids = append(ids, m.Id)
		}
		if err := checkIDs(ids, true); err != nil {
			return err
		}
		return checkIDs(v.Banned, true)
	case *lobbyfb.RejectT:
		if v.Reason < lobbyfb.RejectReasonFull || v.Reason > lobbyfb.RejectReasonBadProfile {
			return fmt.Errorf("reason %d", v.Reason)
		}
		if v.Host != "" {
			return checkIDs([]string{v.Host}, false)
		}
	case *lobbyfb.LeaveT:
	case *lobbyfb.ProposeT:
		if len(v.Seats) == 0 || len(v.Teams) != len(v.Seats) {
			return fmt.Errorf("%d seats, %d teams", len(v.Seats), len(v.Teams))
		}
		if v.MaxPlayers < 1 || v.MaxPlayers > MaxMembers {
			return fmt.Errorf("max players %d", v.MaxPlayers)
		}
		if len(v.Settings) > MaxSettingsSize {
			return fmt.Errorf("settings %d bytes", len(v.Settings))
		}
		if len(v.Seats)+int(v.OpenSeats) > MaxMembers {
			return fmt.Errorf("%d seats and %d open", len(v.Seats), v.OpenSeats)
		}
		return checkIDs(v.Seats, true)
	case *lobbyfb.RunningT:
		return validateRunning(v)
	case *lobbyfb.CommitT:
		if len(v.Draft) != hashSize || len(v.Commitment) != hashSize {
			return fmt.Errorf("hash sizes %d, %d", len(v.Draft), len(v.Commitment))
		}
	case *lobbyfb.RevealT:
		if len(v.Nonce) != hashSize {
			return fmt.Errorf("nonce size %d", len(v.Nonce))
		}
	case *lobbyfb.ConfirmT:
		if len(v.Match) != hashSize {
			return fmt.Errorf("hash size %d", len(v.Match))
		}
	case *lobbyfb.LaunchT:
		if len(v.Match) != hashSize {
			return fmt.Errorf("hash size %d", len(v.Match))
		}
		if n := len(v.Nonces); n == 0 || n%hashSize != 0 || n > hashSize*MaxMembers {
			return fmt.Errorf("nonces %d bytes", n)
		}
	case *lobbyfb.SealT:
		if len(v.Seal) != hashSize {
			return fmt.Errorf("seal size %d", len(v.Seal))
		}
	case *lobbyfb.AbortT:
		if v.Reason < lobbyfb.AbortReasonLeft || v.Reason > lobbyfb.AbortReasonExcluded {
			return fmt.Errorf("reason %d", v.Reason)
		}
		if v.Peer != "" {
			return checkIDs([]string{v.Peer}, false)
		}
	default:
		return fmt.Errorf("unexpected body %T", v)
	}
	return nil
}

func checkProfile(name string, seat int32) error {
	if len(name) > maxWireName {
		return fmt.Errorf("name %d bytes", len(name))
	}
	if seat < 0 || seat > MaxMembers {
		return fmt.Errorf("seat %d", seat)
	}
	return nil
}

// checkIDs checks PeerIDs: non-empty, at most MaxPeerIDSize bytes, valid
// UTF-8, and (if unique) no repeats.
func checkIDs(ids []string, unique bool) error {
	for i, id := range ids {
		if id == "" || len(id) > MaxPeerIDSize || !utf8.ValidString(id) {
			return fmt.Errorf("bad peer ID %q", id)
		}
		if unique {
			for _, prev := range ids[:i] {
				if prev == id {
					return fmt.Errorf("duplicate peer ID %q", id)
				}
			}
		}
	}
	return nil
}
