package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: natprobe echo|probe|poke|punch [flags]")
		os.Exit(2)
	}
	mode := os.Args[1]
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	listen := fs.String("listen", "", "echo: comma-separated UDP addresses to serve")
	bind := fs.String("bind", "0.0.0.0:0", "local UDP address")
	to := fs.String("to", "", "comma-separated destinations")
	rv := fs.String("rv", "", "punch: rendezvous address (an echo server)")
	name := fs.String("name", "", "punch: own name")
	peer := fs.String("peer", "", "punch: peer name")
	timeout := fs.Duration("timeout", 5*time.Second, "bound on every wait")
	_ = fs.Parse(os.Args[2:])

	var err error
	switch mode {
	case "echo":
		err = echo(split(*listen))
	case "probe":
		err = probe(*bind, split(*to), *timeout)
	case "poke":
		err = poke(*bind, *to, *timeout)
	case "punch":
		err = punch(*bind, *rv, *name, *peer, *timeout)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fmt.Printf("%s: %v\n", mode, err)
		os.Exit(1)
	}
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func echo(addrs []string) error {
	if len(addrs) == 0 {
		return errors.New("no -listen address")
	}
	conns := make([]*net.UDPConn, len(addrs))
	for i, a := range addrs {
		ua, err := net.ResolveUDPAddr("udp4", a)
		if err != nil {
			return err
		}
		if conns[i], err = net.ListenUDP("udp4", ua); err != nil {
			return err
		}
	}
	fmt.Println("ready")
	var (
		mu  sync.Mutex
		reg = map[string]*net.UDPAddr{}
	)
	var wg sync.WaitGroup
	for i, c := range conns {
		other := conns[(i+1)%len(conns)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1500)
			for {
				n, from, err := c.ReadFromUDP(buf)
				if err != nil {
					return
				}
				f := strings.Fields(string(buf[:n]))
				if len(f) == 0 {
					continue
				}
				switch f[0] {
				case "who":
					_, _ = c.WriteToUDP([]byte("from "+from.String()), from)
				case "poke":
					_, _ = c.WriteToUDP([]byte("direct"), from)
					_, _ = other.WriteToUDP([]byte("other"), from)
				case "reg":
					if len(f) != 3 {
						continue
					}
					mu.Lock()
					reg[f[1]] = from
					p := reg[f[2]]
					mu.Unlock()
					reply := "wait"
					if p != nil {
						reply = "peer " + p.String()
					}
					_, _ = c.WriteToUDP([]byte(reply), from)
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

func listen(bind string) (*net.UDPConn, error) {
	ua, err := net.ResolveUDPAddr("udp4", bind)
	if err != nil {
		return nil, err
	}
	return net.ListenUDP("udp4", ua)
}

// ask sends msg to dst every 200 ms until an answer from dst arrives.
func ask(c *net.UDPConn, dst *net.UDPAddr, msg string, deadline time.Time) (string, error) {
	buf := make([]byte, 1500)
	for time.Now().Before(deadline) {
		if _, err := c.WriteToUDP([]byte(msg), dst); err != nil {
			return "", err
		}
		_ = c.SetReadDeadline(minTime(deadline, time.Now().Add(200*time.Millisecond)))
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				break // resend
			}
			if from.String() == dst.String() {
				return string(buf[:n]), nil
			}
		}
	}
	return "", fmt.Errorf("no answer from %s", dst)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func probe(bind string, to []string, timeout time.Duration) error {
	c, err := listen(bind)
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Println("ready")
	for _, d := range to {
		dst, err := net.ResolveUDPAddr("udp4", d)
		if err != nil {
			return err
		}
		ans, err := ask(c, dst, "who", time.Now().Add(timeout))
		if err != nil {
			return err
		}
		fmt.Printf("mapped %s %s\n", dst, strings.TrimPrefix(ans, "from "))
	}
	return nil
}

func poke(bind, to string, timeout time.Duration) error {
	c, err := listen(bind)
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Println("ready")
	dst, err := net.ResolveUDPAddr("udp4", to)
	if err != nil {
		return err
	}
	if _, err := c.WriteToUDP([]byte("poke"), dst); err != nil {
		return err
	}
	// Both answers are sent at once; a second is plenty on a veth.
	wait := min(time.Second, timeout)
	_ = c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			fmt.Println("done")
			return nil
		}
		fmt.Printf("recv %s %s\n", buf[:n], from)
	}
}

func punch(bind, rv, name, peer string, timeout time.Duration) error {
	c, err := listen(bind)
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Println("ready")
	deadline := time.Now().Add(timeout)
	rvAddr, err := net.ResolveUDPAddr("udp4", rv)
	if err != nil {
		return err
	}
	var peerAddr *net.UDPAddr
	for peerAddr == nil {
		ans, err := ask(c, rvAddr, "reg "+name+" "+peer, deadline)
		if err != nil {
			return err
		}
		if p, ok := strings.CutPrefix(ans, "peer "); ok {
			if peerAddr, err = net.ResolveUDPAddr("udp4", p); err != nil {
				return err
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Printf("peer %s\n", peerAddr)
	// Keep registering too, so the peer can learn our address if it was
	// second; then send to the peer until it answers.
	buf := make([]byte, 1500)
	got := false
	var gotAt time.Time
	for time.Now().Before(deadline) {
		_, _ = c.WriteToUDP([]byte("reg "+name+" "+peer), rvAddr)
		_, _ = c.WriteToUDP([]byte("hello "+name), peerAddr)
		_ = c.SetReadDeadline(minTime(deadline, time.Now().Add(100*time.Millisecond)))
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				break
			}
			if strings.HasPrefix(string(buf[:n]), "hello ") && !got {
				got, gotAt = true, time.Now()
				fmt.Printf("punched %s\n", from)
			}
		}
		// Linger a little so the peer hears us too.
		if got && time.Since(gotAt) > 500*time.Millisecond {
			return nil
		}
	}
	if got {
		return nil
	}
	return errors.New("timeout")
}
