package jobs

import (
	"context"
	"encoding/json"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/transfer"
)

// AppliedRules is what a mailbox run records of the folder rules its copy
// followed: Risorse renders it (codes, in the reader's language).
type AppliedRules struct {
	Rules transfer.Preset   `json:"rules"`
	Why   transfer.RulesWhy `json:"why"`
}

// saveRules records the rules of an attempt that got as far as listing
// the old server's folders; a failure to record them costs only the line
// on Risorse, so it is logged and the copy goes on.
func (c *mailboxCopy) saveRules(ctx context.Context, res transfer.Result) {
	if res.Rules == "" {
		return
	}
	b, err := json.Marshal(AppliedRules{Rules: res.Rules, Why: c.scrub.rulesWhy(res.RulesWhy)})
	if err == nil {
		err = store.SetMailboxRunRules(context.WithoutCancel(ctx), c.w.d.Pool, c.mb.TenantID, c.mb.ID, b)
	}
	if err != nil {
		c.log.Warn("mailbox: rules not recorded", "error", err)
	}
}

// rulesWhy is w without the secrets in its argument (a folder's name, the
// server's own words), cut as a log line's are: the panel shows it.
func (s scrubber) rulesWhy(w transfer.RulesWhy) transfer.RulesWhy {
	w.Arg = clip(s.text(w.Arg), 1000)
	return w
}
