package transfer

import (
	"context"
	"crypto/sha256"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
)

// TestWriteOnlyAppendsEveryMessage: the benchmark's write-only rate
// appends every message to its folder, byte for byte with its flags and
// date, on two appenders sharing each folder, and says when one is refused.
func TestWriteOnlyAppendsEveryMessage(t *testing.T) {
	t.Parallel()
	_, dst := testenv.SharedDovecot(t)
	user := testenv.UniqueUser(t, "writeonly.test")
	require.NoError(t, dst.AddUser(user, "pw"))
	admin := dst.Dial(t, user+"*"+dst.MasterUser(), dst.MasterPassword())
	require.NoError(t, admin.Create("Clienti/Società", nil).Wait())
	e := Endpoint{Host: dst.PlainAddr(), TLS: TLSNone, User: user, AuthUser: dst.MasterUser(), Password: dst.MasterPassword()}

	folders := []MemoryFolder{{Name: "INBOX"}, {Name: "Clienti/Società"}}
	want := map[string]map[string]testenv.Stored{}
	for k, f := range folders {
		want[f.Name] = map[string]testenv.Stored{}
		for i := range 70 + 5*k {
			m := testenv.BuildMessage(int64(k+1), i, 2000+i*700)
			fl := make([]string, len(m.Flags))
			for j, f := range m.Flags {
				fl[j] = string(f)
			}
			folders[k].Messages = append(folders[k].Messages, MemoryMessage{Raw: m.Raw, Flags: fl, Date: m.Date})
			sorted := slices.Clone(fl)
			slices.Sort(sorted)
			want[f.Name][testenv.MessageID(m.Raw)] = testenv.Stored{Sum: sha256.Sum256(m.Raw), Flags: strings.Join(sorted, " "), Date: m.Date.UTC()}
		}
	}
	n, err := WriteOnly(context.Background(), e, Timeouts{}, 2, folders)
	require.NoError(t, err)
	require.Equal(t, 145, n)
	for _, f := range folders {
		got, err := testenv.ReadFolder(admin, f.Name)
		require.NoError(t, err)
		require.Len(t, got, len(want[f.Name]), f.Name)
		for id, w := range want[f.Name] {
			g, ok := got[id]
			require.True(t, ok, "%s: %s missing", f.Name, id)
			g.UID = 0
			require.Equal(t, w, g, "%s: %s", f.Name, id)
		}
	}

	// A folder that does not exist: the error says so, nothing is counted.
	n, err = WriteOnly(context.Background(), e, Timeouts{}, 1, []MemoryFolder{{Name: "Nowhere", Messages: folders[0].Messages[:3]}})
	require.Error(t, err)
	require.Zero(t, n)
}
