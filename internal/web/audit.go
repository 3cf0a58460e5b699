package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/web/views"
)

// maxListedAudit is how many events an audit page shows.
const maxListedAudit = 500

// reqInfo is what inner handlers tell the access log about a request: the
// signed-in user, once known.
type reqInfo struct {
	userID  int64
	audited bool // the handler recorded its action itself
}

func info(r *http.Request) *reqInfo {
	if i, ok := r.Context().Value(keyReqInfo).(*reqInfo); ok {
		return i
	}
	return &reqInfo{}
}

// audit records an action of the signed-in user on the tenant of the
// request (for an operator in another tenant's migration, that tenant,
// marked as an operator's). A failure to record is logged.
func (s *server) audit(r *http.Request, action string, migrationID int64, detail string) {
	e := store.AuditEvent{Action: action, MigrationID: migrationID, Detail: detail, IP: clientIP(r, s.TrustedProxies)}
	if c := me(r); c != nil {
		e.TenantID, e.UserID, e.Actor = c.Tenant.ID, c.User.ID, c.User.Email
		e.Operator = c.User.Operator && c.User.TenantID != c.Tenant.ID
	}
	info(r).audited = true
	s.recordAudit(r, e)
}

// auditOperatorActions records every action (a form post that succeeded)
// of an operator on another tenant's migration that its handler does not
// record itself, with its method and path. Under operatorScope.
func (s *server) auditOperatorActions(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := me(r)
		if r.Method == http.MethodGet || r.Method == http.MethodHead || c == nil || !c.User.Operator || c.User.TenantID == c.Tenant.ID {
			next.ServeHTTP(w, r)
			return
		}
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		if ww.Status() < 400 && !info(r).audited {
			s.audit(r, store.AuditOperatorAction, 0, r.Method+" "+r.URL.Path)
		}
	})
}

func (s *server) recordAudit(r *http.Request, e store.AuditEvent) {
	if err := store.RecordAudit(context.WithoutCancel(r.Context()), s.Pool, e); err != nil {
		s.Logger.ErrorContext(r.Context(), "audit", "request_id", requestID(r), "action", e.Action, "err", err)
	}
}

// auditList is the tenant's audit trail (GET /audit): its own events only.
func (s *server) auditList(w http.ResponseWriter, r *http.Request) {
	c := me(r)
	es, err := store.ListAudit(r.Context(), s.Pool, c.Tenant.ID, maxListedAudit)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.renderAudit(w, r, es, false)
}

// auditListAll is every tenant's audit trail (GET /admin/audit), for
// operators.
func (s *server) auditListAll(w http.ResponseWriter, r *http.Request) {
	es, err := store.ListAllAudit(r.Context(), s.Pool, maxListedAudit)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.renderAudit(w, r, es, true)
}

func (s *server) renderAudit(w http.ResponseWriter, r *http.Request, es []store.AuditEvent, all bool) {
	l, c := lang(r), me(r)
	page := views.AuditPage{AllTenants: all, Limit: maxListedAudit}
	for _, e := range es {
		row := views.AuditRow{
			When:     formatTime(l, e.At, c.Loc),
			Tenant:   e.TenantName,
			Actor:    e.Actor,
			Operator: e.Operator,
			Action:   e.Action,
			Label:    auditLabel(l, e.Action),
			Detail:   e.Detail,
			IP:       e.IP,
		}
		if e.MigrationID != 0 {
			row.Migration = strconv.FormatInt(e.MigrationID, 10)
			row.MigrationPath = views.MigrationPath(e.MigrationID)
		}
		page.Rows = append(page.Rows, row)
	}
	p := s.page(r, i18n.T(l, "web.audit.title"))
	s.render(w, r, http.StatusOK, p, views.AuditListPage(p, page))
}

func auditLabel(l i18n.Lang, action string) string {
	key := "web.audit.action." + action
	if !i18n.Has(key) {
		return action
	}
	return i18n.T(l, key)
}
