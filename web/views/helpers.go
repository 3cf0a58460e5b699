package views

import "strconv"

func itoa(n int) string     { return strconv.Itoa(n) }
func i64toa(n int64) string { return strconv.FormatInt(n, 10) }

// statusURL is the JSON endpoint the status script polls while a migration
// is validating; "" (no attribute) otherwise.
func statusURL(d MigrationDetail) string {
	if d.Status.Code != "validating" {
		return ""
	}
	return d.Path() + "/status.json"
}

// ariaInvalid is the aria-invalid value of a field.
func ariaInvalid(invalid bool) string {
	if invalid {
		return "true"
	}
	return "false"
}
