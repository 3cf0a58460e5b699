package auth_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/auth"
)

// fast keeps the tests quick; the format and logic are the same.
var fast = auth.Params{Time: 1, MemoryKiB: 1024, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashAndCheck(t *testing.T) {
	t.Parallel()
	h, err := auth.HashPasswordWithParams("s3gret€", fast)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$"), h)
	require.NotContains(t, h, "s3gret")

	ok, err := auth.CheckPassword(h, "s3gret€")
	require.NoError(t, err)
	require.True(t, ok)
	for _, wrong := range []string{"", "s3gret", "S3gret€", "s3gret€ "} {
		ok, err := auth.CheckPassword(h, wrong)
		require.NoError(t, err)
		require.False(t, ok, wrong)
	}

	h2, err := auth.HashPasswordWithParams("s3gret€", fast)
	require.NoError(t, err)
	require.NotEqual(t, h, h2, "same salt twice")
}

func TestHashDefaultParams(t *testing.T) {
	t.Parallel()
	h, err := auth.HashPassword("pw")
	require.NoError(t, err)
	require.Contains(t, h, "$m=65536,t=3,p=4$")
	require.False(t, auth.NeedsRehash(h, auth.DefaultParams()))
	require.True(t, auth.NeedsRehash(h, fast))
}

func TestHashRefuses(t *testing.T) {
	t.Parallel()
	_, err := auth.HashPasswordWithParams("", fast)
	require.Error(t, err)
	_, err = auth.HashPasswordWithParams(strings.Repeat("x", 1025), fast)
	require.Error(t, err)
}

func TestCheckMalformed(t *testing.T) {
	t.Parallel()
	good, err := auth.HashPasswordWithParams("pw", fast)
	require.NoError(t, err)
	parts := strings.Split(good, "$")
	tests := []struct{ name, hash string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuv"},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"old version", strings.Replace(good, "v=19", "v=16", 1)},
		{"absurd memory", strings.Replace(good, "m=1024", "m=999999999", 1)},
		{"zero time", strings.Replace(good, "t=1", "t=0", 1)},
		{"bad salt", strings.Join(append(parts[:4:4], "!!!", parts[5]), "$")},
		{"short key", strings.Join(append(parts[:5:5], "AAAA"), "$")},
		{"missing part", strings.Join(parts[:5], "$")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := auth.CheckPassword(tt.hash, "pw")
			require.ErrorIs(t, err, auth.ErrMalformedHash)
		})
	}
}
