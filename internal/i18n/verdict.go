package i18n

import "strings"

// Verdict is what a mailbox run's verification found, for VerdictText.
type Verdict struct {
	// Verified is nil when the run was not verified.
	Verified          *int
	Expected          int
	Missing           int // copied, no longer at the destination
	Failed            int // not copied (listed with the reason)
	Duplicates        int
	DeletedByCustomer int
	// StillThere are an earlier run's messages still at the destination:
	// a later run's verdict counts what it had to bring apart.
	StillThere     int
	ExcludedCopied int
	FlagsBehind    int
}

// OK reports whether the verification passed.
func (v Verdict) OK() bool {
	return v.Verified != nil && v.Missing == 0 && v.Failed == 0 && v.Duplicates == 0 && v.ExcludedCopied == 0 && v.FlagsBehind == 0
}

// VerdictText is the verdict in words: "verificato: 4.632 di 4.632
// presenti", or "verifica: 4.630 di 4.632 presenti · 1 mancante nella
// nuova casella · 1 doppio", and what the customer deleted since the
// earlier run; "" when it was not verified.
func VerdictText(l Lang, v Verdict) string {
	if v.Verified == nil {
		return ""
	}
	key := "verify.ok"
	if !v.OK() {
		key = "verify.partial"
	}
	if v.StillThere > 0 || v.DeletedByCustomer > 0 {
		key += "_new" // a later run: held to what it had to bring
	}
	parts := []string{T(l, key, Int(l, *v.Verified), Int(l, v.Expected))}
	if notes := VerdictNotes(l, v); notes != "" {
		parts = append(parts, notes)
	}
	return strings.Join(parts, " · ")
}

// VerdictNotes is what VerdictText says after the count: what is missing,
// twice, …, and an earlier run's messages still there or deleted.
func VerdictNotes(l Lang, v Verdict) string {
	var parts []string
	for _, p := range []struct {
		key string
		n   int
	}{
		{"verify.missing", v.Missing}, {"verify.failed", v.Failed}, {"verify.duplicates", v.Duplicates},
		{"verify.excluded_copied", v.ExcludedCopied}, {"verify.flags_behind", v.FlagsBehind},
		{"verify.still_there", v.StillThere}, {"verify.deleted", v.DeletedByCustomer},
	} {
		if p.n > 0 {
			parts = append(parts, N(l, p.key, p.n))
		}
	}
	return strings.Join(parts, " · ")
}
