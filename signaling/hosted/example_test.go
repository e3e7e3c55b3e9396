package hosted_test

import (
	"fmt"
	"net"
	"strconv"

	"github.com/peerplay/peerplay/signaling/hosted"
)

// A host whose router forwards TCP+UDP 7700 to it tells friends its public
// address; its own game dials LocalURL.
func ExampleListen() {
	srv, err := hosted.Listen(hosted.Config{Addr: "127.0.0.1:0", PublicAddr: "203.0.113.7"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	pub, _ := srv.PublicAddr()
	host, port, _ := net.SplitHostPort(pub)
	fmt.Println("friends dial", host)
	fmt.Println("on the listening port:", port == strconv.Itoa(srv.Port()))
	// Output:
	// friends dial 203.0.113.7
	// on the listening port: true
}
