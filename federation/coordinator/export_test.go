package coordinator

// Kill stops the server as a crash would: no leadership transfer.
func (s *Server) Kill() error { return s.shutdown(false) }
