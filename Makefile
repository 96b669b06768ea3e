# Herald: the two commands are `make run` and `make test`.
GO ?= go
PKGS ?= ./...

.PHONY: run test deps test-go build bench vet fmt fuzz

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

# fuzz runs each fuzz target for FUZZTIME (one at a time: go test fuzzes a
# single target per run). `make test` already runs their seed corpora
# (testdata/fuzz/<Name>/ and the f.Add seeds); new failing inputs are written
# there, to be committed with the fix.
FUZZTIME ?= 5s
fuzz:
	$(GO) test -run=^$$ -fuzz=^FuzzMatch$$ -fuzztime=$(FUZZTIME) ./internal/match
	$(GO) test -run=^$$ -fuzz=^FuzzVerify$$ -fuzztime=$(FUZZTIME) ./internal/signing
	$(GO) test -run=^$$ -fuzz=^FuzzParseEvents$$ -fuzztime=$(FUZZTIME) ./internal/api
	$(GO) test -run=^$$ -fuzz=^FuzzDecodeWebhookInput$$ -fuzztime=$(FUZZTIME) ./internal/api
	$(GO) test -run=^$$ -fuzz=^FuzzDurationJSON$$ -fuzztime=$(FUZZTIME) .
	$(GO) test -run=^$$ -fuzz=^FuzzRenderTemplate$$ -fuzztime=$(FUZZTIME) ./internal/format
	$(GO) test -run=^$$ -fuzz=^FuzzInline$$ -fuzztime=$(FUZZTIME) ./internal/store/attemptpack
	$(GO) test -run=^$$ -fuzz=^FuzzDeliveryKey$$ -fuzztime=$(FUZZTIME) ./internal/store/sqlite

bench:
	$(GO) run ./cmd/herald bench

fmt:
	gofmt -w $$(git ls-files '*.go')
