package jobs

import "context"

// lineSlots are the slots one line's check holds. The check of a line
// starts under a slot of the validation's global cap only: its database
// checks and the test login to our own server do not touch the old server,
// so they do not hold the old server's per-host slot either (held there,
// they made a validation of one host run at the pace of our server's
// logins, not at the cap: TestValidateHoldsTheHostSlotOnlyForTheRemote).
// For the old server's part it goes (toRemote) to a slot of each count of
// its host's caps (remoteSlots) and one of the global cap, taken in that
// order, so lines waiting for a busy host do not hold global slots other
// hosts' lines could use.
type lineSlots struct {
	global chan struct{}
	remote []chan struct{}
	held   []chan struct{}
}

// take takes a slot of each of sems in order; on ctx's end it holds what
// it took so far (release lets go of it).
func (s *lineSlots) take(ctx context.Context, sems ...chan struct{}) error {
	for _, sem := range sems {
		select {
		case sem <- struct{}{}:
			s.held = append(s.held, sem)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// release lets go of every slot held.
func (s *lineSlots) release() {
	for i := len(s.held) - 1; i >= 0; i-- {
		<-s.held[i]
	}
	s.held = nil
}

// toRemote trades the slot of the line's own checks for the host's.
func (s *lineSlots) toRemote(ctx context.Context) error {
	s.release()
	return s.take(ctx, append(s.remote[:len(s.remote):len(s.remote)], s.global)...)
}
