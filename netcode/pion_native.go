//go:build !js

package netcode

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pion/datachannel"
	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/netcode/transport"
)

const maxSCTPMessage = 64 << 10

// pionAPI makes the PeerConnections of one mesh.
type pionAPI struct {
	se   webrtc.SettingEngine
	cert webrtc.Certificate // the mesh identity's, on every PeerConnection
}

// localIdentity returns the mesh's identity (Config.Identity or a fresh
// one) and its ID.
func localIdentity(cfg *Config) (*Identity, transport.PeerID, error) {
	id := cfg.Identity
	if id == nil {
		var err error
		if id, err = NewIdentity(); err != nil {
			return nil, "", err
		}
	}
	return id, id.ID(), nil
}

// canReadRemoteCert: pion always has the remote DTLS certificate once
// DTLS is up, so a key-derived ID is always checked.
const canReadRemoteCert = true

// newAPI prepares pion's settings: detached data channels, fast ICE
// timeouts, a 200 ms SCTP RTO cap and pion's logs in the injected logger;
// then the caller's SettingEngine hook.
func newAPI(cfg *Config, id *Identity) (*pionAPI, error) {
	tpl, err := certTemplate()
	if err != nil {
		return nil, fmt.Errorf("netcode: certificate: %w", err)
	}
	cert, err := webrtc.NewCertificate(id.key, *tpl)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate: %v", ErrIdentity, err)
	}
	se := webrtc.SettingEngine{LoggerFactory: pionLogs{cfg.Logger}}
	se.DetachDataChannels()
	se.SetICETimeouts(cfg.ICEDisconnectedTimeout, cfg.ICEFailedTimeout, cfg.ICEKeepalive)
	se.SetSCTPRTOMax(cfg.SCTPRTOMax)
	// SNAP (sctp-init in the SDP): the SCTP association starts from the
	// INIT chunks both sides put in their descriptions, without the
	// INIT/COOKIE handshake. That handshake retransmits INIT and COOKIE
	// ECHO at most 8 times, each capped by SCTPRTOMax, so with the 200 ms
	// cap it gave up after about 1.8 s whenever the other side's pion
	// goroutines were slow to start SCTP (a busy machine: 91 failed
	// handshakes in one 8-peer mesh under a CPU hog) and left a
	// "connected" PeerConnection without data channels until
	// ConnectTimeout; pion/sctp v1.12.1 also leaks that association's read
	// loop when a COOKIE ECHO arrives after the failure (ClientContext
	// returns the error without closing it). It also saves a round trip.
	// A peer that sends no sctp-init (browsers today) gets the handshake.
	se.EnableSctpSnap(true)
	// Fast ICE (#20): pion waits 500 ms before it nominates a srflx
	// pair, 1 s for prflx and 2 s for relay, which set connect times
	// through NAT (netlab TestConnectTimes: 1.04 s direct, 2.05 s
	// relayed). Short waits still let a host pair win on a LAN (with none
	// at all, two peers behind one router settled on a hairpin srflx
	// pair) and a direct pair that works within 200 ms win over a relay.
	// A SettingEngine hook may change them. A better pair found later
	// replaces a relayed one through netcode's own probes (ICE restarts
	// while relayed, upgrade.go), not pion's automatic renomination
	// (SetICERenomination): with it, after an ICE restart the controlling
	// side sometimes never saw a later cut (its ICE stayed "connected";
	// TestVNetICERestart failed 3 in 18 under a CPU hog), and it pings
	// every pair twice a second for the life of the link (doc.go, "Why
	// not pion's renomination").
	se.SetHostAcceptanceMinWait(0)
	se.SetSrflxAcceptanceMinWait(100 * time.Millisecond)
	se.SetPrflxAcceptanceMinWait(100 * time.Millisecond)
	se.SetRelayAcceptanceMinWait(200 * time.Millisecond)
	// Advertise (a=max-message-size) that we accept SCTP messages up to
	// 64 KiB: netcode sends at most 16 KiB, and a conforming peer can then
	// not wedge the association with a message larger than SCTP's 1 MiB
	// receive buffer.
	se.SetSCTPMaxMessageSize(maxSCTPMessage)
	if cfg.SettingEngine != nil {
		cfg.SettingEngine(&se)
	}
	if se.LoggerFactory == nil {
		se.LoggerFactory = pionLogs{cfg.Logger}
	}
	return &pionAPI{se: se, cert: *cert}, nil
}

