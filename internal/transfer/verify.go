package transfer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
)

// FolderCheck is the verification of one folder after its copy: the old
// server and ours compared message by message. Every message the copy
// listed at the source and the rules say must be at the destination is
// looked for there twice: at the destination UID its checkpoint records
// (same Message-ID), and independently by Message-ID, size and
// INTERNALDATE in a FETCH of the whole destination folder.
type FolderCheck struct {
	Source string `json:"source"`
	Dest   string `json:"dest"`
	// Expected are the messages this run had to bring: copied by it,
	// recognised at the destination by it, or failed in its copy.
	// Verified are those of them found at the destination.
	Expected int `json:"expected"`
	Verified int `json:"verified"`
	// Missing are the expected messages not at the destination: a failed
	// copy (Reason is its code) or one the destination no longer holds
	// (ReasonNotAtDest).
	Missing []Finding `json:"missing,omitempty"`
	// Duplicates are destination messages identical (Message-ID, size,
	// INTERNALDATE) to another that stands for a source message, beyond
	// as many as the source holds; Removed of them were removed (Repair).
	Duplicates []Finding `json:"duplicates,omitempty"`
	Removed    int       `json:"removed,omitempty"`
	// DeletedByCustomer are messages an earlier run copied that the
	// destination no longer holds: the customer deleted them there. They
	// are not missing and never copied back. StillThere are the earlier
	// run's messages still there.
	DeletedByCustomer int `json:"deleted_by_customer,omitempty"`
	StillThere        int `json:"still_there,omitempty"`
	// ExcludedCopied are messages the rules leave on the old server (over
	// the size limit) found at the destination.
	ExcludedCopied []Finding `json:"excluded_copied,omitempty"`
	// FlagsBehind are messages at the destination whose flags changed at
	// the source and were not brought over.
	FlagsBehind int `json:"flags_behind,omitempty"`
}

// Finding is a message the verification points at.
type Finding struct {
	UID     uint32    `json:"uid"`                // at the source
	DestUID uint32    `json:"dest_uid,omitempty"` // at the destination, when there is one
	Size    int64     `json:"size"`
	Date    time.Time `json:"date"`
	From    string    `json:"from,omitempty"`
	Subject string    `json:"subject,omitempty"`
	Reason  string    `json:"reason,omitempty"` // a code, for Missing
}

// ReasonNotAtDest is the Reason of a message copied but no longer at the
// destination.
const ReasonNotAtDest = "not_at_destination"

// Lost counts the missing messages that the copy did not know of (it
// copied them and they are not there), as opposed to those it failed.
func (c FolderCheck) Lost() int {
	n := 0
	for _, f := range c.Missing {
		if f.Reason == ReasonNotAtDest {
			n++
		}
	}
	return n
}

// OK reports whether the folder holds what it should, once and only once.
func (c FolderCheck) OK() bool {
	return len(c.Missing) == 0 && len(c.Duplicates) == c.Removed && len(c.ExcludedCopied) == 0 && c.FlagsBehind == 0
}

// Verification is the verification of a Run, folder by folder.
type Verification struct {
	Folders []FolderCheck `json:"folders"`
	// Resumed are the folders not verified again: an earlier attempt of
	// the same run verified them, and this one wrote nothing there.
	Resumed []string `json:"resumed,omitempty"`
	// Unverified are the folders that could not be verified (gone from a
	// server meanwhile), with the copy's folders that failed.
	Unverified []string `json:"unverified,omitempty"`
}

// OK reports whether every folder verified holds what it should.
func (v *Verification) OK() bool {
	for _, c := range v.Folders {
		if !c.OK() {
			return false
		}
	}
	return len(v.Unverified) == 0
}

