package web

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/jobs"
)

// River's own UI is mounted for operators: its page and its API answer
// them, with the jobs of the database; customers and strangers get
// nothing.
func TestRiverUIForOperatorsOnly(t *testing.T) {
	t.Parallel()
	p := setup(t, panelOpts{riverUI: true})
	_, customerEmail := p.tenant("acme", "acme.test")
	operatorEmail := p.operator()
	_, err := p.river.Insert(context.Background(), jobs.ValidateMigrationArgs{TenantID: 1, MigrationID: 424242}, nil)
	require.NoError(t, err)

	stranger := p.browser()
	res := stranger.get(RiverUIPath + "/")
	require.Equal(t, http.StatusSeeOther, res.status, "signed out: to the login")
	customer := p.browser()
	customer.login(customerEmail)
	require.Equal(t, http.StatusNotFound, customer.get(RiverUIPath+"/").status)
	require.Equal(t, http.StatusNotFound, customer.get(RiverUIPath+"/api/jobs?state=available").status)

	op := p.browser()
	op.login(operatorEmail)
	res = op.get(RiverUIPath + "/")
	require.Equal(t, http.StatusOK, res.status)
	require.Contains(t, res.body, "<html")
	res = op.get(RiverUIPath + "/api/jobs?state=available")
	require.Equal(t, http.StatusOK, res.status, res.body)
	var list struct {
		Data []struct {
			Kind string `json:"kind"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.body), &list), res.body)
	require.Len(t, list.Data, 1)
	require.Equal(t, "validate_migration", list.Data[0].Kind)
	d := op.get("/migrations").doc(t)
	require.Equal(t, 1, d.Find(`[data-testid="nav-riverui"]`).Length())
}
