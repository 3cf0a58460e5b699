package web

import (
	"strings"

	"github.com/trasloco/trasloco/internal/transfer"
)

// masterUserProblem reports whether a Master User cannot work with the
// preset's servers: Exchange and Office 365 log an administrator in as
// "DOMAIN\admin\user" or "admin@domain\user" (transfer.MasterExchange), so
// their Master User is written DOMAIN\admin or admin@domain.
func masterUserProblem(p transfer.Preset, master string) bool {
	if master == "" || transfer.MasterFormFor(p) != transfer.MasterExchange {
		return false
	}
	if domain, admin, ok := strings.Cut(master, `\`); ok {
		return domain == "" || admin == "" || strings.ContainsAny(admin, `\@`)
	}
	local, domain, ok := strings.Cut(master, "@")
	return !ok || local == "" || domain == "" || strings.Contains(domain, "@")
}
