package i18n

import (
	"testing"
	"time"
)

func TestBytesAndDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n      int64
		it, en string
	}{
		{0, "0 B", "0 B"},
		{1023, "1023 B", "1023 B"},
		{1024, "1 KB", "1 KB"},
		{1536 << 10, "1,5 MB", "1.5 MB"},
		{30 << 20, "30 MB", "30 MB"},
		{150 << 30, "150 GB", "150 GB"},
	} {
		if got := Bytes(Italian, tc.n); got != tc.it {
			t.Errorf("Bytes(it, %d) = %q, want %q", tc.n, got, tc.it)
		}
		if got := Bytes(English, tc.n); got != tc.en {
			t.Errorf("Bytes(en, %d) = %q, want %q", tc.n, got, tc.en)
		}
	}
	for d, want := range map[time.Duration]string{
		-time.Second:                                 "",
		200 * time.Millisecond:                       "0 s",
		45 * time.Second:                             "45 s",
		3*time.Minute + 5*time.Second:                "3 min 05 s",
		2*time.Hour + 7*time.Minute + 40*time.Second: "2 h 07 min",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestIntAndZone(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1.000", 1234567: "1.234.567", -4200: "-4.200"} {
		if got := Int(Italian, n); got != want {
			t.Errorf("Int(it, %d) = %q, want %q", n, got, want)
		}
	}
	if got := Int(English, 12345); got != "12,345" {
		t.Errorf("Int(en, 12345) = %q", got)
	}
	for _, tc := range []struct{ tz, it, en string }{
		{"Europe/Rome", "ora italiana", "Italian time"},
		{"Europe/London", "ora di London", "London time"},
		{"America/New_York", "ora di New York", "New York time"},
		{"UTC", "ora UTC", "UTC"},
	} {
		if got := Zone(Italian, tc.tz); got != tc.it {
			t.Errorf("Zone(it, %s) = %q, want %q", tc.tz, got, tc.it)
		}
		if got := Zone(English, tc.tz); got != tc.en {
			t.Errorf("Zone(en, %s) = %q, want %q", tc.tz, got, tc.en)
		}
	}
}

func TestN(t *testing.T) {
	t.Parallel()
	if got := N(Italian, "web.preview.messages", 1); got != "1 messaggio" {
		t.Errorf("N(1) = %q", got)
	}
	if got := N(Italian, "web.preview.messages", 1200); got != "1.200 messaggi" {
		t.Errorf("N(1200) = %q", got)
	}
	if got := N(English, "web.preview.too_large", 1, "31 MB"); got != "1 message over 30 MB (31 MB), listed afterwards in Resources" {
		t.Errorf("N(en, 1) = %q", got)
	}
}
