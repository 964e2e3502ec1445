// Command gen trains the policy classifier on the training split of the
// embedded examples with DefaultOptions and writes model.gob.gz (run by
// `go generate ./node/policy`).
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"

	"github.com/assistent-nl/assistent/node/policy"
)

func main() {
	all, err := policy.Examples()
	if err != nil {
		log.Fatal(err)
	}
	train, held := policy.Split(all)
	m, err := policy.Train(train, policy.DefaultOptions())
	if err != nil {
		log.Fatal(err)
	}
	hash, err := policy.EmbeddedDataHash()
	if err != nil {
		log.Fatal(err)
	}
	var b bytes.Buffer
	if err := policy.WriteModel(&b, m, hash); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("model.gob.gz", b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("model.gob.gz: %d bytes, %d features, trained on %d of %d examples (%d held out)\n", b.Len(), m.Features(), len(train), len(all), len(held))
}
