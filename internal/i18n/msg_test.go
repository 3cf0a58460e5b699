package i18n

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMsgRendersInEachLanguage: one stored message reads in Italian and in
// English, its arguments shown the reader's way by the verb that takes
// them, and survives its JSON form unchanged.
func TestMsgRendersInEachLanguage(t *testing.T) {
	t.Parallel()
	m := New("log.folder.done", "Archivio/2024", 4632, 4000, 600, 2, 0, 30)
	for _, got := range []Msg{m, roundTrip(t, m)} {
		require.Equal(t, `cartella copiata in "Archivio/2024": 4.632 messaggi, 4.000 copiati, 600 già presenti, 2 troppo grandi, 0 spariti dal vecchio server, 30 non riusciti`, got.Text(Italian))
		require.Equal(t, `folder done into "Archivio/2024": 4,632 messages, 4,000 copied, 600 already there, 2 too large, 0 gone from the source, 30 failed`, got.Text(English))
	}
	// %d takes a number as it is (a UID is not grouped), %s a size the
	// reader's way, a Day the local way; an error is its text.
	day := time.Date(2024, 3, 9, 23, 0, 0, 0, time.UTC)
	m = New("log.append.refused", uint32(12345), Size(1536), Day(day), errors.New("Keyword length too long"))
	for _, got := range []Msg{m, roundTrip(t, m)} {
		require.Equal(t, "messaggio UID 12345 (1,5 KB, 09/03/2024) rifiutato dal nostro server: Keyword length too long", got.Text(Italian))
		require.Equal(t, "message UID 12345 (1.5 KB, 2024-03-09) refused by the destination: Keyword length too long", got.Text(English))
	}
	// A message inside a message, and a list of them.
	m = New("csv.line", 3, List{New("csv.remote_user.empty"), New("csv.password.empty")})
	got := roundTrip(t, m)
	require.Equal(t, "Riga 3: manca l'utente remoto (terzo campo); manca la password (quarto campo); può mancare solo se indichi un Master User", got.Text(Italian))
	require.Equal(t, []string{"csv.line", "csv.remote_user.empty", "csv.password.empty"}, got.Keys())
	m = New("log.run.retrying", New("run.dest_unavailable"), 1, 4, 90*time.Second)
	require.Equal(t, "our mail server does not answer: the copy will resume by itself — trying again (1 of 4) in 1 min 30 s", roundTrip(t, m).Text(English))
}

func TestMsgExplicitIndexes(t *testing.T) {
	t.Parallel()
	require.Equal(t, []byte{'s', 'd', 's'}, verbsByArg("%[2]d %[1]s %s", 3))
	require.Equal(t, []byte{'d', 's'}, verbsByArg("100%% %5d %-3s", 2))
	require.Equal(t, []byte{'q', 's'}, verbsByArg("%q", 2))
}

// TestRenderOldRow: a reason stored before codes (text only) is shown as
// it was stored, in whatever language; an unknown key shows itself.
func TestRenderOldRow(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Riga 2: testo di prima", Render(English, Msg{}, "Riga 2: testo di prima"))
	require.Equal(t, "no.such.key 3 x", New("no.such.key", 3, "x").Text(Italian))
	m, err := ParseMsg(nil)
	require.NoError(t, err)
	require.True(t, m.IsZero())
	require.Nil(t, Msg{}.JSON())
}

func TestMsgMapText(t *testing.T) {
	t.Parallel()
	m := New("log.run.retrying", New("log.text", "pw secret"), 1, 2, time.Second)
	clean := m.MapText(func(s string) string { return s[:2] })
	require.Equal(t, "pw", clean.Args[0].M[0].Args[0].S)
	require.Equal(t, "pw secret", m.Args[0].M[0].Args[0].S, "the original is left alone")
}

func roundTrip(t *testing.T, m Msg) Msg {
	t.Helper()
	b := m.JSON()
	require.True(t, json.Valid(b))
	got, err := ParseMsg(b)
	require.NoError(t, err)
	return got
}

func TestForeignSentences(t *testing.T) {
	t.Parallel()
	it := New("log.folder.done", "INBOX", 3, 3, 0, 0, 0, 0).Text(Italian)
	en := New("log.folder.done", "INBOX", 3, 3, 0, 0, 0, 0).Text(English)
	require.Empty(t, ForeignSentences(it, Italian))
	require.Empty(t, ForeignSentences(en, English))
	require.Contains(t, ForeignSentences(en, Italian), "already there")
	require.Contains(t, ForeignSentences(it, English), "spariti dal vecchio server")
}
