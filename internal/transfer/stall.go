package transfer

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Defaults of Job.MinRate and Job.RateWindow: a throttled Gmail still
// sends more.
const (
	DefaultMinRate    = 2 << 10
	DefaultRateWindow = 5 * time.Minute
)

// StallError ends an attempt whose source delivered less than the floor:
// Bytes in Window of waiting for it, under MinRate bytes a second. It is
// retried later, with back-off, like a dropped connection.
type StallError struct {
	Bytes   int64
	Window  time.Duration
	MinRate int64
}

func (e *StallError) Error() string {
	return fmt.Sprintf("the source sent %d bytes in %s of waiting for it, under the floor of %d bytes a second: connection cut",
		e.Bytes, e.Window.Round(time.Second), e.MinRate)
}

// ErrTimeBudget ends a mailbox whose copy went past Job.Deadline, its time
// budget for the run: a source that slow would hold a slot for ever.
var ErrTimeBudget = errors.New("the mailbox used up its time budget for this run")

// meter watches the rate at which the source delivers while the engine
// waits for it (a FETCH in flight, not the engine waiting for the
// destination), and cuts the source when a window of such waiting brought
// less than the floor.
type meter struct {
	minRate int64
	window  time.Duration

	mu      sync.Mutex
	cut     func() // cuts the current source connection
	busy    int    // source commands being waited for
	since   time.Time
	waited  time.Duration // waiting in this window, busy periods closed
	bytes   int64         // delivered in this window
	stalled *StallError
}

func newMeter(minRate int64, window time.Duration) *meter {
	return &meter{minRate: minRate, window: window}
}

// attach starts measuring a new source connection.
func (m *meter) attach(cut func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cut, m.busy, m.waited, m.bytes, m.stalled = cut, 0, 0, 0, nil
}

// wait marks the engine as waiting for the source; the returned function
// ends the wait.
func (m *meter) wait() (done func()) {
	m.mu.Lock()
	if m.busy == 0 {
		m.since = time.Now()
	}
	m.busy++
	m.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.busy--
			if m.busy == 0 {
				m.waited += time.Since(m.since)
			}
		})
	}
}

func (m *meter) add(n int64) {
	m.mu.Lock()
	m.bytes += n
	m.mu.Unlock()
}

// check ends a window once it holds a window's worth of waiting, and cuts
// the source when the window brought less than the floor.
func (m *meter) check(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	waited := m.waited
	if m.busy > 0 {
		waited += now.Sub(m.since)
	}
	if waited < m.window || m.stalled != nil {
		return
	}
	if floor := m.minRate * int64(waited/time.Second); m.bytes < floor {
		m.stalled = &StallError{Bytes: m.bytes, Window: waited, MinRate: m.minRate}
		if m.cut != nil {
			m.cut()
		}
		return
	}
	m.waited, m.bytes = 0, 0
	if m.busy > 0 {
		m.since = now
	}
}

// err is the StallError of the current connection, or nil.
func (m *meter) err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stalled == nil {
		return nil
	}
	return m.stalled
}

// run checks every tenth of a window until stop is closed.
func (m *meter) run(stop <-chan struct{}) {
	t := time.NewTicker(max(m.window/10, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			m.check(now)
		}
	}
}

// counted counts what is read through it.
type counted struct {
	r io.Reader
	m *meter
}

func (c counted) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.m.add(int64(n))
	return n, err
}
