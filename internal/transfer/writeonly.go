package transfer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// MemoryMessage is a message held in memory, for WriteOnly.
type MemoryMessage struct {
	Raw   []byte
	Flags []string
	Date  time.Time
}

// MemoryFolder is a destination folder, which must exist, and the messages
// WriteOnly appends to it.
type MemoryFolder struct {
	Name     string
	Messages []MemoryMessage
}

// WriteOnly appends every message of folders, folder after folder, to e's
// mailbox the way a copy appends at its best: on pipes pipelined appenders
// (at least one) sharing each folder's messages, as a copy with DestConns
// pipes+1 shares them, LITERAL+ and MULTIAPPEND as the destination offers
// them, with every message ready at once (a source that is never late). It
// is our server's write-only rate for trasloco-bench's "dst-write" row,
// an upper bound for any copy into it. It returns the messages the
// destination confirmed, and an error when it refused any or the
// connection failed. The destination must take LITERAL+ (the pipelined
// appender's condition); a password login only, no token; folder names go
// in modified UTF-7, as a copy sends them to a server without IMAP4rev2.
func WriteOnly(ctx context.Context, e Endpoint, to Timeouts, pipes int, folders []MemoryFolder) (int, error) {
	to = to.withDefaults()
	var pcs []*pipeConn
	defer func() {
		for _, pc := range pcs {
			pc.Close()
		}
	}()
	for range max(pipes, 1) {
		pc, err := dialPipe(ctx, e, to, false)
		if err != nil {
			return 0, fmt.Errorf("write only: open an appender: %w", err)
		}
		pcs = append(pcs, pc)
	}
	var (
		mu      sync.Mutex
		done    int
		refused int
		first   error
	)
	for _, f := range folders {
		items := make(chan item, len(f.Messages))
		for i, m := range f.Messages {
			items <- item{
				m:    meta{uid: uint32(i + 1), flags: m.Flags, date: m.Date, size: int64(len(m.Raw))},
				body: &body{tail: m.Raw, size: int64(len(m.Raw))},
			}
		}
		close(items)
		var wg sync.WaitGroup
		errs := make([]error, len(pcs))
		for i, pc := range pcs {
			wg.Go(func() {
				errs[i] = pipeAppender{pc}.stream(ctx, f.Name, false, items, func(item) {}, func(_ meta, _ uint32, err error) {
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						refused++
						if first == nil {
							first = err
						}
						return
					}
					done++
				})
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return done, fmt.Errorf("write only: append to %s: %w", f.Name, err)
		}
	}
	if refused > 0 {
		return done, fmt.Errorf("write only: %d messages refused, the first: %w", refused, first)
	}
	return done, nil
}
