package transfer

import (
	"strings"

	"github.com/emersion/go-imap/v2"
)

// listing asks the server for its namespaces and every folder with its
// special-use attributes.
func (s *session) listing() (Listing, error) {
	var l Listing
	if s.caps.Has(imap.CapNamespace) {
		err := s.do("NAMESPACE", s.timeouts.Command, func() error {
			ns, err := s.c.Namespace().Wait()
			if err != nil {
				return err
			}
			if len(ns.Personal) > 0 {
				l.Personal = Namespace{Prefix: ns.Personal[0].Prefix, Delim: ns.Personal[0].Delim}
			}
			for _, d := range append(append([]imap.NamespaceDescriptor{}, ns.Other...), ns.Shared...) {
				l.Foreign = append(l.Foreign, Namespace{Prefix: d.Prefix, Delim: d.Delim})
			}
			return nil
		})
		if err != nil {
			return l, err
		}
	}
	var opts *imap.ListOptions
	if s.caps.Has(imap.CapListExtended) {
		opts = &imap.ListOptions{ReturnSpecialUse: true}
	}
	var data []*imap.ListData
	err := s.do("LIST", s.timeouts.Command, func() error {
		var err error
		data, err = s.c.List("", "*", opts).Collect()
		return err
	})
	if err != nil {
		return l, err
	}
	for _, d := range data {
		l.Folders = append(l.Folders, RemoteFolder{Name: d.Mailbox, Delim: d.Delim, Attrs: d.Attrs})
	}
	if l.Personal.Delim == 0 {
		for _, f := range l.Folders {
			if f.Delim != 0 {
				l.Personal.Delim = f.Delim
				break
			}
		}
	}
	if l.Personal.Prefix == "" && !s.caps.Has(imap.CapNamespace) && l.Personal.Delim != 0 {
		// A Courier-like server without NAMESPACE: everything under "INBOX.".
		pfx := "INBOX" + string(l.Personal.Delim)
		all := len(l.Folders) > 1
		for _, f := range l.Folders {
			if !strings.EqualFold(f.Name, "INBOX") && !strings.HasPrefix(strings.ToUpper(f.Name), pfx) {
				all = false
			}
		}
		if all {
			l.Personal.Prefix = pfx
		}
	}
	return l, nil
}
