package views

// Pager is the navigation of a paged list: the page shown and the links
// to the pages either side, which keep the list's search and filters.
type Pager struct {
	Page    int
	PrevURL string // "" on the first page
	NextURL string // "" on the last page
}

// Show reports whether there is more than one page to move between.
func (p Pager) Show() bool { return p.PrevURL != "" || p.NextURL != "" }

// Option is one choice of a filter's select.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// ListFilter is the search box (and optional selects) above a paged list;
// it submits with GET to Action, so a filtered page has its own URL.
type ListFilter struct {
	Action      string
	Query       string
	Placeholder string
	// Statuses, when set, add a status select (name "status").
	Statuses []Option
	// Tenants, when set, add a tenant select (name "tenant"): the
	// operators' list of every tenant's migrations.
	Tenants []Option
	// Anchor is appended to the form's action (e.g. "#lines").
	Anchor string
}
