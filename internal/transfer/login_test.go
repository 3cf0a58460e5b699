package transfer

import (
	"context"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/require"
)

func caps(cs ...imap.Cap) imap.CapSet {
	set := imap.CapSet{}
	for _, c := range cs {
		set[c] = struct{}{}
	}
	return set
}

func TestPlanLogin(t *testing.T) {
	t.Parallel()
	plain := imap.AuthCap("PLAIN")
	user := Endpoint{User: "anna@example.com", Password: "pw"}
	master := Endpoint{User: "anna@example.com", AuthUser: "master", Password: "pw"}
	withForm := func(e Endpoint, f MasterForm, sep string) Endpoint {
		e.MasterForm, e.MasterSeparator = f, sep
		return e
	}
	exAdmin := func(admin string) Endpoint {
		return Endpoint{User: "anna@example.com", AuthUser: admin, Password: "pw"}
	}
	oauth := Endpoint{User: "anna@example.com", OAuth2Token: "tok"}
	sourced := Endpoint{User: "anna@example.com", TokenSource: func(context.Context) (string, error) { return "tok", nil }}
	withMaster := func(e Endpoint) Endpoint {
		e.AuthUser, e.Password = "master", "pw"
		return e
	}
	for _, tc := range []struct {
		name string
		e    Endpoint
		caps imap.CapSet
		want loginPlan
		err  error
	}{
		{"user", user, caps(imap.CapIMAP4rev1), loginPlan{mech: mechLogin, user: "anna@example.com"}, nil},
		{"user with AUTH=PLAIN still logs in", user, caps(plain), loginPlan{mech: mechLogin, user: "anna@example.com"}, nil},
		{"user, LOGINDISABLED", user, caps(imap.CapLoginDisabled), loginPlan{}, errLoginDisabled},
		{"master, AUTH=PLAIN", master, caps(plain), loginPlan{mech: mechPlain, user: "master", authzid: "anna@example.com"}, nil},
		{"master, no AUTH=PLAIN", master, caps(imap.CapIMAP4rev1), loginPlan{mech: mechLogin, user: "anna@example.com*master"}, nil},
		{"master, LOGINDISABLED: the separator form is tried", master, caps(imap.CapLoginDisabled), loginPlan{mech: mechLogin, user: "anna@example.com*master"}, nil},
		{"master, SASL asked without the cap", withForm(master, MasterSASL, ""), caps(), loginPlan{mech: mechPlain, user: "master", authzid: "anna@example.com"}, nil},
		{"master, separator asked with AUTH=PLAIN", withForm(master, MasterSeparator, "%"), caps(plain), loginPlan{mech: mechLogin, user: "anna@example.com%master"}, nil},
		{"Exchange's administrator, DOMAIN\\admin", withForm(exAdmin(`ACME\admin`), MasterExchange, ""), caps(plain), loginPlan{mech: mechLogin, user: `ACME\admin\anna@example.com`}, nil},
		{"Exchange's administrator, admin@domain", withForm(exAdmin("admin@example.com"), MasterExchange, ""), caps(imap.CapIMAP4rev1), loginPlan{mech: mechLogin, user: `admin@example.com\anna@example.com`}, nil},
		{"OAuth2 wins over everything", oauth, caps(imap.CapLoginDisabled, plain), loginPlan{mech: mechXOAuth2, user: "anna@example.com"}, nil},
		{"a token source logs in with XOAUTH2", sourced, caps(imap.AuthCap("XOAUTH2"), imap.AuthCap("OAUTHBEARER")), loginPlan{mech: mechXOAuth2, user: "anna@example.com"}, nil},
		{"XOAUTH2 when the server names no mechanism", sourced, caps(imap.CapIMAP4rev1), loginPlan{mech: mechXOAuth2, user: "anna@example.com"}, nil},
		{"OAUTHBEARER when it is the only one offered", sourced, caps(imap.AuthCap("OAUTHBEARER"), plain), loginPlan{mech: mechOAuthBearer, user: "anna@example.com"}, nil},
		{"a token wins over a master user", withMaster(sourced), caps(plain), loginPlan{mech: mechXOAuth2, user: "anna@example.com"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := planLogin(tc.e, tc.caps)
			require.ErrorIs(t, err, tc.err)
			require.Equal(t, tc.want, got)
		})
	}
}
