package transfer

import "sync"

// FolderFigures are one folder's numbers in one Run, reported once at the
// folder's end (FolderReporter): what the old server held and what became
// of each message. A folder not copied has only its names and Excluded.
type FolderFigures struct {
	Source string `json:"source"`
	Dest   string `json:"dest,omitempty"`
	// Excluded is why the folder was not copied (ExclTrash, …, or
	// ExclFailed); empty when it was.
	Excluded string `json:"excluded,omitempty"`
	// Messages and Bytes are what the metadata FETCH listed at the source.
	Messages     int   `json:"messages"`
	Bytes        int64 `json:"bytes"`
	Copied       int   `json:"copied"`
	AlreadyThere int   `json:"already_there"`
	TooLarge     int   `json:"too_large"`
	Failed       int   `json:"failed"`
	Gone         int   `json:"gone"`
}

// ExclFailed is the Excluded of a folder that could not be copied at all
// (it cannot be selected at the source or created at the destination).
const ExclFailed = "failed"

// FolderReporter is what a Reporter may also be to receive the figures of
// every folder at its end and, with Job.Verify, the verification of every
// folder. The calls are keyed by source folder: several folders of one Run
// may be reported in any order, and a folder again in a later attempt.
type FolderReporter interface {
	FolderDone(FolderFigures)
	FolderVerified(FolderCheck)
}

// proof is what a Run keeps for its figures and its verification: per
// source folder, the messages the copy listed and the fate of each. Safe
// from any goroutine: several folders may end at once.
type proof struct {
	mu   sync.Mutex
	seen map[string]map[uint32]entry
	// read are, per source folder, the keys of the messages whose bodies
	// this Run read (see runner.heard).
	read map[string]*readKeys
}

// readKeys are the keys of a folder's messages read by the copy, under
// the source UIDVALIDITY they were read with.
type readKeys struct {
	uv   uint32
	keys map[uint32]string
}

// heard keeps the key of the message uid of folder (UIDVALIDITY uv) from
// its header.
func (p *proof) heard(folder string, uv, uid uint32, key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.read == nil {
		p.read = map[string]*readKeys{}
	}
	rk := p.read[folder]
	if rk == nil || rk.uv != uv {
		rk = &readKeys{uv: uv, keys: map[uint32]string{}}
		p.read[folder] = rk
	}
	rk.keys[uid] = key
}

// readOf are the keys of folder's messages read under UIDVALIDITY uv;
// none when it was renumbered since.
func (p *proof) readOf(folder string, uv uint32) map[uint32]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rk := p.read[folder]; rk != nil && rk.uv == uv && uv != 0 {
		return rk.keys
	}
	return nil
}

// forgetRead lets the keys of folder go, once it is verified.
func (p *proof) forgetRead(folder string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.read, folder)
}

func (p *proof) keep(folder string, led map[uint32]entry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen == nil {
		p.seen = map[string]map[uint32]entry{}
	}
	p.seen[folder] = led
}

func (p *proof) ledger(folder string) (map[uint32]entry, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	led, ok := p.seen[folder]
	return led, ok
}

func (r *runner) folderReporter() FolderReporter {
	fr, _ := r.job.Reporter.(FolderReporter)
	return fr
}

// folderEnd reports the figures of folder p, whose ledger is closed, and
// keeps its ledger for the verification.
func (r *runner) folderEnd(p FolderPlan) {
	led := r.t.ledgerOf(p.Source)
	r.proof.keep(p.Source, led)
	fig := FolderFigures{Source: p.Source, Dest: p.Dest, Messages: len(led)}
	for _, e := range led {
		fig.Bytes += e.m.size
		switch e.f {
		case fateCopied:
			fig.Copied++
		case fateAlready:
			fig.AlreadyThere++
		case fateTooLarge:
			fig.TooLarge++
		case fateGone:
			fig.Gone++
		case fateFailed:
			fig.Failed++
		}
	}
	if fr := r.folderReporter(); fr != nil && !r.job.DryRun {
		r.t.locked(func() { fr.FolderDone(fig) })
	}
}

// folderSkipped reports a folder the Run did not copy, and why.
func (r *runner) folderSkipped(p FolderPlan, why string) {
	if fr := r.folderReporter(); fr != nil && !r.job.DryRun {
		r.t.locked(func() { fr.FolderDone(FolderFigures{Source: p.Source, Dest: p.Dest, Excluded: why}) })
	}
}

// ledgerOf is a copy of the ledger of folder (the one open).
func (t *tally) ledgerOf(folder string) map[uint32]entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[uint32]entry, len(t.ledger))
	if t.folder != folder {
		return out
	}
	for uid, e := range t.ledger {
		out[uid] = e
	}
	return out
}

// locked calls f under the tally's lock, so the Reporter sees one call at
// a time.
func (t *tally) locked(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f()
}
