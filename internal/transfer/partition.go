package transfer

// parts is what partition makes of a folder's messages.
type parts struct {
	// todo are the messages to copy.
	todo []meta
	// tooLarge are the messages over the size limit.
	tooLarge []meta
	// already are the messages the checkpoint records as copied by an
	// earlier run; copiedNow those this Run copied in an earlier attempt.
	already, copiedNow []meta
	// flagChanges are recorded messages whose flags changed at the source.
	flagChanges []meta
	// decided are the messages whose fate this Run found already (failed,
	// gone, too large by what the source sent): not tried again.
	decided []meta
}

// partition sorts the messages of a folder by what is to be done with them:
// recorded in the checkpoint st (copied by an earlier run, or by this Run
// when copiedNow has them), over maxSize, or to copy. A recorded message
// whose flags differ from those last written, and whose destination UID is
// known, also goes to flagChanges. A message not recorded whose fate was
// decided earlier in this Run goes to decided.
func partition(metas []meta, st FolderState, copiedNow map[uint32]int64, decided map[uint32]fate, maxSize int64) parts {
	var p parts
	for _, m := range metas {
		if _, ok := st.Messages[m.uid]; !ok && decided[m.uid] != 0 {
			p.decided = append(p.decided, m)
			continue
		}
		if c, ok := st.Messages[m.uid]; ok {
			if _, now := copiedNow[m.uid]; now {
				p.copiedNow = append(p.copiedNow, m)
			} else {
				p.already = append(p.already, m)
			}
			if !equalFlags(c.Flags, m.flags) && c.DestUID != 0 {
				p.flagChanges = append(p.flagChanges, m)
			}
			continue
		}
		if m.size > maxSize {
			p.tooLarge = append(p.tooLarge, m)
			continue
		}
		p.todo = append(p.todo, m)
	}
	return p
}
