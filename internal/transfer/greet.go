package transfer

import "context"

// Greet connects to an endpoint the way a copy does (TLS, STARTTLS or
// plain, as its TLS mode says; certificates verified against RootCAs) and
// waits for the server's greeting, without logging in. It is the
// readiness probe of the destination server. Errors are *ConnError.
func Greet(ctx context.Context, e Endpoint, to Timeouts) error {
	to = to.withDefaults()
	host, port, mode, err := e.resolve(PresetStandardSSL)
	if err != nil {
		return &ConnError{Side: SideDestination, Addr: e.Host, Reason: ReasonProtocol, Detail: err.Error(), Err: err}
	}
	addr := fmtAddr(host, port)
	dialAddr := addr
	if e.DialAddr != "" {
		dialAddr = e.DialAddr
	}
	s, err := dialMode(ctx, SideDestination, addr, host, dialAddr, mode, e, to)
	if err != nil {
		return err
	}
	s.c.Close()
	return nil
}
