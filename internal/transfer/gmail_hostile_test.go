package transfer_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// gmailMailbox is a scripted source laid out as Gmail lays out a mailbox
// over IMAP: X-GM-EXT-1, labels as folders, every message but Trash's and
// Spam's also in [Gmail]/All Mail (\All), Starred (\Flagged) and Important
// (\Important) as more views of the same messages. It returns the folders
// and, for each message body, the destination folders it must end in
// (none for Trash's and Spam's), and the bodies of the starred messages.
func gmailMailbox() ([]testenv.HostileFolder, map[string][]string, [][]byte) {
	msg := map[string]testenv.Msg{}
	for i, n := range []string{"a0", "a1", "a2", "a3", "a4", "s0", "d0", "u0", "u1", "t0", "j0"} {
		msg[n] = testenv.BuildMessage(61, i, 1500+100*i)
	}
	starred := map[string]bool{"a1": true, "a3": true}
	in := func(names ...string) []testenv.HostileMessage {
		ms := make([]testenv.Msg, len(names))
		for i, n := range names {
			ms[i] = msg[n]
		}
		hs := testenv.HostileMessages(ms...)
		for i, n := range names {
			if starred[n] {
				hs[i].Flags = append(hs[i].Flags, `\Flagged`)
			}
		}
		return hs
	}
	folders := []testenv.HostileFolder{
		{Name: "INBOX", Messages: in("a0", "a1", "a2")},
		{Name: "Lavoro", Messages: in("a0", "a3")},
		{Name: "Lavoro/Clienti", Messages: in("a4")},
		{Name: "[Gmail]", Attrs: []string{`\Noselect`}},
		{Name: "[Gmail]/All Mail", Attrs: []string{`\All`}, Messages: in("a0", "a1", "a2", "a3", "a4", "s0", "d0", "u0", "u1")},
		{Name: "[Gmail]/Drafts", Attrs: []string{`\Drafts`}, Messages: in("d0")},
		{Name: "[Gmail]/Important", Attrs: []string{`\Important`}, Messages: in("a0", "u0")},
		{Name: "[Gmail]/Sent Mail", Attrs: []string{`\Sent`}, Messages: in("s0")},
		{Name: "[Gmail]/Spam", Attrs: []string{`\Junk`}, Messages: in("j0")},
		{Name: "[Gmail]/Starred", Attrs: []string{`\Flagged`}, Messages: in("a1", "a3")},
		{Name: "[Gmail]/Trash", Attrs: []string{`\Trash`}, Messages: in("t0")},
	}
	where := map[string][]string{
		"a0": {"INBOX", "Lavoro"}, "a1": {"INBOX"}, "a2": {"INBOX"}, "a3": {"Lavoro"}, "a4": {"Lavoro/Clienti"},
		"s0": {"Sent"}, "d0": {"Drafts"}, "u0": {"Archive"}, "u1": {"Archive"}, "t0": nil, "j0": nil,
	}
	want := map[string][]string{}
	for n, fs := range where {
		want[string(msg[n].Raw)] = fs
	}
	return folders, want, [][]byte{msg["a1"].Raw, msg["a3"].Raw}
}

// destination is every message of the destination mailbox: for each body,
// the folders it is in, one entry per copy (a message twice in a folder
// shows twice).
func (h *hostileFixture) destination(t *testing.T) map[[32]byte][]string {
	t.Helper()
	list, err := h.dstClient(t).List("", "*", nil).Collect()
	require.NoError(t, err)
	out := map[[32]byte][]string{}
	for _, l := range list {
		if strings.Contains(strings.ToLower(l.Mailbox), "[gmail]") {
			t.Errorf("destination folder %q: Gmail's own folder names must not be copied", l.Mailbox)
		}
		for _, m := range h.dstFolder(t, l.Mailbox) {
			out[m.Sum] = append(out[m.Sum], l.Mailbox)
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

// TestGmailLayoutWhateverThePreset — issue 10, "the old server's layout is
// recognised from the server, whatever the customer picked": a Gmail-laid-
// out source copied with Standard-SSL gives the same destination as with
// the Gmail preset. Labels become folders, All Mail gives the Archive only
// the messages in no label, Starred and Important copy nothing again,
// Trash and Spam stay behind, and a second run copies nothing.
func TestGmailLayoutWhateverThePreset(t *testing.T) {
	t.Parallel()
	folders, wantBy, starred := gmailMailbox()
	want := map[[32]byte][]string{}
	for raw, fs := range wantBy {
		if len(fs) > 0 {
			want[sha([]byte(raw))] = fs
		}
	}
	dests := map[transfer.Preset]map[[32]byte][]string{}
	for _, tc := range []struct {
		preset transfer.Preset
		caps   []string
		why    string // a part of the reason logged
	}{
		{transfer.PresetStandardSSL, []string{"X-GM-EXT-1"}, "X-GM-EXT-1"},
		{transfer.PresetGmail, []string{"X-GM-EXT-1"}, "X-GM-EXT-1"},
		// A Gmail-like server without Gmail's capability: its folders say it.
		{transfer.PresetStandardNoSSL, nil, "the folder “[Gmail]/All Mail” is Gmail's \\All"},
	} {
		preset := tc.preset
		h := hostileSetup(t, testenv.HostileOptions{Capabilities: tc.caps}, folders...)
		job := h.job()
		job.Preset = preset
		res, err := transfer.Run(t.Context(), job)
		t.Logf("%s: %+v", preset, res)
		require.NoError(t, err, preset)
		require.True(t, res.Complete(), preset)
		require.Equal(t, transfer.PresetGmail, res.Rules, "%s: Gmail's rules", preset)
		require.Contains(t, res.RulesReason, tc.why)
		require.Contains(t, h.rep.text(), "Gmail rules", "%s: the mailbox's log says which rules and why", preset)
		require.Equal(t, 10, res.Copied, "%s: every message once per label, none again through All Mail, Starred or Important", preset)
		require.Equal(t, 7, res.AlreadyThere, "%s: All Mail's labelled messages", preset)
		require.Equal(t, 5, res.ExcludedFolders, "%s: [Gmail], Important, Spam, Starred, Trash", preset)
		got := h.destination(t)
		require.Equal(t, want, got, "%s: destination", preset)
		flags := map[[32]byte]string{}
		for _, f := range []string{"INBOX", "Lavoro"} {
			for _, m := range h.dstFolder(t, f) {
				flags[m.Sum] = m.Flags
			}
		}
		for _, raw := range starred {
			require.Contains(t, flags[sha(raw)], `\Flagged`, "%s: Starred is a flag, kept on the message", preset)
		}
		requireReadOnly(t, h.srv)
		dests[preset] = got

		res, err = transfer.Run(t.Context(), job)
		require.NoError(t, err)
		require.Zero(t, res.Copied, "%s: a second run copies nothing", preset)
		require.Equal(t, want, h.destination(t), "%s: destination after a second run", preset)
	}
	require.Equal(t, dests[transfer.PresetGmail], dests[transfer.PresetStandardSSL])
	require.Equal(t, dests[transfer.PresetGmail], dests[transfer.PresetStandardNoSSL])
}
