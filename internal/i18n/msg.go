package i18n

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Msg is a message kept for a person to read later: a catalog key and its
// arguments, rendered in the reader's language only when a page, a download
// or an email is made (Text). It is what the engine's log, the validation
// of a line and a mailbox's failure store, never the rendered sentence.
// Its JSON form ({"c": key, "a": [args]}) is what the database keeps.
type Msg struct {
	Code string `json:"c"`
	Args []Arg  `json:"a,omitempty"`
}

// Arg is one argument of a Msg. Its kind says how it is shown: a text as
// written (a folder name, an address, the server's own words: never
// translated), a number, a size, a time, a day, a duration, another
// message, or a list of messages.
type Arg struct {
	K ArgKind `json:"k"`
	S string  `json:"s,omitempty"` // ArgText; ArgTime and ArgDay as RFC 3339
	N int64   `json:"n,omitempty"` // ArgNum, ArgSize (bytes), ArgDuration (nanoseconds)
	M []Msg   `json:"m,omitempty"` // ArgMsg (one), ArgList
	Z string  `json:"z,omitempty"` // ArgTime: the IANA zone it is shown in; UTC when empty
}

// ArgKind is the kind of an Arg.
type ArgKind string

// The kinds of an Arg.
const (
	ArgText      ArgKind = "s" // shown as written
	ArgNum       ArgKind = "n" // %d: as is; %s: thousands grouped as by Int
	ArgSize      ArgKind = "b" // %d: bytes; %s: as by Bytes
	ArgTime      ArgKind = "t" // a moment, in UTC
	ArgDay       ArgKind = "d" // a calendar day
	ArgDuration  ArgKind = "dur"
	ArgMsg       ArgKind = "m"  // another message, rendered in the same language
	ArgList      ArgKind = "l"  // messages rendered and joined by "; "
	ArgSentences ArgKind = "ls" // messages rendered and joined by " " (sentences)
)

// Size is a number of bytes, an argument of New shown as by Bytes.
type Size int64

// Day is a time of which an argument of New shows the day only.
type Day time.Time

// List is messages, an argument of New shown one after the other,
// separated by "; ".
type List []Msg

// Sentences is messages, each a sentence, shown one after the other.
type Sentences []Msg

// ZonedTime is a moment that an argument of New shows in a time zone (the
// tenant's: an IANA name).
type ZonedTime struct {
	T    time.Time
	Zone string
}

// New returns the message key with args, each made an Arg by its Go type:
// string and error are text, the integer types numbers, Size a size,
// time.Time a moment, Day a day, time.Duration a duration, Msg a message,
// List a list; an Arg is kept; anything else is text as by fmt.Sprint.
func New(key string, args ...any) Msg {
	m := Msg{Code: key}
	if len(args) > 0 {
		m.Args = make([]Arg, len(args))
		for i, a := range args {
			m.Args[i] = argOf(a)
		}
	}
	return m
}

func argOf(v any) Arg {
	switch v := v.(type) {
	case Arg:
		return v
	case Msg:
		return Arg{K: ArgMsg, M: []Msg{v}}
	case List:
		return Arg{K: ArgList, M: []Msg(v)}
	case Sentences:
		return Arg{K: ArgSentences, M: []Msg(v)}
	case []Msg:
		return Arg{K: ArgList, M: v}
	case string:
		return Arg{K: ArgText, S: v}
	case error:
		if v == nil {
			return Arg{K: ArgText, S: "<nil>"}
		}
		return Arg{K: ArgText, S: v.Error()}
	case Size:
		return Arg{K: ArgSize, N: int64(v)}
	case time.Duration:
		return Arg{K: ArgDuration, N: int64(v)}
	case time.Time:
		return Arg{K: ArgTime, S: v.UTC().Format(time.RFC3339)}
	case ZonedTime:
		return Arg{K: ArgTime, S: v.T.UTC().Format(time.RFC3339), Z: v.Zone}
	case Day:
		return Arg{K: ArgDay, S: time.Time(v).Format("2006-01-02")}
	case int:
		return Arg{K: ArgNum, N: int64(v)}
	case int64:
		return Arg{K: ArgNum, N: v}
	case int32:
		return Arg{K: ArgNum, N: int64(v)}
	case uint32:
		return Arg{K: ArgNum, N: int64(v)}
	case uint64:
		return Arg{K: ArgNum, N: int64(v)}
	case uint:
		return Arg{K: ArgNum, N: int64(v)}
	case fmt.Stringer:
		return Arg{K: ArgText, S: v.String()}
	}
	return Arg{K: ArgText, S: fmt.Sprint(v)}
}

// IsZero reports whether m holds no message.
func (m Msg) IsZero() bool { return m.Code == "" }

// Text renders m in l. Each argument is shown by the verb of the format
// that takes it: %d a number as is, %q a text quoted, %s and %v in the
// reader's way (grouped numbers, sizes in KB/MB, dates the local way,
// nested messages in l). An unknown key renders as the key followed by
// its arguments, so a missing message shows instead of vanishing.
func (m Msg) Text(l Lang) string {
	if m.Code == "" {
		return ""
	}
	msg, ok := lookup(m.Code)
	if !ok {
		parts := []string{m.Code}
		for _, a := range m.Args {
			parts = append(parts, a.text(l))
		}
		return strings.Join(parts, " ")
	}
	format := msg.text(l)
	if len(m.Args) == 0 {
		return format
	}
	vs := verbsByArg(format, len(m.Args))
	vals := make([]any, len(m.Args))
	for i, a := range m.Args {
		vals[i] = a.value(l, vs[i])
	}
	return fmt.Sprintf(format, vals...)
}

