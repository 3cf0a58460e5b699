package secret_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/secret"
)

func setup(t *testing.T) *secret.Box {
	t.Helper()
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, secret.KeySize))
	require.NoError(t, err)
	return box
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	box := setup(t)
	plain := []byte("correct horse battery staple")

	sealed, err := box.Seal(plain, []byte("line:1"))
	require.NoError(t, err)
	require.False(t, bytes.Contains(sealed, plain), "ciphertext contains the plaintext")
	require.False(t, bytes.Contains(sealed, []byte("horse")), "ciphertext contains part of the plaintext")

	got, err := box.Open(sealed, []byte("line:1"))
	require.NoError(t, err)
	require.Equal(t, plain, got)
}

func TestSealUsesFreshNonce(t *testing.T) {
	t.Parallel()
	box := setup(t)
	a, err := box.Seal([]byte("pw"), nil)
	require.NoError(t, err)
	b, err := box.Seal([]byte("pw"), nil)
	require.NoError(t, err)
	require.NotEqual(t, a, b)
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	box := setup(t)
	sealed, err := box.Seal([]byte("secret password"), []byte("line:1"))
	require.NoError(t, err)

	other, err := secret.NewBox(bytes.Repeat([]byte{8}, secret.KeySize))
	require.NoError(t, err)

	tests := []struct {
		name   string
		box    *secret.Box
		sealed func() []byte
		ad     []byte
	}{
		{"flipped ciphertext bit", box, func() []byte { s := bytes.Clone(sealed); s[15] ^= 1; return s }, []byte("line:1")},
		{"flipped nonce bit", box, func() []byte { s := bytes.Clone(sealed); s[0] ^= 1; return s }, []byte("line:1")},
		{"flipped tag bit", box, func() []byte { s := bytes.Clone(sealed); s[len(s)-1] ^= 1; return s }, []byte("line:1")},
		{"truncated", box, func() []byte { return sealed[:len(sealed)-1] }, []byte("line:1")},
		{"too short", box, func() []byte { return sealed[:5] }, []byte("line:1")},
		{"empty", box, func() []byte { return nil }, []byte("line:1")},
		{"other associated data", box, func() []byte { return sealed }, []byte("line:2")},
		{"other key", other, func() []byte { return sealed }, []byte("line:1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.box.Open(tt.sealed(), tt.ad)
			require.ErrorIs(t, err, secret.ErrOpen)
		})
	}
}

func TestNewBoxKeySize(t *testing.T) {
	t.Parallel()
	_, err := secret.NewBox(make([]byte, 16))
	require.ErrorContains(t, err, "16 bytes")
}
