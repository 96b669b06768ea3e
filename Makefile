# Herald: the two commands are `make run` and `make test`.
GO ?= go
PKGS ?= ./...

.PHONY: run test deps test-go build bench vet fmt

run:
	$(GO) run ./cmd/herald serve

build:
	CGO_ENABLED=0 $(GO) build -o bin/herald ./cmd/herald

# test installs/starts what the tests need (idempotent), then runs every test
# with the race detector.
test: deps test-go

deps:
	./scripts/test-deps.sh

test-go:
	$(GO) vet $(PKGS)
	$(GO) test -race -timeout 12m $(PKGS)

bench:
	$(GO) run ./cmd/herald bench

fmt:
	gofmt -w $$(git ls-files '*.go')