// value is a as the argument of verb in l's format.
func (a Arg) value(l Lang, verb byte) any {
	switch verb {
	case 'd':
		switch a.K {
		case ArgNum, ArgSize, ArgDuration:
			return a.N
		}
	case 'q':
		if a.K == ArgText {
			return a.S
		}
	}
	return a.text(l)
}

// Text is a shown in l as a %s shows it.
func (a Arg) Text(l Lang) string { return a.text(l) }

// HasKey reports whether m or a message inside it is key.
func (m Msg) HasKey(key string) bool {
	for _, k := range m.Keys() {
		if k == key {
			return true
		}
	}
	return false
}

// text is a shown in l as a text.
func (a Arg) text(l Lang) string {
	switch a.K {
	case ArgNum:
		return Int(l, int(a.N))
	case ArgSize:
		return Bytes(l, a.N)
	case ArgDuration:
		return Duration(time.Duration(a.N))
	case ArgTime:
		t, err := time.Parse(time.RFC3339, a.S)
		if err != nil {
			return a.S
		}
		return Time(l, t, a.Z)
	case ArgDay:
		t, err := time.Parse("2006-01-02", a.S)
		if err != nil {
			return a.S
		}
		if l == English {
			return t.Format("2006-01-02")
		}
		return t.Format("02/01/2006")
	case ArgMsg:
		if len(a.M) == 0 {
			return ""
		}
		return a.M[0].Text(l)
	case ArgList, ArgSentences:
		parts := make([]string, len(a.M))
		for i, m := range a.M {
			parts[i] = m.Text(l)
		}
		if a.K == ArgSentences {
			return strings.Join(parts, " ")
		}
		return strings.Join(parts, "; ")
	}
	return a.S
}

// verbsByArg is, for each of n arguments, the verb of format that takes it
// first ('s' when none does). It follows fmt: flags, width and precision
// are skipped, %[i] moves to argument i, %% takes none.
func verbsByArg(format string, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = 's'
	}
	seen := make([]bool, n)
	arg := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		for i < len(format) && strings.IndexByte("+-# 0123456789.*", format[i]) >= 0 {
			i++
		}
		if i < len(format) && format[i] == '[' {
			end := strings.IndexByte(format[i:], ']')
			if end < 0 {
				break
			}
			if k, err := strconv.Atoi(format[i+1 : i+end]); err == nil {
				arg = k - 1
			}
			i += end + 1
			for i < len(format) && strings.IndexByte("+-# 0123456789.*", format[i]) >= 0 {
				i++
			}
		}
		if i >= len(format) {
			break
		}
		if format[i] == '%' {
			continue
		}
		if arg >= 0 && arg < n && !seen[arg] {
			out[arg], seen[arg] = format[i], true
		}
		arg++
	}
	return out
}

// Keys is every catalog key m uses: its own and its nested messages'.
func (m Msg) Keys() []string {
	if m.Code == "" {
		return nil
	}
	keys := []string{m.Code}
	for _, a := range m.Args {
		for _, n := range a.M {
			keys = append(keys, n.Keys()...)
		}
	}
	return keys
}

// JSON is m's stored form; nil for no message, so a column stays NULL.
func (m Msg) JSON() []byte {
	if m.Code == "" {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil // cannot happen: Msg holds strings and integers only
	}
	return b
}

// ParseMsg reads a message stored by JSON; no bytes (a NULL column) give
// the zero Msg.
func ParseMsg(b []byte) (Msg, error) {
	var m Msg
	if len(b) == 0 || string(b) == "null" {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return Msg{}, fmt.Errorf("parse message: %w", err)
	}
	return m, nil
}

// Render is what a stored reason reads in l: the message when there is one,
// else the text an older row stored already rendered, shown as it is.
func Render(l Lang, m Msg, stored string) string {
	if m.Code != "" {
		return m.Text(l)
	}
	return stored
}

// MapText returns m with f applied to every text argument, its nested
// messages' too (to take secrets out of the server's words, or cut them).
func (m Msg) MapText(f func(string) string) Msg {
	if len(m.Args) == 0 {
		return m
	}
	out := Msg{Code: m.Code, Args: make([]Arg, len(m.Args))}
	for i, a := range m.Args {
		if a.K == ArgText {
			a.S = f(a.S)
		}
		if len(a.M) > 0 {
			ms := make([]Msg, len(a.M))
			for j, n := range a.M {
				ms[j] = n.MapText(f)
			}
			a.M = ms
		}
		out.Args[i] = a
	}
	return out
}

// Time shows t in the IANA zone (UTC when empty or unknown) the way the
// panel does: "02/01/2006 15:04 CET", "2 Jan 2006 15:04 CET".
func Time(l Lang, t time.Time, zone string) string {
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" {
		loc = time.UTC
	}
	if l == English {
		return t.In(loc).Format("2 Jan 2006 15:04 MST")
	}
	return t.In(loc).Format("02/01/2006 15:04 MST")
}
