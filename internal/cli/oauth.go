package cli

import (
	"fmt"
	"os"

	"github.com/trasloco/trasloco/internal/config"
	"github.com/trasloco/trasloco/internal/oauth"
)

// oauthTokens builds the token sources of the operator's registrations; a
// provider left unconfigured stays so (its customers use passwords). The
// Google key file is read once, here; its content never reaches a log.
func oauthTokens(c config.OAuth) (*oauth.Tokens, error) {
	t := &oauth.Tokens{Microsoft: oauth.Microsoft{ClientID: c.MSClientID, ClientSecret: c.MSClientSecret, Authority: c.MSAuthority}}
	if c.GoogleKeyFile != "" {
		data, err := os.ReadFile(c.GoogleKeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", config.EnvGoogleKeyFile, err)
		}
		if t.Google, err = oauth.ParseGoogleKey(data); err != nil {
			return nil, fmt.Errorf("%s: %w", config.EnvGoogleKeyFile, err)
		}
	}
	return t, nil
}
