package testenv

import (
	"net"
	"sync/atomic"
	"testing"
)

// Proxy listens on a loopback port and, for every connection it accepts,
// dials target and calls handle with the client's and the target's
// connections and the connection's number (1 for the first); both are
// closed when handle returns. Tests give handle the fault they need (cut,
// drop, slow down); ProxyPipe is the faithful case. The listener closes
// with the test. It returns the proxy's address.
func Proxy(t testing.TB, target string, handle func(client, upstream net.Conn, n int)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := int(conns.Add(1))
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				handle(c, up, n)
			}()
		}
	}()
	return ln.Addr().String()
}

// ProxyPipe copies both ways until either side closes.
func ProxyPipe(client, upstream net.Conn) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 32<<10)
		for {
			n, err := upstream.Read(buf)
			if n > 0 {
				if _, werr := client.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		client.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			if _, werr := upstream.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	upstream.Close()
	<-done
}
