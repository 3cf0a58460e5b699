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
		{1024, "1 KiB", "1 KiB"},
		{1536 << 10, "1,5 MiB", "1.5 MiB"},
		{30 << 20, "30 MiB", "30 MiB"},
		{150 << 30, "150 GiB", "150 GiB"},
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
