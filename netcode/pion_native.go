//go:build !js

package netcode

import (
	"errors"
	"io"

	"github.com/pion/datachannel"
	"github.com/pion/webrtc/v4"
)

// newAPI builds the pion API with netcode's settings: detached data
// channels, fast ICE timeouts, a 200 ms SCTP RTO cap and pion's logs in
// the injected logger; then the caller's SettingEngine hook.
func newAPI(cfg *Config) *webrtc.API {
	se := webrtc.SettingEngine{LoggerFactory: pionLogs{cfg.Logger}}
	se.DetachDataChannels()
	se.SetICETimeouts(cfg.ICEDisconnectedTimeout, cfg.ICEFailedTimeout, cfg.ICEKeepalive)
	se.SetSCTPRTOMax(cfg.SCTPRTOMax)
	if cfg.SettingEngine != nil {
		cfg.SettingEngine(&se)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se))
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

// read returns the next message: in buf if it fits, else in a new slice
// of its exact size (pion's SCTP receive window bounds it). The result is
// valid until the next read.
func (p *pipe) read(buf []byte) ([]byte, error) {
	n, _, err := p.rwc.ReadDataChannel(buf)
	if errors.Is(err, io.ErrShortBuffer) && n > len(buf) {
		big := make([]byte, n)
		n, _, err = p.rwc.ReadDataChannel(big)
		return big[:n], err
	}
	return buf[:n], err
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
		ICERTT: secondsToDuration(s.CurrentRoundTripTime),
	}
}
