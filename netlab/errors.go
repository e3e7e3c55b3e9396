package netlab

import "errors"

var (
	// ErrNeedRoot is reported (through testing.TB.Fatal) when the process
	// may not create network namespaces. The lab never skips: a run without
	// root fails and says so.
	ErrNeedRoot = errors.New("netlab: needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces, veth pairs, bridges and iptables NAT rules; run sudo go test -tags netlab ./netlab/... in the module root")
	// ErrMissingTool is reported when ip, iptables or sysctl is not installed.
	ErrMissingTool = errors.New("netlab: missing system tool (Debian: apt-get install iproute2 iptables procps)")
)
