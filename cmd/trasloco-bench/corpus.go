package main

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/trasloco/trasloco/internal/testenv"
)

// corpusFolder is one folder of the source mailbox.
type corpusFolder struct {
	// Name is the full source name (delimiter ".", prefix "INBOX.").
	Name string
	// Weight is the share of the messages that land here.
	Weight int
	// Copied says whether trasloco is expected to copy the folder; Trash
	// and Junk are not copied, and the other tools are configured alike.
	Copied bool
}

// corpusFolders are the ten folders of every benchmark mailbox: accented and
// spaced names, a special-use Sent, nested folders, and Trash and Junk, which
// must not be copied. The source server also has an empty INBOX.Bulk (\Junk).
var corpusFolders = []corpusFolder{
	{"INBOX", 30, true},
	{"INBOX.Sent", 14, true},
	{"INBOX.Posta inviata", 8, true},
	{"INBOX.Clienti", 8, true},
	{"INBOX.Clienti.Società", 10, true},
	{"INBOX.Fatture 2024", 10, true},
	{"INBOX.Progetti.Attività già svolte", 6, true},
	{"INBOX.Archivio.2023", 6, true},
	{"INBOX.Trash", 5, false},
	{"INBOX.Junk", 3, false},
}

// excludedNames are the relative names of the source folders no tool may
// copy (INBOX.Bulk is the source's \Junk folder).
var excludedNames = []string{"Trash", "Junk", "Bulk"}

// relName maps a source folder name to the name every tool is expected to
// give it at the destination: "INBOX.Clienti.Società" → "Clienti/Società",
// "INBOX" → "INBOX".
func relName(src string) string {
	if src == "INBOX" {
		return "INBOX"
	}
	return strings.ReplaceAll(strings.TrimPrefix(src, "INBOX."), ".", "/")
}

// corpusSpec identifies one generated mailbox.
type corpusSpec struct {
	Seed     int64
	Messages int
}

// plannedMessage is where message i of a corpus goes and how big it is.
type plannedMessage struct {
	Index  int
	Folder int // index into corpusFolders
	Size   int
}

// Large messages: about 1 % of the corpus, 1–5 MB each.
const (
	largeShare = 0.01
	minLarge   = 1 << 20
	maxLarge   = 5 << 20
)

// plan decides, deterministically from the seed, the folder and size of every
// message: sizes log-normal around 20 KB (2–200 KB) and a 1 % tail of 1–5 MB
// attachments. No message exceeds 30 MB, so every message of a copied folder
// must arrive.
func (c corpusSpec) plan() []plannedMessage {
	total := 0
	for _, f := range corpusFolders {
		total += f.Weight
	}
	out := make([]plannedMessage, c.Messages)
	for i := range out {
		r := rand.New(rand.NewPCG(uint64(c.Seed)^0x7472617363, uint64(i)))
		w := r.IntN(total)
		folder := 0
		for j, f := range corpusFolders {
			if w < f.Weight {
				folder = j
				break
			}
			w -= f.Weight
		}
		var size int
		if r.Float64() < largeShare {
			size = minLarge + r.IntN(maxLarge-minLarge)
		} else {
			size = int(20_000 * math.Exp(r.NormFloat64()*0.6))
			size = min(max(size, 2_000), 200_000)
		}
		out[i] = plannedMessage{Index: i, Folder: folder, Size: size}
	}
	return out
}

// corpusStats summarises a planned corpus.
type corpusStats struct {
	Messages, CopiedMessages int
	Bytes, CopiedBytes       int64
	Large                    int
}

func (c corpusSpec) stats() corpusStats {
	var s corpusStats
	for _, m := range c.plan() {
		s.Messages++
		s.Bytes += int64(m.Size)
		if m.Size >= minLarge {
			s.Large++
		}
		if corpusFolders[m.Folder].Copied {
			s.CopiedMessages++
			s.CopiedBytes += int64(m.Size)
		}
	}
	return s
}

// seed appends the corpus to user's mailbox on the source server over conns
// connections in parallel. Messages keep their order within a folder only
// per batch; the checks match messages by Message-ID, not by position.
func (c corpusSpec) seed(src *testenv.Dovecot, user, password string, conns int) error {
	byFolder := make([][]plannedMessage, len(corpusFolders))
	for _, m := range c.plan() {
		byFolder[m.Folder] = append(byFolder[m.Folder], m)
	}
	// Create every folder first (parents before children), so empty ones
	// exist too and the listing is the same for every tool.
	cl, err := src.Connect(user, password)
	if err != nil {
		return err
	}
	for _, f := range corpusFolders {
		if err := testenv.AppendMessages(cl, f.Name); err != nil {
			cl.Close()
			return fmt.Errorf("seed %s: %w", user, err)
		}
	}
	cl.Close()

	// Batches of up to 50 messages of one folder, spread over conns
	// connections; batches amortise AppendMessages' LIST of the folder.
	type batch struct {
		folder int
		msgs   []plannedMessage
	}
	work := make(chan batch)
	errs := make([]error, conns)
	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() {
			cl, err := src.Connect(user, password)
			if err != nil {
				errs[w] = err
				for range work {
				}
				return
			}
			defer cl.Close()
			for b := range work {
				if errs[w] != nil {
					continue
				}
				msgs := make([]testenv.Msg, len(b.msgs))
				for k, m := range b.msgs {
					msgs[k] = testenv.BuildMessage(c.Seed, m.Index, m.Size)
				}
				if err := testenv.AppendMessages(cl, corpusFolders[b.folder].Name, msgs...); err != nil {
					errs[w] = fmt.Errorf("seed %s: %w", user, err)
				}
			}
		})
	}
	for fi, ms := range byFolder {
		for len(ms) > 0 {
			n := min(len(ms), 50)
			work <- batch{fi, ms[:n]}
			ms = ms[n:]
		}
	}
	close(work)
	wg.Wait()
	return errors.Join(errs...)
}
