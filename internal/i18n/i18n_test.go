package i18n

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Lang{
		"": Italian, "it": Italian, "IT": Italian, "en": English, " EN ": English,
		"en-GB": English, "en_US": English, "de": Italian, "english": Italian,
	} {
		require.Equal(t, want, Parse(in), "%q", in)
	}
}

func TestFromAcceptLanguage(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Lang{
		"":                              Italian,
		"en":                            English,
		"en-US,en;q=0.9":                English,
		"it-IT,it;q=0.9,en;q=0.8":       Italian,
		"de,en;q=0.5,it;q=0.7":          Italian,
		"de,fr;q=0.5,en;q=0.3":          English,
		"fr":                            Italian,
		"en;q=0":                        Italian,
		"en;q=0.2, it;q=0.1":            English,
		"*":                             Italian,
		"en;q=bogus,it":                 Italian,
		"EN-gb;Q=0.8":                   English,
		"  en-gb ; q=0.8 , it ; q=0.5 ": English,
	} {
		require.Equal(t, want, FromAcceptLanguage(in), "%q", in)
	}
}

func TestT(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Riga 3: manca l'utente remoto (terzo campo)",
		T(Italian, "csv.line", 3, T(Italian, "csv.remote_user.empty")))
	require.Equal(t, "Line 3: the remote user (third field) is missing",
		T(English, "csv.line", 3, T(English, "csv.remote_user.empty")))
	require.Equal(t, "no.such.key", T(English, "no.such.key", 1, 2))
	require.True(t, Has("csv.line"))
	require.False(t, Has("no.such.key"))
}

// TestCatalogsComplete guards against a message missing its English text, a
// key in both catalogs, or formats whose verbs differ between languages.
func TestCatalogsComplete(t *testing.T) {
	t.Parallel()
	for key, m := range csvCatalog {
		_, dup := webCatalog[key]
		require.False(t, dup, "%s is in both catalogs", key)
		require.NotEmpty(t, m.IT, key)
		require.NotEmpty(t, m.EN, key)
		require.Equal(t, verbs(m.IT), verbs(m.EN), key)
	}
}

func verbs(s string) []string {
	var out []string
	for i := 0; i < len(s)-1; i++ {
		if s[i] == '%' {
			out = append(out, s[i:i+2])
			i++
		}
	}
	return out
}

func TestFallbackToItalian(t *testing.T) {
	t.Parallel()
	require.Equal(t, "x", Message{IT: "x"}.text(English))
	require.True(t, strings.HasPrefix(T(Lang("fr"), "csv.line", 1, "x"), "Riga 1"))
}

// TestEveryCatalogComplete checks every catalog T reads (catalogs), so a
// new one is checked without a test of its own: both languages, the same
// format verbs in each, and a key in one catalog only (T would find the
// first).
func TestEveryCatalogComplete(t *testing.T) {
	t.Parallel()
	where := map[string]string{}
	for _, c := range catalogs {
		require.NotEmpty(t, c.msgs, c.name)
		for key, m := range c.msgs {
			if other, dup := where[key]; dup {
				t.Errorf("%s is in the %s and the %s catalog", key, other, c.name)
			}
			where[key] = c.name
			require.NotEmpty(t, m.IT, "%s (%s)", key, c.name)
			require.NotEmpty(t, m.EN, "%s (%s)", key, c.name)
			require.Equal(t, verbs(m.IT), verbs(m.EN), "%s (%s)", key, c.name)
		}
	}
}
