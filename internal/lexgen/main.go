// Command lexgen derives the Dutch word form → lemma table that the
// retrieval analyzers use (retrieval/lexicon/lemmas.tsv.gz) from the
// OpenTaal Hunspell dictionary (Debian package hunspell-nl, BSD-3-Clause or
// CC BY 3.0). It expands the dictionary's affix rules and links a verb's
// stem, infinitive and participle lines; see lemmatizer.
//
//	go run ./internal/lexgen -aff /usr/share/hunspell/nl.aff -dic /usr/share/hunspell/nl.dic \
//	    -out retrieval/lexicon/lemmas.tsv.gz
//
// The output is gzip'd text: comment lines starting with #, then one
// lemma a line, "lemma<TAB>form form ...", sorted.
package main

import (
	"bufio"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "lexgen:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("lexgen", flag.ContinueOnError)
	affPath := fs.String("aff", "/usr/share/hunspell/nl.aff", "Hunspell affix file")
	dicPath := fs.String("dic", "/usr/share/hunspell/nl.dic", "Hunspell dictionary file")
	out := fs.String("out", "", "output file (gzip); required")
	maxLen := fs.Int("maxlen", 0, "leave out forms longer than this many bytes (0: no limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("-out is required")
	}
	af, err := os.Open(*affPath)
	if err != nil {
		return fmt.Errorf("open aff: %w", err)
	}
	defer af.Close()
	aff, err := parseAffixes(af)
	if err != nil {
		return fmt.Errorf("%s: %w", *affPath, err)
	}
	df, err := os.Open(*dicPath)
	if err != nil {
		return fmt.Errorf("open dic: %w", err)
	}
	defer df.Close()
	entries, err := parseDic(df, aff)
	if err != nil {
		return fmt.Errorf("%s: %w", *dicPath, err)
	}
	l := newLemmatizer(aff, entries)
	var keep func(string) bool
	if *maxLen > 0 {
		keep = func(w string) bool { return len(w) <= *maxLen }
	}
	forms := l.table(keep)
	if err := write(*out, forms); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d entries, %d forms that differ from their lemma, written to %s\n", len(entries), len(forms), *out)
	return nil
}

const header = `# Dutch word form -> lemma, derived by internal/lexgen from the OpenTaal
# Hunspell dictionary (hunspell-nl 2.20.19; https://github.com/OpenTaal/opentaal-hunspell),
# (c) 1996 Nederlandstalige TeX Gebruikersgroep, (c) 2001-2005 Simon Brouwer e.a.,
# (c) 2006-2020 OpenTaal; used under the Revised BSD License (see NOTICE).
# Changed: affix rules expanded, forms folded to lower case without diacritics,
# verb stem, infinitive and participle linked. Format: lemma<TAB>forms.
`

func write(path string, forms []form) error {
	byLemma := map[string][]string{}
	for _, f := range forms {
		byLemma[f.lemma] = append(byLemma[f.lemma], f.form)
	}
	lemmas := make([]string, 0, len(byLemma))
	for l := range byLemma {
		lemmas = append(lemmas, l)
	}
	sort.Strings(lemmas)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		f.Close()
		return fmt.Errorf("gzip %s: %w", path, err)
	}
	w := bufio.NewWriter(zw)
	w.WriteString(header)
	for _, l := range lemmas {
		fs := byLemma[l]
		sort.Strings(fs)
		fmt.Fprintf(w, "%s\t%s\n", l, strings.Join(fs, " "))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}
