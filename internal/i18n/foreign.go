package i18n

import (
	"regexp"
	"sort"
	"strings"
)

// verbRE is a fmt verb of a catalog text.
var verbRE = regexp.MustCompile(`%(\[\d+\])?[-+# 0-9.*]*[a-zA-Z%]`)

// ForeignSentences returns the pieces of the catalogs' texts in the other
// language than l that s contains: a page, a download or an email made in
// l should contain none. A piece is the words of a text between its verbs
// (its arguments left out), at least 12 bytes with a space in them, that
// no text of l contains too (a product name, an address pattern both
// languages share is not a sentence of either).
func ForeignSentences(s string, l Lang) []string {
	other := English
	if l == English {
		other = Italian
	}
	var own []string
	for _, c := range catalogs {
		for _, m := range c.msgs {
			own = append(own, m.text(l))
		}
	}
	seen := map[string]bool{}
	var found []string
	for _, c := range catalogs {
		for _, m := range c.msgs {
			if m.IT == m.EN {
				continue
			}
			for _, piece := range verbRE.Split(m.text(other), -1) {
				piece = strings.TrimSpace(strings.Trim(strings.TrimSpace(piece), ".,:;()«»“”\"'—-"))
				if len(piece) < 12 || !strings.Contains(piece, " ") || seen[piece] {
					continue
				}
				seen[piece] = true
				if !strings.Contains(s, piece) || inAny(own, piece) {
					continue
				}
				found = append(found, piece)
			}
		}
	}
	sort.Strings(found)
	return found
}

func inAny(texts []string, piece string) bool {
	for _, t := range texts {
		if strings.Contains(t, piece) {
			return true
		}
	}
	return false
}
