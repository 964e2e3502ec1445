package gossip

// SendLeavingNotice sends the direct notice Leave sends, without leaving.
func (m *Member) SendLeavingNotice() { m.sendLeavingNotice() }
