package node

// HoldHeal makes the next background rebuilds of n's lexical index wait
// until release is called, so a test can observe the unhealthy node.
func HoldHeal(n *Node) (release func()) {
	gate := make(chan struct{})
	n.health.mu.Lock()
	n.health.beforeRebuild = func() { <-gate }
	n.health.mu.Unlock()
	return func() { close(gate) }
}
