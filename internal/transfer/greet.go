package transfer

import "context"

// Greet connects to an endpoint the way a copy does (TLS, STARTTLS or
// plain, as its TLS mode says; certificates verified against RootCAs) and
// waits for the server's greeting, without logging in. It is the
// readiness probe of the destination server. Errors are *ConnError.
func Greet(ctx context.Context, e Endpoint, to Timeouts) error {
	to = to.withDefaults()
	t, err := e.target(SideDestination, PresetStandardSSL)
	if err != nil {
		return err
	}
	s, err := dialMode(ctx, t, e, to)
	if err != nil {
		return err
	}
	s.c.Close()
	return nil
}
