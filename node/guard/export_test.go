package guard

// RuleNames returns the names of the injection and handoff rules, so the
// external tests can check that every rule has examples.
func RuleNames() (injection, human []string) {
	for _, r := range injectionRules {
		injection = append(injection, r.name)
	}
	for _, r := range humanRules {
		human = append(human, r.name)
	}
	return injection, human
}
