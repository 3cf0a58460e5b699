package views

import "strconv"

func itoa(n int) string     { return strconv.Itoa(n) }
func i64toa(n int64) string { return strconv.FormatInt(n, 10) }

// statusURL is the JSON endpoint the status script polls while a migration
// is validating, scheduled (waiting for a run to start) or running; ""
// (no attribute) otherwise.
func statusURL(d MigrationDetail) string {
	switch d.Status.Code {
	case "validating", "scheduled", "between_runs", "running":
		return d.Path() + "/status.json" + d.StatusQuery
	}
	return ""
}

// progressRun is the run number the page's progress table shows, "0" when none.
func progressRun(d MigrationDetail) string {
	if d.Progress == nil {
		return "0"
	}
	return itoa(d.Progress.RunNo)
}

// progressMax is the max of a <progress>: at least 1, so an empty folder
// list shows an empty bar rather than a full one.
func progressMax(total int) string { return itoa(max(total, 1)) }

// ariaInvalid is the aria-invalid value of a field.
func ariaInvalid(invalid bool) string {
	if invalid {
		return "true"
	}
	return "false"
}

// hasPinned reports whether a line shows the address its test reached.
func hasPinned(lines []LineRow) bool {
	for _, l := range lines {
		if l.PinnedAddr != "" {
			return true
		}
	}
	return false
}

// formFieldOrder is the order of Nuova Migrazione's fields, for the links
// of its error summary.
var formFieldOrder = []string{"name", "preset", "csv", "first_run_at", "second_run_at", "master_user", "master_password"}
