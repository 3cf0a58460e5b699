// Package metrics holds trasloco's Prometheus metrics: what the workers
// count (mailboxes, messages, bytes, failures, validation logins) and, at
// scrape time, River's jobs by kind and state.
//
// There is no global registry: New registers everything on the registry it
// is given, and a *Metrics goes into jobs.Deps and web.Deps as a field.
// Every method works on a nil *Metrics and does nothing, so code and tests
// without metrics need no special case.
package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river/rivertype"

	"github.com/trasloco/trasloco/internal/store"
)

// Namespace prefixes every metric of trasloco's own.
const Namespace = "trasloco"

// Outcomes of a validation login (ValidationLogin's result besides the
// transfer.Reason values).
const (
	ResultOK    = "ok"
	ResultError = "error" // not a connection or login failure
)

// Metrics are trasloco's counters on one registry.
type Metrics struct {
	reg *prometheus.Registry

	mailboxesStarted prometheus.Counter
	mailboxesEnded   *prometheus.CounterVec
	messagesCopied   prometheus.Counter
	bytesCopied      prometheus.Counter
	failures         *prometheus.CounterVec
	validationLogins *prometheus.CounterVec
	backOffs         prometheus.Counter
}

// New registers trasloco's metrics, with the Go runtime's and the
// process's, on reg (a new registry when nil).
func New(reg *prometheus.Registry) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{
		reg: reg,
		mailboxesStarted: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "mailboxes_started_total",
			Help: "Mailbox copies started (the first attempt of a mailbox in a run).",
		}),
		mailboxesEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "mailboxes_ended_total",
			Help: "Mailbox copies ended, by outcome (completed, completed_with_errors, failed).",
		}, []string{"outcome"}),
		messagesCopied: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "messages_copied_total",
			Help: "Messages appended to the destination.",
		}),
		bytesCopied: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "bytes_copied_total",
			Help: "Bytes of the messages appended to the destination.",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "mailbox_failures_total",
			Help: "Failed mailbox copy attempts, retried or not, by reason (auth, timeout, refused, certificate, dest_full, dest_unavailable, password_gone, internal, other, …).",
		}, []string{"reason"}),
		validationLogins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "validation_logins_total",
			Help: "Test logins of the CSV validation, by side (destination, remote) and result (ok, or the failure's reason).",
		}, []string{"side", "result"}),
		backOffs: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "source_backoffs_total",
			Help: "Mailbox copies paused because the old server asked to slow down (throttling): the account backs off, the copy goes on later.",
		}),
	}
	reg.MustRegister(
		m.mailboxesStarted, m.mailboxesEnded, m.messagesCopied, m.bytesCopied, m.failures, m.validationLogins, m.backOffs,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// The outcomes exist from the start, so rate() sees the first one.
	for _, o := range []store.MailboxStatus{store.MailboxCompleted, store.MailboxCompletedWithErrors, store.MailboxFailed} {
		m.mailboxesEnded.WithLabelValues(string(o))
	}
	return m
}

// Registry is the registry the metrics are on, to add collectors to.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the registry in the Prometheus text format. A collector
// that fails (the database during a scrape) is logged and left out; the
// rest is still served. A nil *Metrics serves 404.
func (m *Metrics) Handler(logger *slog.Logger) http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slogPrintln{logger},
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       30 * time.Second,
	})
}

type slogPrintln struct{ l *slog.Logger }

func (s slogPrintln) Println(v ...any) { s.l.Warn("metrics scrape", "err", fmt.Sprint(v...)) }

// MailboxStarted counts a mailbox's first attempt in a run.
func (m *Metrics) MailboxStarted() {
	if m == nil {
		return
	}
	m.mailboxesStarted.Inc()
}

// MailboxEnded counts a mailbox run that ended with the given outcome.
func (m *Metrics) MailboxEnded(outcome store.MailboxStatus) {
	if m == nil {
		return
	}
	m.mailboxesEnded.WithLabelValues(string(outcome)).Inc()
}

// Copied counts messages and bytes appended to the destination.
func (m *Metrics) Copied(messages int, bytes int64) {
	if m == nil {
		return
	}
	if messages > 0 {
		m.messagesCopied.Add(float64(messages))
	}
	if bytes > 0 {
		m.bytesCopied.Add(float64(bytes))
	}
}

// MailboxFailure counts a failed attempt at a mailbox, by reason.
func (m *Metrics) MailboxFailure(reason string) {
	if m == nil {
		return
	}
	m.failures.WithLabelValues(reason).Inc()
}

// BackOff counts a copy paused because its old server throttled it.
func (m *Metrics) BackOff() {
	if m == nil {
		return
	}
	m.backOffs.Inc()
}

// ValidationLogin counts a test login of the validation: side is
// "destination" or "remote", result ResultOK, ResultError or a
// transfer.Reason.
func (m *Metrics) ValidationLogin(side, result string) {
	if m == nil {
		return
	}
	m.validationLogins.WithLabelValues(side, result).Inc()
}

// jobsCollector reads River's jobs by kind and state at scrape time.
type jobsCollector struct {
	db      store.DBTX
	timeout time.Duration
	desc    *prometheus.Desc
}

// CollectJobs adds, at every scrape, the number of River jobs by kind and
// state (trasloco_river_jobs) read from db within timeout (5s when 0).
// Every process's scrape reads the same table: aggregate with max, not sum.
func (m *Metrics) CollectJobs(db store.DBTX, timeout time.Duration) {
	if m == nil {
		return
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	m.reg.MustRegister(&jobsCollector{
		db: db, timeout: timeout,
		desc: prometheus.NewDesc(Namespace+"_river_jobs", "River jobs in the database, by kind and state (read at scrape time).",
			[]string{"kind", "state"}, nil),
	})
}

func (c *jobsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *jobsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	counts, err := store.CountJobs(ctx, c.db)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	byKind := map[string]map[string]int64{}
	for _, jc := range counts {
		if byKind[jc.Kind] == nil {
			byKind[jc.Kind] = map[string]int64{}
		}
		byKind[jc.Kind][jc.State] += jc.Count
	}
	// Every state of every kind seen is reported, so that a series drops
	// to 0 instead of vanishing.
	for kind, states := range byKind {
		for _, js := range rivertype.JobStates() {
			st := string(js)
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(states[st]), kind, st)
			delete(states, st)
		}
		for st, n := range states { // a state added by a later River
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), kind, st)
		}
	}
}
