package notify_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/notify"
	"github.com/trasloco/trasloco/internal/testenv"
)

// TestSendToEveryNotificationAddress: a tenant's notification addresses,
// joined with commas, get one message with all of them as recipients.
func TestSendToEveryNotificationAddress(t *testing.T) {
	t.Parallel()
	mp := testenv.SharedMailpit(t)
	m, err := notify.NewMailer(smtpConfig(t, mp))
	require.NoError(t, err)
	ctx := context.Background()
	a, b := testenv.UniqueUser(t, "cliente.test"), testenv.UniqueUser(t, "capo.test")
	require.NoError(t, m.Send(ctx, a+", "+b, report(t, "it"), "run-9-1-1773349200@trasloco"))
	got := mp.WaitMessages(ctx, t, "to:"+b, 1)
	require.Len(t, got, 1)
	require.Len(t, got[0].To, 2)
	require.Equal(t, a, got[0].To[0].Address)
	require.Equal(t, b, got[0].To[1].Address)
	require.Error(t, m.Send(ctx, a+", not an address", report(t, "it"), "run-9-1-1773349201@trasloco"))
	require.Error(t, m.Send(ctx, a+"\r\nBcc: x@y.test", report(t, "it"), "run-9-1-1773349202@trasloco"))

	require.NoError(t, m.SendText(ctx, a, "Oggetto", "Testo del messaggio"))
	msgs := mp.WaitMessages(ctx, t, "subject:Oggetto to:"+a, 1)
	require.Contains(t, msgs[0].Text, "Testo del messaggio")
	require.Error(t, m.SendText(ctx, a+", "+b, "Oggetto", "x"), "one recipient only")
}
