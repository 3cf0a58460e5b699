package main

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// lineServer greets, then answers every line it reads with "* OK".
func lineServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = c.Write([]byte("* OK hello\r\n"))
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					_, _ = c.Write([]byte("* OK " + line))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestTurnProxyCountsRoundTrips: commands sent together after the
// server spoke are one round trip; each wait for an answer starts another.
func TestTurnProxyCountsRoundTrips(t *testing.T) {
	t.Parallel()
	p, err := newTurnProxy(lineServer(t))
	require.NoError(t, err)
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)
	readLine := func() string {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		return line
	}
	require.Equal(t, "* OK hello\r\n", readLine())

	_, err = c.Write([]byte("a1 NOOP\r\na2 NOOP\r\n")) // pipelined: one turn
	require.NoError(t, err)
	require.Equal(t, "* OK a1 NOOP\r\n", readLine())
	require.Equal(t, "* OK a2 NOOP\r\n", readLine())
	require.Equal(t, int64(1), p.Turns())

	for _, cmd := range []string{"a3 NOOP", "a4 NOOP"} { // one at a time: a turn each
		_, err = c.Write([]byte(cmd + "\r\n"))
		require.NoError(t, err)
		require.Equal(t, "* OK "+cmd+"\r\n", readLine())
	}
	require.Equal(t, int64(3), p.Turns())
}

// TestDelayProxyHoldsEachConnection: nothing reaches the client before
// the delay, then the conversation goes through unchanged.
func TestDelayProxyHoldsEachConnection(t *testing.T) {
	t.Parallel()
	addr, stop, err := delayProxy(lineServer(t), 200*time.Millisecond)
	require.NoError(t, err)
	defer stop()
	start := time.Now()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)
	greeting, err := r.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "* OK hello\r\n", greeting)
	require.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond, "the greeting waited for the delay")
	_, err = c.Write([]byte("a1 LOGIN x y\r\n"))
	require.NoError(t, err)
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(line, "* OK a1 LOGIN"), line)
}
