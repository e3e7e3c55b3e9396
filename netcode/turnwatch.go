//go:build !js

package netcode

import (
	"errors"
	"net"
	"strconv"
	"strings"

	"github.com/pion/logging"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/internal/safetext"
)

// turnWatch is the LoggerFactory of one PeerConnection: it hands every
// scope's logger through to inner, and watches the ICE agent's warnings
// for a failed TURN allocation, which pion reports nowhere else (the ICE
// agent only logs it and gathers no relay candidate).
type turnWatch struct {
	inner  logging.LoggerFactory
	report func(*TURNError)
}

func (w turnWatch) NewLogger(scope string) logging.LeveledLogger {
	l := w.inner.NewLogger(scope)
	if scope != "ice" {
		return l
	}
	return turnWatchLogger{LeveledLogger: l, report: w.report}
}

type turnWatchLogger struct {
	logging.LeveledLogger
	report func(*TURNError)
}

func (l turnWatchLogger) Warnf(format string, args ...any) {
	l.check(format, args)
	l.LeveledLogger.Warnf(format, args...)
}

func (l turnWatchLogger) Errorf(format string, args ...any) {
	l.check(format, args)
	l.LeveledLogger.Errorf(format, args...)
}

func (l turnWatchLogger) check(format string, args []any) {
	if e := turnFailure(format, args); e != nil {
		l.report(e)
	}
}

// turnFailure recognises pion/ice's log call for a failed TURN allocation
// and returns what it says, or nil. pion/ice v4 (gather.go,
// gatherCandidatesRelay) logs
//
//	"failed to allocate on TURN client %s %s", turnServerAddr, err
//
// where err is a *stun.TurnError (the server's error response: 401 when
// the credentials are missing, wrong or expired) or a transport error
// (no answer). The call is matched by its format string or, should pion
// reword it, by an argument that is a TURN Allocate error response; the
// tests (TestTURNFailure, TestTURNExpired*) pin both against the pion in
// go.mod.
func turnFailure(format string, args []any) *TURNError {
	var e *TURNError
	if strings.Contains(strings.ToLower(format), "allocate on turn") {
		e = &TURNError{}
		if len(args) > 0 {
			if s, ok := args[0].(string); ok {
				e.Server = s
			}
		}
	}
	for _, a := range args {
		err, ok := a.(error)
		if !ok {
			continue
		}
		if te, ok := asTurnError(err); ok && te.StunMessageType.Method == stun.MethodAllocate {
			if e == nil {
				e = &TURNError{}
			}
			e.Code = int(te.ErrorCodeAttr.Code)
			// The server's words: cleaned and bounded before they reach
			// an error message.
			e.Reason = safetext.Name(string(te.ErrorCodeAttr.Reason), 64)
			if e.Reason == "" {
				e.Reason = standardReason(te.ErrorCodeAttr.Code)
			}
		}
		if e != nil && e.Err == nil {
			e.Err = err
		}
	}
	return e
}

// asTurnError finds a stun.TurnError (pion returns a pointer; a value is
// accepted too) in err's chain.
func asTurnError(err error) (stun.TurnError, bool) {
	var p *stun.TurnError
	if errors.As(err, &p) && p != nil {
		return *p, true
	}
	var v stun.TurnError
	if errors.As(err, &v) {
		return v, true
	}
	return stun.TurnError{}, false
}

// turnURL returns the ICE server URL that pion dialled as server
// (host:port, the host resolved for UDP): the URL with that exact
// address, else the only TURN URL with that port, else "".
func turnURL(server string, servers []webrtc.ICEServer) string {
	_, port, err := net.SplitHostPort(server)
	if err != nil {
		return ""
	}
	var samePort []string
	for _, s := range servers {
		for _, raw := range s.URLs {
			u, err := stun.ParseURI(raw)
			if err != nil || u.Scheme != stun.SchemeTypeTURN && u.Scheme != stun.SchemeTypeTURNS {
				continue
			}
			if net.JoinHostPort(u.Host, strconv.Itoa(u.Port)) == server {
				return raw
			}
			if strconv.Itoa(u.Port) == port {
				samePort = append(samePort, raw)
			}
		}
	}
	if len(samePort) == 1 {
		return samePort[0]
	}
	return ""
}

// standardReason is the RFC's reason phrase for code (pion's TURN server
// sends none), or "".
func standardReason(code stun.ErrorCode) string {
	var m stun.Message
	var a stun.ErrorCodeAttribute
	if code.AddTo(&m) != nil || a.GetFrom(&m) != nil {
		return ""
	}
	return string(a.Reason)
}
