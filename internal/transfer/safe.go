package transfer

import (
	"fmt"
	"runtime/debug"
	"time"

	"golang.org/x/sync/errgroup"
)

// PanicError is a panic recovered in a goroutine of the engine, turned into
// an error of the mailbox: Error says only that it happened (it reaches the
// mailbox's log); Stack is for the operator's log.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("internal error: %v", e.Value) }

// recovered is the *PanicError of v, a value recover returned, or nil.
func recovered(v any) error {
	if v == nil {
		return nil
	}
	return &PanicError{Value: v, Stack: debug.Stack()}
}

// within runs f in a goroutine of its own and waits for it at most d: it
// returns f's error, a *PanicError when f panicked, or an errWatchdog when
// f did not return in time, in which case f is left to finish on its own.
// It is for the goodbyes of a connection (LOGOUT, Close), which must never
// hold a copy, even when the library under them waits for something that
// never comes.
func within(what string, d time.Duration, f func() error) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if err := recovered(recover()); err != nil {
				done <- err
			}
		}()
		done <- f()
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return errWatchdog{what: what, d: d}
	}
}

// goSafe runs f in g, a panic of f being its error (a *PanicError): no
// goroutine of the engine takes the process down.
func goSafe(g *errgroup.Group, f func() error) {
	g.Go(func() (err error) {
		defer func() {
			if perr := recovered(recover()); perr != nil {
				err = perr
			}
		}()
		return f()
	})
}
