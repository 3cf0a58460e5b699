package jobs

import (
	"context"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/trasloco/trasloco/internal/config"
	"github.com/trasloco/trasloco/internal/store"
)

// Lock classes of the counts of config.HostLimit besides the host's own
// (lockClassHost).
const (
	lockClassHostTenant  = 0x7406
	lockClassHostAccount = 0x7407
)

// remoteCount is one count of a remote host's caps: at most len(keys)
// holders at once.
type remoteCount struct {
	count string // "host", "tenant" or "account", for the logs
	id    string // the count's identity: validation's semaphores are keyed by it
	keys  []int64
}

// remoteCounts are the counts a mailbox of tenantID copied from account
// on remoteHost (or its test login) takes a slot in, each: the first of
// Deps.HostLimits that matches the host, else PerHostLimit for the host
// alone. They are in the same order for every mailbox, the narrowest
// first: a test login waiting for its account's slot holds none of its
// tenant's.
func (d Deps) remoteCounts(tenantID int64, remoteHost, account string) []remoteCount {
	host := hostKey(remoteHost)
	rule := config.HostLimit{Host: d.PerHostLimit}
	for _, r := range d.HostLimits {
		if r.Matches(host) {
			rule = r
			break
		}
	}
	var out []remoteCount
	if rule.Host > 0 {
		keys := make([]int64, rule.Host)
		for i := range keys {
			keys[i] = hostLockKey(host, i)
		}
		out = append(out, remoteCount{count: "host", id: "host\x00" + host, keys: keys})
	}
	if rule.Account > 0 {
		id := "account\x00" + host + "\x00" + strings.ToLower(strings.TrimSpace(account))
		out = append(out, remoteCount{count: "account", id: id, keys: hashedSlotKeys(lockClassHostAccount, id, rule.Account)})
	}
	if rule.Tenant > 0 {
		id := "tenant\x00" + host + "\x00" + strconv.FormatInt(tenantID, 10)
		out = append(out, remoteCount{count: "tenant", id: id, keys: hashedSlotKeys(lockClassHostTenant, id, rule.Tenant)})
	}
	return out
}

// hashedSlotKeys are n lock keys of class for the identity id.
func hashedSlotKeys(class int64, id string, n int) []int64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	base := class<<48 | int64(h.Sum64()&(1<<40-1))<<8
	keys := make([]int64, n)
	for i := range keys {
		keys[i] = base | int64(i&0xff)
	}
	return keys
}

// remoteSlotsFree returns the first count without a free slot, as
// pg_locks shows them (a hint, see slotsFree); nil when every count has
// one.
func remoteSlotsFree(ctx context.Context, db store.DBTX, counts []remoteCount) (*remoteCount, error) {
	for i, c := range counts {
		free, err := slotsFree(ctx, db, c.keys)
		if err != nil {
			return nil, err
		}
		if !free {
			return &counts[i], nil
		}
	}
	return nil, nil
}

// takeRemoteSlots takes a slot of every count on conn and returns the
// first count that has none left (the slots taken stay with conn until
// it is released); nil when it took one of each.
func takeRemoteSlots(ctx context.Context, conn *pgx.Conn, counts []remoteCount) (*remoteCount, error) {
	for i, c := range counts {
		ok, err := takeSlot(ctx, conn, c.keys)
		if err != nil {
			return nil, err
		}
		if !ok {
			return &counts[i], nil
		}
	}
	return nil, nil
}

// waitLog logs a mailbox waiting for a full count of its remote host.
func (c *remoteCount) waitLog(log *slog.Logger, host string) {
	log.Debug("mailbox: remote host limit reached, waiting", "host", host, "count", c.count, "limit", len(c.keys))
}
