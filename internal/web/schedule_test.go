package web

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
)

func TestParseLocal(t *testing.T) {
	t.Parallel()
	rome, err := time.LoadLocation("Europe/Rome")
	require.NoError(t, err)
	tests := []struct {
		in      string
		want    string // RFC 3339, "" when an error is expected
		wantErr error
	}{
		{"2030-06-01T10:30", "2030-06-01T10:30:00+02:00", nil},
		{"2030-01-15T10:30", "2030-01-15T10:30:00+01:00", nil},
		{"2030-01-15T10:30:45", "2030-01-15T10:30:45+01:00", nil},
		{"2030-01-15 10:30", "2030-01-15T10:30:00+01:00", nil},
		// 31 March 2030: 02:00-03:00 does not exist in Rome.
		{"2030-03-31T02:30", "", errNoSuchTime},
		{"2030-03-31T03:00", "2030-03-31T03:00:00+02:00", nil},
		// 27 October 2030: 02:30 happens twice; the first (summer time) wins.
		{"2030-10-27T02:30", "2030-10-27T02:30:00+02:00", nil},
		{"2030-04-31T10:00", "", errBadDateTime},
		{"2030-01-15", "", errBadDateTime},
		{"15/01/2030 10:30", "", errBadDateTime},
		{"2030-01-15T24:00", "", errBadDateTime},
		{"", "", errBadDateTime},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseLocal(tt.in, rome)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got.Format(time.RFC3339))
		})
	}
}

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	rome, err := time.LoadLocation("Europe/Rome")
	require.NoError(t, err)
	now := time.Date(2030, 1, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		first, second string
		wantErrs      map[string]string // field -> catalog key
		wantGap       time.Duration     // second - first, when valid
	}{
		{"first only", "2030-02-01T09:00", "", nil, 0},
		{"first missing", "", "", map[string]string{"first_run_at": "web.schedule.first_required"}, 0},
		{"first in the past", "2030-01-10T12:59", "", map[string]string{"first_run_at": "web.schedule.first_past"}, 0}, // 11:59 UTC
		{"first just ahead", "2030-01-10T13:01", "", nil, 0},
		{"second 23h later", "2030-02-01T09:00", "2030-02-02T08:00", nil, 23 * time.Hour},
		{"second 23h01 later", "2030-02-01T09:00", "2030-02-02T08:01", map[string]string{"second_run_at": "web.schedule.second_too_late"}, 0},
		{"second before first", "2030-02-01T09:00", "2030-02-01T08:00", map[string]string{"second_run_at": "web.schedule.second_before_first"}, 0},
		{"second equal to first", "2030-02-01T09:00", "2030-02-01T09:00", map[string]string{"second_run_at": "web.schedule.second_before_first"}, 0},
		{"second without a valid first", "nonsense", "2030-02-01T09:00", map[string]string{"first_run_at": "web.schedule.bad_time"}, 0},
		// Spring forward: 00:00 to 23:30 on the wall clock is 22h30 of real time.
		{"DST spring: 23h30 wall clock is 22h30", "2030-03-31T00:00", "2030-03-31T23:30", nil, 22*time.Hour + 30*time.Minute},
		// Fall back: 00:00 to 22:30 on the wall clock is 23h30 of real time.
		{"DST autumn: 22h30 wall clock is 23h30", "2030-10-27T00:00", "2030-10-27T22:30", map[string]string{"second_run_at": "web.schedule.second_too_late"}, 0},
		{"DST autumn: 22h00 wall clock is 23h", "2030-10-27T00:00", "2030-10-27T22:00", nil, 23 * time.Hour},
		{"DST gap", "2030-03-31T02:15", "", map[string]string{"first_run_at": "web.schedule.no_such_time"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sc, errs := parseSchedule(i18n.Italian, tt.first, tt.second, rome, now)
			require.Len(t, errs, len(tt.wantErrs), "errors: %v", errs)
			for field, key := range tt.wantErrs {
				require.Contains(t, errs, field)
				require.True(t, i18n.Has(key), "message %s missing from the catalog", key)
				require.Contains(t, errs[field], firstWords(i18n.T(i18n.Italian, key, "X")))
			}
			if len(tt.wantErrs) == 0 && tt.second != "" {
				require.NotNil(t, sc.Second)
				require.Equal(t, tt.wantGap, sc.Second.Sub(sc.First))
			}
		})
	}
}

// firstWords is the start of a message, before any formatted argument.
func firstWords(msg string) string {
	if len(msg) > 20 {
		return msg[:20]
	}
	return msg
}
