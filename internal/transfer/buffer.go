package transfer

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"

	"golang.org/x/sync/semaphore"
)

// ProcessInFlightBytes bounds the message bytes held in memory by every copy
// a process runs at once: a `trasloco worker` runs many mailboxes, each a
// Run, and their in-flight bytes (Job.InFlightBytes each) come out of this
// one budget too, so that the process's memory does not grow with the
// number of copies. A message larger than it is still copied, alone.
const ProcessInFlightBytes = 32 << 20

// processBudget is the budget of ProcessInFlightBytes shared by every Run.
var processBudget = semaphore.NewWeighted(ProcessInFlightBytes)

// budget is one copy's share of memory for message bytes between the
// source and the destination: its own limit, and the process's.
type budget struct {
	own *semaphore.Weighted
	max int64 // the copy's own limit
}

func newBudget(n int64) *budget {
	return &budget{own: semaphore.NewWeighted(n), max: n}
}

// acquire takes the budget of a message of size bytes and returns what it
// holds (less than size for a message over a limit: such a message waits
// until it has the whole budget, then goes alone).
func (b *budget) acquire(ctx context.Context, size int64) (int64, error) {
	held := min(size, b.max)
	if err := b.own.Acquire(ctx, held); err != nil {
		return 0, err
	}
	if err := processBudget.Acquire(ctx, min(held, ProcessInFlightBytes)); err != nil {
		b.own.Release(held)
		return 0, err
	}
	return held, nil
}

func (b *budget) release(held int64) {
	if held == 0 {
		return
	}
	processBudget.Release(min(held, ProcessInFlightBytes))
	b.own.Release(held)
}

// chunkSize is the unit in which message bodies are held: whole chunks are
// recycled from one message to the next, so that copying does not produce
// garbage in proportion to the bytes copied (the garbage collector lets the
// heap grow to twice what is live before it collects: recycled chunks keep
// the process near what is actually in flight).
const chunkSize = 16 << 10

var chunkPool = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// body is a message's bytes: whole recycled chunks, then an exact tail.
type body struct {
	chunks []*[chunkSize]byte
	tail   []byte
	size   int64
}

// readBody reads size bytes of r.
func readBody(r io.Reader, size int64) (*body, error) {
	b := &body{size: size}
	n := size / chunkSize
	if n > 0 {
		b.chunks = make([]*[chunkSize]byte, 0, n)
	}
	for range n {
		c := chunkPool.Get().(*[chunkSize]byte)
		b.chunks = append(b.chunks, c)
		if _, err := io.ReadFull(r, c[:]); err != nil {
			b.free()
			return nil, err
		}
	}
	if rest := size % chunkSize; rest > 0 {
		b.tail = make([]byte, rest)
		if _, err := io.ReadFull(r, b.tail); err != nil {
			b.free()
			return nil, err
		}
	}
	return b, nil
}

// bodyOf holds data (tests).
func bodyOf(data []byte) *body {
	b, _ := readBody(bytes.NewReader(data), int64(len(data)))
	return b
}

// Len is the body's size.
func (b *body) Len() int64 { return b.size }

// WriteTo writes the body to w.
func (b *body) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, c := range b.chunks {
		m, err := w.Write(c[:])
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	if len(b.tail) > 0 {
		m, err := w.Write(b.tail)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// buffers is the body's bytes as they are held, for a vectored write: no
// copy.
func (b *body) buffers() net.Buffers {
	bufs := make(net.Buffers, 0, len(b.chunks)+1)
	for _, c := range b.chunks {
		bufs = append(bufs, c[:])
	}
	if len(b.tail) > 0 {
		bufs = append(bufs, b.tail)
	}
	return bufs
}

// free recycles the chunks; the body must not be used afterwards.
func (b *body) free() {
	if b == nil {
		return
	}
	for _, c := range b.chunks {
		chunkPool.Put(c)
	}
	b.chunks, b.tail = nil, nil
}
