package database

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int
		wantErr string
	}{
		{"sorted by version", fstest.MapFS{
			"010_b.up.sql": {Data: []byte("b")},
			"002_a.up.sql": {Data: []byte("a")},
		}, []int{2, 10}, ""},
		{"bad name", fstest.MapFS{"2_a.sql": {}}, nil, "not named NNN_name.up.sql"},
		{"duplicate version", fstest.MapFS{"001_a.up.sql": {}, "01_b.up.sql": {}}, nil, "share version 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ms, err := loadMigrations(tt.files)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestEmbeddedMigrations(t *testing.T) {
	t.Parallel()
	ms, err := Migrations()
	require.NoError(t, err)
	require.Equal(t, 1, ms[0].Version)
	require.Equal(t, "core", ms[0].Name)
}
