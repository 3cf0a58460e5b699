package web

import (
	"testing"

	"github.com/trasloco/trasloco/internal/testenv"
)

// TestMain stops the shared test servers (PostgreSQL, Dovecot) at the end.
func TestMain(m *testing.M) { testenv.Main(m) }
