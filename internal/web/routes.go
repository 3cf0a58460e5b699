package web

import (
	"io/fs"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/trasloco/trasloco/internal/health"
	"github.com/trasloco/trasloco/web"
)

// routes is the panel's route table.
//
// The probes /healthz and /readyz come first, with no session, login or
// access log line (they arrive every few seconds; /readyz only when
// Deps.Health is set). Every other request gets a request id, an access
// log line and panic recovery; every unsafe method (POST) must come from
// the panel's own origin
// (net/http.CrossOriginProtection); then the session and the language are
// loaded. Pages under /migrations need a signed-in user, and every
// migration is looked up within the user's tenant: another tenant's id is a
// 404, and so is a mailbox run (in a log's URL) of another migration.
// Operators (users.operator) are the exception: they list every tenant's
// migrations and open (and act on) any of them as its tenant would
// (operatorScope, which logs it), and they alone reach /metrics and the
// jobs pages under /admin/river and River's own UI under /admin/riverui
// (404 for everyone else). Every response, probes included, carries the
// security headers (securityHeaders: CSP, nosniff, Referrer-Policy, HSTS).
func (s *server) routes() http.Handler {
	probes := http.NewServeMux()
	probes.HandleFunc("GET /healthz", health.Healthz)
	if s.Health != nil {
		probes.Handle("GET /readyz", s.Health.Readyz(false))
	}

	r := chi.NewRouter()
	r.Use(s.requestIDMiddleware, s.accessLog, s.recoverer, s.crossOrigin, s.sessions.LoadAndSave, s.language)
	r.NotFound(s.notFound)
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	})

	static, _ := fs.Sub(web.Static, "static")
	r.Handle("/static/*", http.StripPrefix("/static/", staticFiles(static)))

	r.Get("/", s.home)
	r.Get("/login", s.loginShow)
	r.Post("/login", s.loginSubmit)
	r.Get("/password/forgot", s.forgotShow)
	r.Post("/password/forgot", s.forgotSubmit)
	r.Get("/password/set/{token}", s.passwordSetShow)
	r.Post("/password/set/{token}", s.passwordSetSubmit)

	r.Group(func(r chi.Router) {
		r.Use(s.requireUser)
		r.Post("/logout", s.logout)
		r.Get("/audit", s.auditList)
		r.Get("/account/password", s.accountPasswordShow)
		r.Post("/account/password", s.accountPasswordSubmit)

		r.Group(func(r chi.Router) {
			r.Use(s.requireAdmin)
			r.Get("/settings", s.settingsShow)
			r.Post("/settings", s.settingsSubmit)
			r.Get("/team", s.teamShow)
			r.Post("/team/invite", s.teamInvite)
			r.Post("/team/{userID}/disable", s.teamMember("disable"))
			r.Post("/team/{userID}/enable", s.teamMember("enable"))
			r.Post("/team/{userID}/delete", s.teamMember("delete"))
		})

		r.Get("/migrations", s.migrationList)
		r.Get("/migrations/new", s.migrationNew)
		r.Post("/migrations", s.migrationCreate)
		r.Get("/migrations/example.csv", s.migrationExample)
		r.Get("/migrations/example.txt", s.migrationExample)
		r.Post("/microsoft/connect", s.microsoftConnect)
		r.Get("/microsoft/callback", s.microsoftCallback)

		r.Group(func(r chi.Router) {
			r.Use(s.operatorScope, s.auditOperatorActions)
			r.Get("/migrations/{id}", s.migrationShow)
			r.Get("/migrations/{id}/status.json", s.migrationStatus)
			r.Get("/migrations/{id}/cancel", s.migrationCancelConfirm)
			r.Post("/migrations/{id}/cancel", s.migrationCancel)
			r.Get("/migrations/{id}/edit", s.migrationEditShow)
			r.Post("/migrations/{id}/edit", s.migrationEditSubmit)
			r.Post("/migrations/{id}/start", s.migrationStartNow)
			r.Get("/migrations/{id}/stop", s.migrationStopConfirm)
			r.Post("/migrations/{id}/stop", s.migrationStop)
			r.Post("/migrations/{id}/resume", s.migrationResume)
			r.Post("/migrations/{id}/runs/add", s.migrationRunAdd)
			r.Get("/migrations/{id}/delete", s.migrationDeleteConfirm)
			r.Post("/migrations/{id}/delete", s.migrationDelete)
			r.Post("/migrations/{id}/lines/add", s.migrationLinesAdd)
			r.Post("/migrations/{id}/lines/{lineNo}/delete", s.migrationLineRemove)
			r.Post("/migrations/{id}/lines", s.migrationReplaceLines)
			r.Post("/migrations/{id}/runs/{runNo}/retry", s.migrationRunRetry)
			r.Get("/migrations/{id}/resources", s.migrationResources)
			r.Get("/migrations/{id}/report/mailboxes.csv", s.migrationReportMailboxes)
			r.Get("/migrations/{id}/report/messages.csv", s.migrationReportMessages)
			r.Get("/migrations/{id}/resources/{mailboxRunID}/log", s.mailboxLog)
			r.Get("/migrations/{id}/resources/{mailboxRunID}/log.txt", s.mailboxLogText)
		})

		r.Group(func(r chi.Router) {
			r.Use(s.requireOperator)
			r.Method(http.MethodGet, "/metrics", s.Metrics.Handler(s.Logger))
			r.Get("/admin/audit", s.auditListAll)
			r.Get("/admin/river", s.jobList)
			r.Get("/admin/tenants", s.consoleTenants)
			r.Post("/admin/tenants", s.consoleTenantCreate)
			r.Route("/admin/tenants/{tenantID}", func(r chi.Router) {
				r.Use(s.consoleTenant)
				r.Get("/", s.consoleTenantShow)
				r.Post("/domains", s.consoleTenantChange("add_domain"))
				r.Post("/domains/delete", s.consoleTenantChange("remove_domain"))
				r.Post("/disable", s.consoleTenantChange("disable"))
				r.Post("/enable", s.consoleTenantChange("enable"))
				r.Get("/settings", s.settingsShow)
				r.Post("/settings", s.settingsSubmit)
				r.Get("/team", s.teamShow)
				r.Post("/team/invite", s.teamInvite)
				r.Post("/team/{userID}/disable", s.teamMember("disable"))
				r.Post("/team/{userID}/enable", s.teamMember("enable"))
				r.Post("/team/{userID}/delete", s.teamMember("delete"))
			})
			r.Post("/admin/river/jobs/{jobID}/retry", s.jobRetry)
			r.Post("/admin/river/jobs/{jobID}/cancel", s.jobCancel)
			if s.RiverUI != nil {
				r.Mount(RiverUIPath, s.RiverUI)
			}
		})
	})
	probes.Handle("/", r)
	return s.securityHeaders(probes)
}

// staticFiles serves the embedded assets with a short cache lifetime.
func staticFiles(fsys fs.FS) http.Handler {
	fsrv := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		fsrv.ServeHTTP(w, r)
	})
}
