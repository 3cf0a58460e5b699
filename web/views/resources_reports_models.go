package views

import "fmt"

// ReportLink is one CSV download of Risorse.
type ReportLink struct {
	Label string
	Href  string
	Kind  string // "mailboxes" or "messages"
	RunNo int    // 0: every run
}

// ReportPath returns the URL of a report of migration id: kind is
// "mailboxes" or "messages", runNo 0 for every run.
func ReportPath(id int64, kind string, runNo int) string {
	p := fmt.Sprintf("/migrations/%d/report/%s.csv", id, kind)
	if runNo > 0 {
		p += fmt.Sprintf("?run=%d", runNo)
	}
	return p
}