// verify compares, folder by folder, what the copy listed at the source
// with the destination. It reads only (Job.Repair aside: then it removes
// the duplicates it finds, see repair), on the copy's connections, under
// the copy's timeouts, and retries a dropped connection like the copy.
func (r *runner) verify(ctx context.Context, plans []FolderPlan) error {
	v := &Verification{}
	r.t.update(func(res *Result) { res.Verification = v })
	for _, p := range plans {
		if p.Excluded != "" {
			continue
		}
		led, ok := r.proof.ledger(p.Source)
		if !ok {
			v.Unverified = append(v.Unverified, p.Source) // the copy failed it
			continue
		}
		if r.job.VerifiedFolders[p.Source] && !wrote(led) {
			v.Resumed = append(v.Resumed, p.Source)
			continue
		}
		c, err := r.verifyFolderWithRetry(ctx, p, led)
		r.proof.forgetRead(p.Source)
		var fe folderError
		if errors.As(err, &fe) {
			v.Unverified = append(v.Unverified, p.Source)
			r.t.event(slog.LevelError, p.Source, "log.verify.not_verified", fe.err)
			continue
		}
		if err != nil {
			return err
		}
		v.Folders = append(v.Folders, c)
		r.logCheck(c)
		if fr := r.folderReporter(); fr != nil {
			r.t.locked(func() { fr.FolderVerified(c) })
		}
	}
	return nil
}

// wrote reports whether this Run appended any of the folder's messages.
func wrote(led map[uint32]entry) bool {
	for _, e := range led {
		if e.f == fateCopied {
			return true
		}
	}
	return false
}

func (r *runner) logCheck(c FolderCheck) {
	level := slog.LevelInfo
	if !c.OK() {
		level = slog.LevelError
	}
	r.t.event(level, c.Source, "log.verify.folder",
		c.Dest, c.Verified, c.Expected, len(c.Missing), len(c.Duplicates), c.Removed, c.DeletedByCustomer, len(c.ExcludedCopied), c.FlagsBehind)
	for _, f := range c.Missing {
		if f.Reason == ReasonNotAtDest {
			r.t.event(slog.LevelError, c.Source, "log.verify.missing", f.UID, f.From, f.Subject, f.Date.Format("2006-01-02"))
		}
	}
	for _, f := range c.Duplicates {
		r.t.event(slog.LevelError, c.Source, "log.verify.duplicate", f.UID, f.DestUID)
	}
}

