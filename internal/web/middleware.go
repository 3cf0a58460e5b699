package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyLang
	keyUser
	keyReqInfo
)

// Session keys.
const (
	sessUserID     = "user_id"
	sessLang       = "lang"
	sessFlash      = "flash"
	sessFlashError = "flash_error"
)

// requestIDMiddleware gives every request an id, echoed in X-Request-Id and
// in every log line about it.
func (s *server) requestIDMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), keyRequestID, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, keyReqInfo, &reqInfo{})))
	})
}

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(keyRequestID).(string)
	return id
}

// accessLog writes one line per request: method, path (never the query
// string or the form, which may hold passwords), status, size, duration,
// and the signed-in user's id (0 when none).
func (s *server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		s.Logger.InfoContext(r.Context(), "http request",
			"request_id", requestID(r),
			"method", r.Method,
			"path", logPath(r),
			"status", ww.Status(),
			"bytes", ww.BytesWritten(),
			"duration_ms", time.Since(start).Milliseconds(),
			"remote_addr", r.RemoteAddr,
			"user_id", info(r).userID,
		)
	})
}

// tokenPathPrefix starts the paths that carry a one-time token (the
// invitation's and the reset's link, see passwordSetShow).
const tokenPathPrefix = "/password/set/"

// logPath is the request's path for a log line: a one-time token in it is
// redacted (whoever reads the log could set the password with it).
func logPath(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, tokenPathPrefix) {
		return tokenPathPrefix + "[redacted]"
	}
	return r.URL.Path
}

// recoverer turns a panic into a 500 and an error log line with the stack.
func (s *server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.Logger.ErrorContext(r.Context(), "panic", "request_id", requestID(r), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		}()
		next.ServeHTTP(w, r)
	})
}

// crossOrigin refuses unsafe requests (every form post) that a browser
// says come from another site, using Sec-Fetch-Site or Origin (see
// net/http.CrossOriginProtection). No tokens are needed.
func (s *server) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	if s.BaseURL != nil {
		origin := s.BaseURL.Scheme + "://" + s.BaseURL.Host
		if err := cop.AddTrustedOrigin(origin); err != nil {
			s.Logger.Warn("trusted origin", "origin", origin, "err", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Logger.WarnContext(r.Context(), "cross-origin request refused", "request_id", requestID(r),
			"method", r.Method, "path", logPath(r), "origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		l := i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
		fmt.Fprintln(w, i18n.T(l, "web.error.cross_origin"))
	}))
	return cop.Handler(next)
}

// language picks the page language: ?lang= (remembered in the session),
// else the session's, else Accept-Language, else Italian.
func (s *server) language(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var l i18n.Lang
		if q := r.URL.Query().Get("lang"); q != "" {
			l = i18n.Parse(q)
			s.sessions.Put(ctx, sessLang, string(l))
		} else if v := s.sessions.GetString(ctx, sessLang); v != "" {
			l = i18n.Parse(v)
		} else {
			l = i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, keyLang, l)))
	})
}

func lang(r *http.Request) i18n.Lang {
	if l, ok := r.Context().Value(keyLang).(i18n.Lang); ok {
		return l
	}
	return i18n.Default
}

// current is the signed-in user with their tenant.
type current struct {
	User   store.User
	Tenant store.Tenant
	Loc    *time.Location // the tenant's time zone
}

// requireUser lets signed-in users of enabled tenants through; others go to
// /login (a GET) or get 401 (anything else). The user is read again on
// every request, so disabling a user or tenant takes effect at once.
func (s *server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id := s.sessions.GetInt64(ctx, sessUserID)
		if id == 0 {
			s.toLogin(w, r)
			return
		}
		u, err := store.GetUser(ctx, s.Pool, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (u.Disabled || u.TenantDisabled)) {
			_ = s.sessions.Destroy(ctx)
			s.toLogin(w, r)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		t, err := store.GetTenant(ctx, s.Pool, u.TenantID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		loc, err := time.LoadLocation(t.Timezone)
		if err != nil {
			s.serverError(w, r, fmt.Errorf("tenant %d time zone %q: %w", t.ID, t.Timezone, err))
			return
		}
		info(r).userID = u.ID
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, keyUser, &current{User: u, Tenant: t, Loc: loc})))
	})
}

// requireOperator lets only operators through (after requireUser); anyone
// else gets the same 404 as a page that does not exist.
func (s *server) requireOperator(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := me(r); c == nil || !c.User.Operator {
			s.notFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// operatorScope lets an operator open another tenant's migration (the
// {id} of the URL): the request goes on as if signed in to that tenant, so
// every handler's tenant-scoped queries find it. For everyone else, and
// for a migration of the operator's own tenant or none, it changes
// nothing: the handlers answer 404 for another tenant's id.
func (s *server) operatorScope(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := me(r)
		if c == nil || !c.User.Operator {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		tenantID, err := store.MigrationTenantID(ctx, s.Pool, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && tenantID == c.Tenant.ID) {
			next.ServeHTTP(w, r)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		t, err := store.GetTenant(ctx, s.Pool, tenantID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		loc, err := time.LoadLocation(t.Timezone)
		if err != nil {
			s.serverError(w, r, fmt.Errorf("tenant %d time zone %q: %w", t.ID, t.Timezone, err))
			return
		}
		s.Logger.InfoContext(ctx, "operator in another tenant's migration", "request_id", requestID(r),
			"user_id", c.User.ID, "tenant_id", t.ID, "migration_id", id, "method", r.Method, "path", r.URL.Path)
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, keyUser, &current{User: c.User, Tenant: t, Loc: loc})))
	})
}

func (s *server) toLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		http.Redirect(w, r, loginURL(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	http.Error(w, i18n.T(lang(r), "web.error.signed_out"), http.StatusUnauthorized)
}

// me returns the signed-in user; only under requireUser.
func me(r *http.Request) *current {
	c, _ := r.Context().Value(keyUser).(*current)
	return c
}
