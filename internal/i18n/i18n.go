// Package i18n holds the panel's user-facing messages in Italian (the
// default) and English, and picks the language of a request.
//
// Messages live in catalogs of the form map[string]Message, one per area
// of the code (catalog_csv.go for CSV and validation messages,
// catalog_web.go for the web layer, catalog_mail.go for the email sent when
// a run ends); T looks a key up in each in turn.
package i18n

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Lang is a language the panel speaks.
type Lang string

// The languages of the panel.
const (
	Italian Lang = "it" // the default
	English Lang = "en"
)

// Default is the language used when nothing better is known.
const Default = Italian

// Message is one message in every language; its texts are fmt formats.
type Message struct {
	IT, EN string
}

// text returns the message in l, falling back to Italian when the
// translation is missing.
func (m Message) text(l Lang) string {
	if l == English && m.EN != "" {
		return m.EN
	}
	return m.IT
}

// Parse returns the language named by s ("it", "en", "en-GB", "IT", …),
// or Italian for anything else.
func Parse(s string) Lang {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "-_"); i >= 0 {
		s = s[:i]
	}
	switch Lang(s) {
	case English:
		return English
	default:
		return Italian
	}
}

// FromAcceptLanguage picks the language an Accept-Language header prefers
// among the panel's languages, honouring q-values ("en-US,en;q=0.9,it;q=0.8"
// is English, "de,en;q=0.5,it;q=0.7" Italian). An empty or unusable header
// gives Italian.
func FromAcceptLanguage(h string) Lang {
	type cand struct {
		lang Lang
		q    float64
		pos  int
	}
	var cands []cand
	for i, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		if tag == "" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				q = f
			}
		}
		if q <= 0 {
			continue
		}
		base, _, _ := strings.Cut(tag, "-")
		switch Lang(base) {
		case Italian, English:
			cands = append(cands, cand{Lang(base), q, i})
		}
	}
	if len(cands) == 0 {
		return Default
	}
	sort.SliceStable(cands, func(a, b int) bool { return cands[a].q > cands[b].q })
	return cands[0].lang
}

// T returns the message key in l, formatted with args as by fmt.Sprintf.
// An unknown key returns the key itself, so a missing message shows (and
// fails tests) instead of vanishing.
func T(l Lang, key string, args ...any) string {
	m, ok := lookup(key)
	if !ok {
		return key
	}
	if len(args) == 0 {
		return m.text(l)
	}
	return fmt.Sprintf(m.text(l), args...)
}

// Has reports whether key is in a catalog.
func Has(key string) bool {
	_, ok := lookup(key)
	return ok
}

// catalogs are every catalog, in the order T looks a key up (a key is in
// one only: TestEveryCatalogComplete).
var catalogs = []struct {
	name string
	msgs map[string]Message
}{
	{"csv", csvCatalog}, {"web", webCatalog}, {"mail", mailCatalog}, {"panel", panelCatalog}, {"oauth", oauthCatalog}, {"providers", providersCatalog}, {"rules", rulesCatalog}, {"log", logCatalog}, {"verify", verifyCatalog},
}

func lookup(key string) (Message, bool) {
	for _, c := range catalogs {
		if m, ok := c.msgs[key]; ok {
			return m, true
		}
	}
	return Message{}, false
}

// Keys is every key of every catalog, sorted (for tests that look for the
// text of one language in a page of the other).
func Keys() []string {
	var keys []string
	for _, c := range catalogs {
		for k := range c.msgs {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Format is the text of key in l as the catalog has it, its verbs not
// filled; "" for an unknown key.
func Format(l Lang, key string) string {
	m, ok := lookup(key)
	if !ok {
		return ""
	}
	return m.text(l)
}