func (r *runner) verifyFolderWithRetry(ctx context.Context, p FolderPlan, led map[uint32]entry) (FolderCheck, error) {
	for attempt := 1; ; attempt++ {
		if !r.c.ready() {
			if err := r.c.connect(ctx); err != nil {
				return FolderCheck{}, err
			}
		}
		c, err := r.verifyFolder(ctx, p, led)
		if err == nil || ctx.Err() != nil {
			return c, err
		}
		var fe folderError
		if errors.As(err, &fe) || !retriable(err) {
			return c, err
		}
		if attempt >= r.job.MaxAttempts {
			return c, fmt.Errorf("verify folder %q: giving up after %d attempts: %w", p.Source, attempt, err)
		}
		wait := r.job.Backoff(attempt)
		r.t.event(slog.LevelWarn, p.Source, "log.verify.connection_lost", err, wait)
		r.c.closeAll()
		select {
		case <-ctx.Done():
			return c, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// verifyFolder verifies one folder: see FolderCheck.
//
// The source's side of a message whose body this Run read is its key,
// taken from its bytes then (heard): its header is fetched from the source
// again only when the destination does not show it or a finding names it.
// The other messages' headers (already there, failed, too large) are
// fetched from the source, as are those of every message of a folder
// renumbered since it was read.
func (r *runner) verifyFolder(ctx context.Context, p FolderPlan, led map[uint32]entry) (FolderCheck, error) {
	c := FolderCheck{Source: p.Source, Dest: p.Dest}
	to := r.job.Timeouts
	st, err := r.job.Checkpoints.LoadFolder(ctx, p.Source)
	if err != nil {
		return c, fmt.Errorf("load checkpoint: %w", err)
	}
	read := r.proof.readOf(p.Source, st.UIDValidity)
	srcOf := make(map[uint32]header, len(led))
	byBytes := map[uint32]bool{} // srcOf has the key from the message's bytes
	var want []uint32
	for uid, e := range led {
		if e.f == fateGone || e.f == 0 {
			continue
		}
		if k, ok := read[uid]; ok && e.f == fateCopied {
			srcOf[uid] = header{uid: uid, size: e.m.size, internal: e.m.date, key: k}
			byBytes[uid] = true
			continue
		}
		want = append(want, uid)
	}
	examined := false
	fromSource := func(uids []uint32) error {
		if len(uids) == 0 {
			return nil
		}
		if !examined {
			sel, err := r.c.src.examine(p.Source)
			if err != nil {
				return asFolderError(err)
			}
			if st.UIDValidity != 0 && sel.UIDValidity != st.UIDValidity {
				return folderError{errors.New("the source folder was renumbered (UIDVALIDITY) since the copy")}
			}
			examined = true
		}
		slices.Sort(uids)
		hs, err := r.fetchHeaders(r.c.src, uids, true)
		if err != nil {
			return err
		}
		for _, u := range uids {
			delete(srcOf, u) // not in the answer: expunged since the copy
			delete(byBytes, u)
		}
		for _, h := range hs {
			if _, asked := slices.BinarySearch(uids, h.uid); asked {
				srcOf[h.uid] = h
			}
		}
		return nil
	}
	if err := fromSource(want); err != nil {
		return c, err
	}

	dst := r.c.dst()
	var n uint32
	if err := dst.do("EXAMINE", to.Command, func() error {
		sd, err := dst.c.Select(p.Dest, &imap.SelectOptions{ReadOnly: true}).Wait()
		if err == nil {
			n = sd.NumMessages
		}
		return err
	}); err != nil {
		return c, asFolderError(err)
	}
	var dstHs []header
	if n > 0 {
		if dstHs, err = r.fetchHeaders(dst, nil, false); err != nil {
			return c, err
		}
	}
	if err := dst.do("UNSELECT", to.Command, func() error { return unselect(dst) }); err != nil {
		return c, err
	}

	failed := r.t.reasonsOf(p.Source)
	m := match(p, led, st, srcOf, dstHs, failed)
	// A message known by its bytes that the destination does not show,
	// or that a finding names, is looked up at the source as before: the
	// same proof for it, and its sender and subject for the customer.
	if again := namedByBytes(m, byBytes); len(again) > 0 {
		if err := fromSource(again); err != nil {
			return c, err
		}
		m = match(p, led, st, srcOf, dstHs, failed)
	}
	c.Expected, c.Verified, c.Missing, c.Duplicates = m.expected, m.verified, m.missing, m.duplicates
	c.DeletedByCustomer, c.StillThere, c.ExcludedCopied, c.FlagsBehind = m.deleted, m.still, m.excluded, m.flagsBehind
	// What this run copied and the destination no longer holds is copied
	// again by the next pass: its record goes.
	if lost := m.forget; len(lost) > 0 {
		if fg, ok := r.job.Checkpoints.(CheckpointForgetter); ok {
			if err := fg.ForgetMessages(ctx, p.Source, lost); err != nil {
				return c, fmt.Errorf("forget missing messages: %w", err)
			}
		}
	}
	if r.job.Repair && len(c.Duplicates) > 0 {
		if c.Removed, err = r.repair(p, dst, m.removable); err != nil {
			return c, err
		}
	}
	return c, nil
}

// namedByBytes are the source messages of m's findings whose key came from
// their bytes (byBytes): those to look up at the source after all.
func namedByBytes(m matched, byBytes map[uint32]bool) []uint32 {
	var out []uint32
	for _, fs := range [][]Finding{m.missing, m.duplicates, m.excluded} {
		for _, f := range fs {
			if byBytes[f.UID] && !slices.Contains(out, f.UID) {
				out = append(out, f.UID)
			}
		}
	}
	return out
}

// heard keeps, for the verification, the key of a message of folder f
// whose body the copy read (see verifyFolder): one scan of its header
// while its bytes are in memory.
func (r *runner) heard(f opened, uid uint32, b *body) {
	if !r.job.Verify || r.job.DryRun {
		return
	}
	if k, ok := b.key(); ok {
		r.proof.heard(f.p.Source, f.sel.UIDValidity, uid, k)
	}
}

// matched is what match makes of a folder.
type matched struct {
	expected, verified, deleted, still, flagsBehind int
	missing, duplicates, excluded                   []Finding
	// removable are the duplicates safe to remove (see match).
	removable []uint32
	// forget are the missing messages whose record names a destination
	// UID that is no longer there: their records go, so the next pass
	// copies them. A missing message whose recorded UID is still there
	// (with another Message-ID) or that has no UID recorded keeps its
	// record: copying it again could make a duplicate.
	forget []uint32
}

// match compares the messages the copy listed (led, with their headers at
// the source now in srcOf and the checkpoint st) with the destination
// folder's messages dstHs. A destination message stands for at most one
// source message: first the one its checkpoint names (same Message-ID and
// size at that UID), else the first with the same Message-ID, size and
// INTERNALDATE. failed gives the code of the messages the copy failed.
//
// A destination message no source message claims is a duplicate when it
// is identical (a real Message-ID, size, INTERNALDATE) to one that does
// and no checkpoint names it. It is removable when its flags are among
// the other's too: removing it loses nothing the customer set on it.
func match(p FolderPlan, led map[uint32]entry, st FolderState, srcOf map[uint32]header, dstHs []header, failed map[uint32]string) matched {
	var out matched
	byUID := make(map[uint32]header, len(dstHs))
	byKey := map[string][]header{}
	for _, h := range dstHs {
		byUID[h.uid] = h
		byKey[h.key] = append(byKey[h.key], h)
	}
	recorded := make(map[uint32]bool, len(st.Messages))
	for _, rec := range st.Messages {
		if rec.DestUID != 0 {
			recorded[rec.DestUID] = true
		}
	}
	used := map[uint32]uint32{} // destination UID → the source UID it stands for
	uids := make([]uint32, 0, len(led))
	for uid := range led {
		uids = append(uids, uid)
	}
	slices.Sort(uids)
	finding := func(e entry, reason string) Finding {
		from, subject, date := srcOf[e.m.uid].shown()
		f := Finding{UID: e.m.uid, Size: e.m.size, Date: date, From: from, Subject: subject, Reason: reason}
		if f.Date.IsZero() {
			f.Date = e.m.date
		}
		return f
	}
	var tooLarge []entry
	for _, uid := range uids {
		e := led[uid]
		h, there := srcOf[uid]
		rec, isRec := st.Messages[uid]
		switch {
		case e.f == fateGone || e.f == 0:
			continue
		case !there:
			continue // expunged at the source since the copy: nothing to hold
		case e.f == fateTooLarge:
			tooLarge = append(tooLarge, e)
			continue
		case e.f == fateFailed:
			out.expected++
			out.missing = append(out.missing, finding(e, failed[uid]))
			continue
		case e.f == fateAlready && p.OnlyUnlabelled && !isRec:
			continue // Gmail: brought through its labels, not into this folder
		}
		// The checkpoint's UID holding the same Message-ID is the message:
		// our own record of the destination's APPENDUID. Its size is not
		// compared with the source's, which some servers estimate.
		d := uint32(0)
		recThere := false
		if isRec && rec.DestUID != 0 {
			x, ok := byUID[rec.DestUID]
			recThere = ok
			if ok && used[x.uid] == 0 && x.key == h.key {
				d = x.uid
			}
		}
		if d == 0 {
			for _, x := range byKey[h.key] {
				if used[x.uid] == 0 && x.size == e.m.size && sameInstant(x.internal, e.m.date) {
					d = x.uid
					break
				}
			}
		}
		earlier := isRec && rec.Earlier
		switch {
		case d != 0:
			used[d] = uid
			if earlier {
				out.still++
			} else {
				out.expected++
				out.verified++
			}
			if isRec && !equalFlags(rec.Flags, e.m.flags) {
				out.flagsBehind++
			}
		case earlier:
			out.deleted++
		default:
			out.expected++
			out.missing = append(out.missing, finding(e, ReasonNotAtDest))
			if isRec && rec.DestUID != 0 && !recThere {
				// Gone from the destination (UIDs are never reused): the
				// next pass may copy it again.
				out.forget = append(out.forget, uid)
			}
		}
	}
	for _, e := range tooLarge {
		h := srcOf[e.m.uid]
		for _, x := range byKey[h.key] {
			if used[x.uid] == 0 && !recorded[x.uid] && x.size == e.m.size {
				used[x.uid] = e.m.uid
				out.excluded = append(out.excluded, finding(e, ReasonTooLarge))
				break
			}
		}
	}
	for _, x := range dstHs {
		if used[x.uid] != 0 || recorded[x.uid] || !strings.HasPrefix(x.key, "id:") {
			continue
		}
		for _, y := range byKey[x.key] {
			srcUID := used[y.uid]
			if srcUID == 0 || y.uid == x.uid || y.size != x.size || !sameInstant(y.internal, x.internal) {
				continue
			}
			e := led[srcUID]
			f := finding(e, "")
			f.DestUID = x.uid
			out.duplicates = append(out.duplicates, f)
			if subset(x.flags, y.flags) {
				out.removable = append(out.removable, x.uid)
			}
			used[x.uid] = srcUID // one duplicate counts once
			break
		}
	}
	sort.Slice(out.duplicates, func(i, j int) bool { return out.duplicates[i].DestUID < out.duplicates[j].DestUID })
	return out
}

// subset reports whether every flag of a is in b.
func subset(a, b []string) bool {
	for _, f := range a {
		if !slices.ContainsFunc(b, func(g string) bool { return strings.EqualFold(f, g) }) {
			return false
		}
	}
	return true
}

// repair removes the duplicates uids from the destination folder: UID
// STORE +FLAGS (\Deleted) then UID EXPUNGE of exactly those UIDs (UIDPLUS),
// never a plain EXPUNGE, which would also remove what the customer marked
// deleted. Without UIDPLUS nothing is removed. It returns how many are
// gone, by a UID SEARCH afterwards.
func (r *runner) repair(p FolderPlan, dst *session, uids []uint32) (int, error) {
	if len(uids) == 0 {
		return 0, nil
	}
	if !dst.caps.Has(imap.CapUIDPlus) && !dst.caps.Has(imap.CapIMAP4rev2) {
		r.t.event(slog.LevelWarn, p.Source, "log.verify.no_uidplus", len(uids))
		return 0, nil
	}
	to := r.job.Timeouts
	var set imap.UIDSet
	for _, u := range uids {
		set.AddNum(imap.UID(u))
	}
	if err := dst.do("SELECT", to.Command, func() error {
		_, err := dst.c.Select(p.Dest, nil).Wait()
		return err
	}); err != nil {
		return 0, asFolderError(err)
	}
	defer dst.do("UNSELECT", to.Command, func() error { return unselect(dst) })
	if err := dst.do("STORE", to.Command, func() error {
		return dst.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
	}); err != nil {
		return 0, asFolderError(err)
	}
	if err := dst.do("UID EXPUNGE", to.Command, func() error { return dst.c.UIDExpunge(set).Close() }); err != nil {
		return 0, asFolderError(err)
	}
	var left []imap.UID
	if err := dst.do("UID SEARCH", to.Command, func() error {
		data, err := dst.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, nil).Wait()
		if err == nil {
			left = data.AllUIDs()
		}
		return err
	}); err != nil {
		return 0, err
	}
	removed := len(uids) - len(left)
	r.t.event(slog.LevelInfo, p.Source, "log.verify.removed", removed, p.Dest, fmt.Sprint(uids[:min(len(uids), 20)]))
	return removed, nil
}

// reasonsOf are the codes of the messages of folder the copy failed.
func (t *tally) reasonsOf(folder string) map[uint32]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[uint32]string{}
	for uid, v := range t.decided[folder] {
		if v.fate == fateFailed {
			out[uid] = v.code
		}
	}
	return out
}
