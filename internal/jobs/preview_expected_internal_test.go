package jobs

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The engine's total before the first body comes from the line's test
// login when it counted every folder to copy, the messages over the size
// limit included (STATUS counts them too).
func TestPreviewExpected(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		preview string
		want    int
	}{
		{"not measured", "", 0},
		{"unreadable", "{", 0},
		{"counted", `{"folders":8,"messages":18,"bytes":500000,"too_large":2}`, 20},
		{"empty", `{"folders":1,"messages":0}`, 0},
		{"gmail all mail not counted", `{"folders":5,"messages":40,"partial":true}`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, previewExpected([]byte(tc.preview)))
		})
	}
}
