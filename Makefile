# Shortcuts; plain `go test ./...` always works too.

.PHONY: test gen lint ci

# test runs the whole suite the way CI does.
test:
	go test -race ./...

# gen regenerates gen/ from proto/.
gen:
	go tool buf generate

# lint runs the static checks of CI.
lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/'))"; \
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted (run gofmt -w):"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	go tool staticcheck ./...
	go tool buf lint

# ci runs the CI script.
ci:
	bash .ci/run
