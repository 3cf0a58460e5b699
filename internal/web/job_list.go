package web

import (
	"net/http"
	"slices"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// maxListedJobs is how many jobs the operators' jobs page lists.
const maxListedJobs = 100

// jobList is the operators' view of River's jobs (GET /admin/river): the
// count of every kind in every state and the newest jobs in one state
// (?state=, running by default), with retry and cancel. It stands in for
// riverui, whose module the build cannot fetch.
func (s *server) jobList(w http.ResponseWriter, r *http.Request) {
	ctx, l, c := r.Context(), lang(r), me(r)
	states := make([]string, 0, 8)
	for _, st := range rivertype.JobStates() {
		states = append(states, string(st))
	}
	state := r.URL.Query().Get("state")
	if !slices.Contains(states, state) {
		state = string(rivertype.JobStateRunning)
	}
	counts, err := store.CountJobs(ctx, s.Pool)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	page := views.JobsPage{States: states, State: state, Limit: maxListedJobs}
	for _, jc := range counts {
		if n := len(page.Counts); n == 0 || page.Counts[n-1].Kind != jc.Kind {
			page.Counts = append(page.Counts, views.JobKindCounts{Kind: jc.Kind, ByState: map[string]int64{}})
		}
		page.Counts[len(page.Counts)-1].ByState[jc.State] += jc.Count
	}
	res, err := s.River.JobList(ctx, river.NewJobListParams().
		States(rivertype.JobState(state)).
		OrderBy(river.JobListOrderByID, river.SortOrderDesc).
		First(maxListedJobs))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	for _, j := range res.Jobs {
		row := views.JobRow{
			ID:          j.ID,
			Kind:        j.Kind,
			Queue:       j.Queue,
			Attempt:     j.Attempt,
			MaxAttempts: j.MaxAttempts,
			Args:        string(j.EncodedArgs), // ids only: no job carries a secret
			When:        formatTime(l, j.ScheduledAt, c.Loc),
			CanRetry:    retryable(j.State),
			CanCancel:   cancellableJob(j.State),
		}
		if n := len(j.Errors); n > 0 {
			row.Error = j.Errors[n-1].Error
		}
		page.Jobs = append(page.Jobs, row)
	}
	p := s.page(r, i18n.T(l, "web.jobs.title"))
	s.render(w, r, http.StatusOK, p, views.JobsListPage(p, page))
}

// retryable says whether River's JobRetry makes sense for a job: it is not
// running or waiting already.
func retryable(st rivertype.JobState) bool {
	switch st {
	case rivertype.JobStateRetryable, rivertype.JobStateScheduled, rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
		return true
	}
	return false
}

// cancellableJob says whether a job has not finished, so cancelling it
// means something.
func cancellableJob(st rivertype.JobState) bool {
	switch st {
	case rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
		rivertype.JobStateRunning, rivertype.JobStateScheduled:
		return true
	}
	return false
}
