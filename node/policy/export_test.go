package policy

// EmbeddedModel returns the embedded model file, for TestModelFresh.
func EmbeddedModel() []byte { return embeddedModel }
