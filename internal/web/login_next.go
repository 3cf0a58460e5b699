package web

import (
	"net/url"
	"path"
	"strings"
)

// maxNextLen bounds the return path kept through the login.
const maxNextLen = 1024

// safeNext returns raw when it is a path of this panel to return to after
// signing in, else "". Only a path on our own origin passes: it starts with
// one "/" (not "//" or "/\", which browsers read as another host), has no
// scheme, host, backslash, control character or fragment, and is not the
// login or logout itself. The list of migrations is the default, so it is
// returned as "" too.
func safeNext(raw string) string {
	if raw == "" || len(raw) > maxNextLen || !strings.HasPrefix(raw, "/") {
		return ""
	}
	if strings.HasPrefix(raw, "//") || strings.ContainsAny(raw, "\\#") {
		return ""
	}
	for _, c := range raw {
		if c < 0x20 || c == 0x7f {
			return ""
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || strings.HasPrefix(u.Path, "//") {
		return ""
	}
	if clean := path.Clean(u.Path); clean != u.Path {
		return "" // "..", "." or doubled slashes: not a link we made
	}
	switch u.Path {
	case "/", "/login", "/logout", "/migrations":
		if u.Path != "/migrations" || u.RawQuery == "" {
			return ""
		}
	}
	if strings.HasPrefix(u.Path, "/static/") {
		return ""
	}
	// The path as parsed, re-encoded: what we redirect to is what we checked.
	return u.RequestURI()
}

// loginURL is the login page that returns to next afterwards.
func loginURL(next string) string {
	if next = safeNext(next); next == "" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(next)
}
