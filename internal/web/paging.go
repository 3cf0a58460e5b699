package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/web/views"
)

// Page lengths of the panel's lists: every page costs the same whatever
// the tenant has.
const (
	migrationsPerPage = 50
	mailboxesPerPage  = 100
	// maxQueryLen bounds a search: longer text is cut.
	maxQueryLen = 200
)

// listQuery is a paged list's place and filters, read from the URL.
type listQuery struct {
	Page   int
	Q      string
	Status string // Migrazioni only
	Tenant int64  // the operators' Migrazioni only
}

func readListQuery(r *http.Request) listQuery {
	v := r.URL.Query()
	q := listQuery{Page: 1, Q: strings.TrimSpace(v.Get("q")), Status: v.Get("status")}
	if len(q.Q) > maxQueryLen {
		q.Q = q.Q[:maxQueryLen]
	}
	if n, err := strconv.Atoi(v.Get("page")); err == nil && n > 1 && n < 1_000_000 {
		q.Page = n
	}
	if n, err := strconv.ParseInt(v.Get("tenant"), 10, 64); err == nil && n > 0 {
		q.Tenant = n
	}
	return q
}

// url is the list at path on page, with the same filters.
func (q listQuery) url(path string, page int) string {
	v := url.Values{}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	if q.Tenant != 0 {
		v.Set("tenant", strconv.FormatInt(q.Tenant, 10))
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// pager is the navigation of page q.Page of the list at path.
func (q listQuery) pager(path, anchor string, hasNext bool) views.Pager {
	pg := views.Pager{Page: q.Page}
	if q.Page > 1 {
		pg.PrevURL = q.url(path, q.Page-1) + anchor
	}
	if hasNext {
		pg.NextURL = q.url(path, q.Page+1) + anchor
	}
	return pg
}

func lineSearchHint(l i18n.Lang) string { return i18n.T(l, "web.filter.mailboxes") }
