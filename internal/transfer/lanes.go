package transfer

import (
	"context"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"
)

// DefaultLanes is the default of Job.Lanes: folders of one mailbox copied
// at once.
const DefaultLanes = 2

// laneMin is how many messages the folders beside the largest must hold,
// by STATUS, for each lane beyond the first: below it the lane's logins
// (one imap process more on each server) cost more than it saves, and a
// mailbox of one big folder has nothing to share.
const laneMin = 200

// processLanes counts the lanes of every Run of the process: each Run
// holds one, and a Run's extra lanes are taken only while the process has
// fewer lanes than CPUs (at least two). A worker that copies as many
// mailboxes as it has CPUs keeps them busy already, and an extra lane there
// is only an imap process more on each server; one copying alone (the
// last big mailbox of a migration) fills the idle ones.
var processLanes = &laneSlots{}

// laneSlots is a count of lanes under a cap.
type laneSlots struct {
	mu   sync.Mutex
	used int
}

// hold counts a Run's own lane (n 1) or gives back n lanes (n negative).
func (s *laneSlots) hold(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used += n
}

// take takes up to n extra lanes while fewer than most are used, and
// returns how many it took.
func (s *laneSlots) take(n, most int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	got := max(min(n, most-s.used), 0)
	s.used += got
	return got
}

// free reports whether fewer than most lanes are used now.
func (s *laneSlots) free(most int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used < most
}

// laneCap is the most lanes the process has at once.
func laneCap() int { return max(runtime.GOMAXPROCS(0), 2) }

// laneCount is how many lanes are worth opening for folders of these
// sizes (messages by STATUS), at most most.
func laneCount(most int, sizes []int) int {
	total, largest, busy := 0, 0, 0
	for _, n := range sizes {
		total += n
		largest = max(largest, n)
		if n > 0 {
			busy++
		}
	}
	n := 1
	for n < most && n < busy && total-largest >= laneMin*n {
		n++
	}
	return n
}

// copyFolders copies the folders of plans not excluded: one after the
// other, or, when the mailbox is worth it (laneCount), in lanes.
func (r *runner) copyFolders(ctx context.Context, plans []FolderPlan) error {
	var todo, after []FolderPlan
	var sizes []int
	for _, p := range plans {
		switch {
		case p.Excluded != "":
		case p.OnlyUnlabelled:
			// Gmail's All Mail brings what no label has: after every label.
			after = append(after, p)
		default:
			todo = append(todo, p)
			sizes = append(sizes, r.sizes[p.Source])
		}
	}
	n := 1
	if !r.job.DryRun {
		n = laneCount(r.job.Lanes, sizes)
	}
	if n > 1 {
		extra := processLanes.take(n-1, laneCap())
		defer processLanes.hold(-extra)
		n = 1 + extra
	}
	if n <= 1 {
		for _, p := range plans {
			if p.Excluded != "" {
				continue
			}
			if err := r.copyFolderWithRetry(ctx, p); err != nil {
				return err
			}
		}
		return nil
	}
	if err := r.copyInLanes(ctx, todo, n); err != nil {
		return err
	}
	for _, p := range after {
		if err := r.copyFolderWithRetry(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// lane is one of the lanes of copyInLanes: a runner of its own (its
// connections, its ledger, its rate floor) over the Run's counters,
// checkpoints, proof and in-flight budget.
type lane struct {
	r    *runner
	own  bool // its connections are its own, not the Run's
	done []FolderPlan
}

// copyInLanes copies todo in n lanes, each taking the largest folder left:
// the first lane on the Run's connections, each other on a source
// connection and destination connections of its own. A lane whose
// connections cannot be opened (a per-user limit) leaves the folders to
// the others. A folder's retries are its lane's (a dropped connection
// reconnects that lane); anything that ends the mailbox (a throttling
// source, a full destination, the time budget, a panic) stops every lane.
func (r *runner) copyInLanes(ctx context.Context, todo []FolderPlan, n int) error {
	todo = slices.Clone(todo)
	sort.SliceStable(todo, func(i, j int) bool { return r.sizes[todo[i].Source] > r.sizes[todo[j].Source] })
	queue := make(chan FolderPlan, len(todo))
	for _, p := range todo {
		// Each folder's map exists before the lanes start: they only
		// read the outer map.
		if r.copiedNow[p.Source] == nil {
			r.copiedNow[p.Source] = map[uint32]int64{}
		}
		queue <- p
	}
	close(queue)
	r.t.event(slog.LevelInfo, "", "log.copy.lanes", n, len(todo))

	stop := make(chan struct{})
	defer close(stop)
	shared := newBudget(r.job.InFlightBytes)
	lanes := make([]*lane, n)
	for i := range lanes {
		l := &lane{r: &runner{job: r.job, t: r.t.lane(), c: r.c, meter: r.meter,
			dstFolders: maps.Clone(r.dstFolders), dstDelim: r.dstDelim,
			copiedNow: r.copiedNow, proof: r.proof, sizes: r.sizes, budget: shared}}
		if r.labelled != nil {
			l.r.labelled = map[string]int{}
		}
		if i > 0 {
			l.own = true
			l.r.meter = newMeter(r.job.MinRate, r.job.RateWindow)
			go l.r.meter.run(stop)
			l.r.c = &conns{job: &l.r.job, event: quietNotes(r.t.event), meter: l.r.meter}
		}
		lanes[i] = l
	}
	g, gctx := errgroup.WithContext(ctx)
	for i, l := range lanes {
		goSafe(g, func() error {
			if l.own {
				defer l.r.c.closeAll()
				if err := l.r.c.connect(gctx); err != nil {
					if gctx.Err() == nil {
						r.t.event(slog.LevelInfo, "", "log.copy.lane_not_opened", i+1, err)
					}
					return nil
				}
			}
			for p := range queue {
				if err := l.r.copyFolderWithRetry(gctx, p); err != nil {
					return err
				}
				l.done = append(l.done, p)
			}
			return nil
		})
	}
	err := g.Wait()
	// The first lane's connections are the Run's: what it opened under
	// the lanes' context is cut now that the lanes ended.
	r.c.closePipes()
	if r.c.runCtx != ctx {
		r.c.closeAll()
	}
	for _, l := range lanes {
		for name, ok := range l.r.dstFolders {
			if ok {
				r.dstFolders[name] = true
			}
		}
		for k, v := range l.r.labelled {
			r.labelled[k] += v
		}
	}
	for _, l := range lanes {
		for _, p := range l.done {
			if !l.r.dstFolders[p.Dest] {
				delete(r.dstFolders, p.Dest)
			}
		}
	}
	return err
}

// quietNotes is event without the notes on a connection (the server's
// TLS, its capabilities): the Run's first connections logged them.
func quietNotes(event func(level slog.Level, folder, key string, args ...any)) func(slog.Level, string, string, ...any) {
	return func(level slog.Level, folder, key string, args ...any) {
		if key == "log.conn.source_note" || key == "log.conn.dest_note" {
			return
		}
		event(level, folder, key, args...)
	}
}
