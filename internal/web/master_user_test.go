package web

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/transfer"
)

func TestMasterUserProblem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		preset  transfer.Preset
		master  string
		problem bool
	}{
		{transfer.PresetExchange, `ACME\admin`, false},
		{transfer.PresetExchange, "admin@acme.test", false},
		{transfer.PresetOffice365, "admin@contoso.onmicrosoft.com", false},
		{transfer.PresetExchange, "admin", true},
		{transfer.PresetExchange, `\admin`, true},
		{transfer.PresetExchange, `ACME\`, true},
		{transfer.PresetExchange, `ACME\admin\anna`, true},
		{transfer.PresetOffice365, "@acme.test", true},
		{transfer.PresetExchange, "", false},
		{transfer.PresetStandardSSL, "master", false},
		{transfer.PresetGmail, "admin", false},
	} {
		require.Equal(t, tc.problem, masterUserProblem(tc.preset, tc.master), "%s %q", tc.preset, tc.master)
	}
}
