package web

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/store"
)

// localLayout is the value format of <input type="datetime-local">.
const localLayout = "2006-01-02T15:04"

var (
	errBadDateTime = errors.New("not a date and time")
	errNoSuchTime  = errors.New("the time does not exist in the time zone (daylight saving)")
)

// parseLocal reads a datetime-local value ("2006-01-02T15:04", seconds
// optional) as a wall-clock time in loc. A time skipped by a daylight
// saving change (02:30 on the last Sunday of March in Europe/Rome) is
// refused rather than silently moved; a repeated one (02:30 on the last
// Sunday of October) is the first of the two.
func parseLocal(v string, loc *time.Location) (time.Time, error) {
	v = strings.TrimSpace(v)
	date, clock, ok := strings.Cut(v, "T")
	if !ok {
		date, clock, ok = strings.Cut(v, " ")
	}
	if !ok {
		return time.Time{}, errBadDateTime
	}
	d := strings.Split(date, "-")
	c := strings.Split(clock, ":")
	if len(d) != 3 || len(c) < 2 || len(c) > 3 {
		return time.Time{}, errBadDateTime
	}
	nums := make([]int, 0, 6)
	for _, s := range append(d, c...) {
		// Seconds may carry a fraction ("05.000"); it is dropped.
		s, _, _ = strings.Cut(s, ".")
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return time.Time{}, errBadDateTime
		}
		nums = append(nums, n)
	}
	for len(nums) < 6 {
		nums = append(nums, 0)
	}
	y, mo, day, h, mi, sec := nums[0], nums[1], nums[2], nums[3], nums[4], nums[5]
	if y < 2000 || y > 9999 || mo < 1 || mo > 12 || day < 1 || day > 31 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, errBadDateTime
	}
	t := time.Date(y, time.Month(mo), day, h, mi, sec, 0, loc)
	// time.Date normalises both an impossible date (31 April) and a wall
	// clock time skipped by a DST change; either way it no longer reads back.
	if t.Year() != y || int(t.Month()) != mo || t.Day() != day {
		return time.Time{}, errBadDateTime
	}
	if t.Hour() != h || t.Minute() != mi {
		return time.Time{}, errNoSuchTime
	}
	// A wall clock time that happens twice: time.Date does not say which
	// it picks, so take the first (DST changes are an hour almost everywhere).
	if e := t.Add(-time.Hour); e.Hour() == h && e.Minute() == mi && e.Day() == day {
		t = e
	}
	return t, nil
}

// schedule is the runs' times as read from the form.
type schedule struct {
	First  time.Time
	Second *time.Time
}

// parseSchedule applies the scheduling rules: the first run is in the
// future; the second, if given, is after the first and at most 23 hours
// (real time, so across a DST change too) after it. Both are read in the
// tenant's time zone. errs maps a field to its message.
func parseSchedule(l i18n.Lang, firstV, secondV string, loc *time.Location, now time.Time) (schedule, map[string]string) {
	errs := map[string]string{}
	var sc schedule
	fieldErr := func(field string, err error) {
		switch {
		case errors.Is(err, errNoSuchTime):
			errs[field] = i18n.T(l, "web.schedule.no_such_time", loc.String())
		default:
			errs[field] = i18n.T(l, "web.schedule.bad_time")
		}
	}
	if strings.TrimSpace(firstV) == "" {
		errs["first_run_at"] = i18n.T(l, "web.schedule.first_required")
	} else if t, err := parseLocal(firstV, loc); err != nil {
		fieldErr("first_run_at", err)
	} else if !t.After(now) {
		errs["first_run_at"] = i18n.T(l, "web.schedule.first_past")
	} else {
		sc.First = t
	}
	if strings.TrimSpace(secondV) != "" {
		t, err := parseLocal(secondV, loc)
		switch {
		case err != nil:
			fieldErr("second_run_at", err)
		case sc.First.IsZero():
			// The rule needs a valid first run; its own error is enough.
		case !t.After(sc.First):
			errs["second_run_at"] = i18n.T(l, "web.schedule.second_before_first")
		case t.Sub(sc.First) > store.MaxSecondRunDelay:
			errs["second_run_at"] = i18n.T(l, "web.schedule.second_too_late", formatTime(l, sc.First.Add(store.MaxSecondRunDelay), loc))
		default:
			sc.Second = &t
		}
	}
	return sc, errs
}

// formatTime shows t in loc, with the zone's abbreviation so a time near a
// DST change is unambiguous.
func formatTime(l i18n.Lang, t time.Time, loc *time.Location) string {
	if l == i18n.English {
		return t.In(loc).Format("2 Jan 2006 15:04")
	}
	return t.In(loc).Format("02/01/2006 15:04")
}

// formValue is t as a datetime-local value in loc.
func formValue(t time.Time, loc *time.Location) string { return t.In(loc).Format(localLayout) }
