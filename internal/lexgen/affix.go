package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// affixRule is one SFX or PFX line of a Hunspell .aff file.
type affixRule struct {
	strip string   // removed from the word before add is appended (prepended)
	add   string   // the affix
	cont  []string // continuation flags: affix classes that may follow
	cond  []charClass
	morph string // morphological fields ("ts:NN2"), "" when none
}

// charClass is one position of a rule condition: a set of runes, negated
// or not; any is ".".
type charClass struct {
	any   bool
	neg   bool
	runes string
}

func (c charClass) match(r rune) bool {
	if c.any {
		return true
	}
	return strings.ContainsRune(c.runes, r) != c.neg
}

// affixClass is the rules of one flag.
type affixClass struct {
	prefix bool
	cross  bool // may combine with an affix of the other kind
	rules  []affixRule
}

// affixes is what lexgen reads from an .aff file: the classes by flag and
// the flags with a special meaning.
type affixes struct {
	classes   map[string]*affixClass
	forbidden string // FORBIDDENWORD flag
	onlyInCpd string // ONLYINCOMPOUND flag
	longFlags bool   // FLAG long: flags are two characters
}

// parseAffixes reads the parts of a Hunspell .aff file that expansion
// needs: FLAG, FORBIDDENWORD, ONLYINCOMPOUND and the SFX/PFX classes.
// Compounding, suggestion and conversion settings are ignored.
func parseAffixes(r io.Reader) (*affixes, error) {
	a := &affixes{classes: map[string]*affixClass{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.Index(line, "#"); i == 0 {
			continue
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "FLAG":
			a.longFlags = len(f) > 1 && f[1] == "long"
		case "FORBIDDENWORD":
			if len(f) > 1 {
				a.forbidden = f[1]
			}
		case "ONLYINCOMPOUND":
			if len(f) > 1 {
				a.onlyInCpd = f[1]
			}
		case "SFX", "PFX":
			if err := a.addAffixLine(f); err != nil {
				return nil, fmt.Errorf("aff line %d: %w", n, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read aff: %w", err)
	}
	return a, nil
}

func (a *affixes) addAffixLine(f []string) error {
	if len(f) < 4 {
		return fmt.Errorf("short %s line", f[0])
	}
	flag := f[1]
	c := a.classes[flag]
	if c == nil {
		// The header: "SFX flag Y|N count".
		if _, err := strconv.Atoi(f[3]); err != nil {
			return fmt.Errorf("%s %s: header without count", f[0], flag)
		}
		a.classes[flag] = &affixClass{prefix: f[0] == "PFX", cross: f[2] == "Y"}
		return nil
	}
	if len(f) < 5 {
		f = append(f, ".") // no condition: any word
	}
	rule := affixRule{strip: f[2], add: f[3]}
	if rule.strip == "0" {
		rule.strip = ""
	}
	if add, cont, ok := strings.Cut(rule.add, "/"); ok {
		rule.add = add
		rule.cont = a.splitFlags(cont)
	}
	if rule.add == "0" {
		rule.add = ""
	}
	cond, err := parseCondition(f[4])
	if err != nil {
		return fmt.Errorf("%s %s: %w", f[0], flag, err)
	}
	rule.cond = cond
	if len(f) > 5 {
		rule.morph = strings.Join(f[5:], " ")
	}
	c.rules = append(c.rules, rule)
	return nil
}

// splitFlags splits a flag string into flags.
func (a *affixes) splitFlags(s string) []string {
	var out []string
	if !a.longFlags {
		for _, r := range s {
			out = append(out, string(r))
		}
		return out
	}
	rs := []rune(s)
	for i := 0; i+1 < len(rs); i += 2 {
		out = append(out, string(rs[i:i+2]))
	}
	return out
}

// parseCondition parses a rule condition such as "[^ao]", "." or "[^e]n".
func parseCondition(s string) ([]charClass, error) {
	if s == "." {
		return nil, nil
	}
	var out []charClass
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '.':
			out = append(out, charClass{any: true})
		case '[':
			j := i + 1
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			if j == len(rs) {
				return nil, fmt.Errorf("condition %q: unclosed [", s)
			}
			body := string(rs[i+1 : j])
			c := charClass{runes: body}
			if strings.HasPrefix(body, "^") {
				c = charClass{neg: true, runes: body[1:]}
			}
			out = append(out, c)
			i = j
		default:
			out = append(out, charClass{runes: string(rs[i])})
		}
	}
	return out, nil
}

// applySuffix returns word with the rule's suffix, or false when the rule's
// condition does not hold for word.
func (r affixRule) applySuffix(word string) (string, bool) {
	rs := []rune(word)
	if len(r.cond) > len(rs) || !strings.HasSuffix(word, r.strip) || len(r.strip) >= len(word) {
		return "", false
	}
	for i, c := range r.cond {
		if !c.match(rs[len(rs)-len(r.cond)+i]) {
			return "", false
		}
	}
	return word[:len(word)-len(r.strip)] + r.add, true
}

// applyPrefix returns word with the rule's prefix, or false when the rule's
// condition does not hold for word.
func (r affixRule) applyPrefix(word string) (string, bool) {
	rs := []rune(word)
	if len(r.cond) > len(rs) || !strings.HasPrefix(word, r.strip) || len(r.strip) >= len(word) {
		return "", false
	}
	for i, c := range r.cond {
		if !c.match(rs[i]) {
			return "", false
		}
	}
	return r.add + word[len(r.strip):], true
}
