package testenv

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"mime"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
)

// Msg is one test message: its bytes as the server will store them, the
// flags and the internal date to APPEND it with.
type Msg struct {
	Raw   []byte
	Flags []imap.Flag
	Date  time.Time
}

// corpus vocabulary; accented names and subjects exercise encoded-words.
var (
	corpusPeople = []string{
		"Anna Rossi", "Niccolò Bianchi", "Zoë Müller", "Luca Ferrari", "François Dupont",
		"Giulia Esposito", "José Martínez", "Marco Russo", "Søren Jørgensen", "Chiara Romano",
	}
	corpusSubjects = []string{
		"Fattura n. %d", "Riunione di venerdì", "Re: preventivo %d", "Perché il server è lento?",
		"Weekly report #%d", "Auguri di buon compleanno!", "Conferma d'ordine %d", "Übersicht der Aufgaben",
		"Fwd: documenti per la pratica %d", "Città e attività: aggiornamento",
	}
	corpusWords = strings.Fields("il la di che è per un una con non sono al più come ma anche " +
		"migrazione posta casella server messaggio allegato fattura cliente riunione progetto " +
		"domani oggi grazie saluti cordiali città perché già però così attività società")
	corpusKeywords = []imap.Flag{"$Label1", "$Label2", "$Label3", "Importante"}
	// corpusZone is the time zone of the Date header and the internal date.
	corpusZone = time.FixedZone("CET", 3600)
	corpusBase = time.Date(2022, 1, 3, 8, 0, 0, 0, corpusZone)
)

// BuildMessage returns message i of the corpus identified by seed, about
// size bytes long (never much less than a minimal message). The same
// (seed, i, size) always gives the same bytes, flags and date. Messages are
// RFC 5322 with CRLF line ends, a unique Message-ID, From, To, Subject (some
// with accents, as encoded-words) and Date; small ones are text/plain,
// larger ones mostly multipart/mixed with a base64 attachment. Flags vary:
// \Seen, \Answered, \Flagged and keywords such as $Label1.
func BuildMessage(seed int64, i int, size int) Msg {
	r := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
	date := corpusBase.Add(time.Duration(r.IntN(2*365*24*60)) * time.Minute).Add(time.Duration(r.IntN(60)) * time.Second)

	from := corpusPeople[r.IntN(len(corpusPeople))]
	to := corpusPeople[r.IntN(len(corpusPeople))]
	subject := corpusSubjects[r.IntN(len(corpusSubjects))]
	if strings.Contains(subject, "%d") {
		subject = fmt.Sprintf(subject, 1000+r.IntN(9000))
	}

	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("Message-ID", fmt.Sprintf("<corpus-%d-%d-%08x@trasloco.test>", seed, i, r.Uint32()))
	header("Date", date.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	header("From", address(from))
	header("To", address(to))
	header("Subject", mime.QEncoding.Encode("utf-8", subject))
	header("MIME-Version", "1.0")

	multipart := size > 4096 && r.IntN(4) != 0
	if !multipart {
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", "8bit")
		b.WriteString("\r\n")
		writeText(&b, r, size-b.Len())
	} else {
		boundary := fmt.Sprintf("=_trasloco_%d_%d", seed, i)
		header("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
		b.WriteString("\r\nThis is a multi-part message in MIME format.\r\n")
		b.WriteString("--" + boundary + "\r\n")
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
		writeText(&b, r, 200+r.IntN(800))
		b.WriteString("--" + boundary + "\r\n")
		name := fmt.Sprintf("allegato-%d.bin", i)
		b.WriteString("Content-Type: application/octet-stream; name=\"" + name + "\"\r\n")
		b.WriteString("Content-Disposition: attachment; filename=\"" + name + "\"\r\n")
		b.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
		closing := "--" + boundary + "--\r\n"
		// base64 of n bytes is 4n/3 characters plus CRLF every 76.
		room := size - b.Len() - len(closing)
		n := room * 57 / 78
		if n < 1 {
			n = 1
		}
		writeBase64(&b, r, n)
		b.WriteString(closing)
	}

	return Msg{Raw: b.Bytes(), Flags: corpusFlags(r), Date: date}
}

// address formats a display name and an address derived from it.
func address(name string) string {
	local := strings.ToLower(strings.Fields(name)[0])
	return mime.QEncoding.Encode("utf-8", name) + " <" + asciiOnly(local) + "@acme.test>"
}

func asciiOnly(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c < 128 {
			b.WriteRune(c)
		} else {
			b.WriteByte('x')
		}
	}
	return b.String()
}

// writeText writes lines of words until about n bytes are written (at least
// one line).
func writeText(b *bytes.Buffer, r *rand.Rand, n int) {
	written := 0
	for {
		var line strings.Builder
		for line.Len() < 60 {
			if line.Len() > 0 {
				line.WriteByte(' ')
			}
			line.WriteString(corpusWords[r.IntN(len(corpusWords))])
		}
		line.WriteString("\r\n")
		b.WriteString(line.String())
		written += line.Len()
		if written >= n {
			return
		}
	}
}

// writeBase64 writes n pseudo-random bytes in base64, 76 characters a line.
func writeBase64(b *bytes.Buffer, r *rand.Rand, n int) {
	raw := make([]byte, n)
	for j := 0; j < n; j += 8 {
		v := r.Uint64()
		for k := 0; k < 8 && j+k < n; k++ {
			raw[j+k] = byte(v >> (8 * k))
		}
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
}

// corpusFlags picks the flags of one message.
func corpusFlags(r *rand.Rand) []imap.Flag {
	flags := []imap.Flag{}
	if r.IntN(10) < 7 {
		flags = append(flags, imap.FlagSeen)
	}
	if r.IntN(5) == 0 {
		flags = append(flags, imap.FlagAnswered)
	}
	if r.IntN(10) == 0 {
		flags = append(flags, imap.FlagFlagged)
	}
	if r.IntN(8) == 0 {
		flags = append(flags, corpusKeywords[r.IntN(len(corpusKeywords))])
	}
	return flags
}