// newPeerConnection makes one PeerConnection. Each gets an API of its own
// (about 30 µs), so that its ICE agent's logger can tell which peer a
// failed TURN allocation belongs to: onTURN receives it, on a pion
// goroutine, and so that its sockets can be primed (punch, ice_punch.go).
// The returned stop function is for the browser build.
func (a *pionAPI) newPeerConnection(conf webrtc.Configuration, onTURN func(*TURNError), punch *punchSet) (*webrtc.PeerConnection, func(), error) {
	se := a.se
	usePunchNet(&se, punch)
	se.LoggerFactory = turnWatch{inner: a.se.LoggerFactory, report: func(e *TURNError) {
		e.URL = turnURL(e.Server, conf.ICEServers)
		onTURN(e)
	}}
	conf.Certificates = []webrtc.Certificate{a.cert}
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(conf)
	return pc, func() {}, err
}

// pipe is one open data channel as netcode uses it: whole messages in,
// whole messages out.
type pipe struct {
	dc  *webrtc.DataChannel
	rwc datachannel.ReadWriteCloser
}

// openPipe detaches dc. It must be called from dc's OnOpen handler.
func openPipe(dc *webrtc.DataChannel) (*pipe, error) {
	rwc, err := dc.Detach()
	if err != nil {
		return nil, err
	}
	return &pipe{dc: dc, rwc: rwc}, nil
}

// maxReadSize bounds a message read from a data channel. We advertise
// 64 KiB and netcode's own messages are at most 16 KiB; SCTP's receive
// buffer (1 MiB) bounds what a non-conforming peer can get through.
const maxReadSize = 4 << 20

var (
	errMessageTooBig = errors.New("netcode: peer sent a message above 4 MiB")
	errPipeOverflow  = errors.New("netcode: receive queue overflow") // browser build only
)

// read returns the next message: in buf if it fits, else in a larger
// buffer (a message too big for buf stays queued in SCTP, so it is read
// again). The result is valid until the next read.
func (p *pipe) read(buf []byte) ([]byte, error) {
	for {
		n, _, err := p.rwc.ReadDataChannel(buf)
		if !errors.Is(err, io.ErrShortBuffer) {
			return buf[:n], err
		}
		if len(buf) >= maxReadSize {
			return nil, errMessageTooBig
		}
		buf = make([]byte, min(2*len(buf), maxReadSize))
	}
}

// write queues one message; it does not block.
func (p *pipe) write(b []byte) error {
	_, err := p.rwc.Write(b)
	return err
}

// buffered is the number of bytes queued in SCTP, not yet acknowledged.
func (p *pipe) buffered() uint64 { return p.dc.BufferedAmount() }

func (p *pipe) close() error { return p.rwc.Close() }

// closePC closes pc and waits for pion's goroutines. It must not run in a
// pion callback.
func closePC(pc *webrtc.PeerConnection) error { return pc.GracefulClose() }

// transportStats returns the selected ICE candidate pair's packet and
// byte counters.
func transportStats(pc *webrtc.PeerConnection) (ts transportCounters) {
	sctp := pc.SCTP()
	if sctp == nil || sctp.Transport() == nil || sctp.Transport().ICETransport() == nil {
		return ts
	}
	s, ok := sctp.Transport().ICETransport().GetSelectedCandidatePairStats()
	if !ok {
		return ts
	}
	return transportCounters{
		PacketsSent: uint64(s.PacketsSent), PacketsReceived: uint64(s.PacketsReceived),
		BytesSent: s.BytesSent, BytesReceived: s.BytesReceived,
		ICERTT: time.Duration(s.CurrentRoundTripTime * float64(time.Second)),
	}
}
