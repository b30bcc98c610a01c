# mediatrail: `make run` starts the whole system locally, `make test` runs every test.
# Both install what they need first (scripts/setup.sh, idempotent).

SHELL := /bin/bash
GO ?= go
LOCALSTACK := $(GO) run ./cmd/localstack
# Lambda builds: AL2023 on Graviton, no RPC shim, static binary named bootstrap.
LAMBDA_ENV := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'
ARTIFACTS_DIR ?= bin

.PHONY: setup run invoke demo load reconcile test fuzz bench bench-video bench-media bench-cold bench-reconcile bench-all build vet clean

setup:
	@bash scripts/setup.sh

# RUNTIME=inprocess runs the handlers inside the stack process instead of each
# bootstrap under aws-lambda-rie.
run: setup
	@$(LOCALSTACK) run $(if $(RUNTIME),-runtime $(RUNTIME))

# The `sam local invoke` equivalent: runs a function's bootstrap under
# aws-lambda-rie with an event (default events/<name>.json) and prints the
# response. Uses a running `make run`, or starts the stack for the call.
#   make invoke FN=AssetListFunction [EVENT=events/asset-list.json]
invoke: setup
	@$(LOCALSTACK) invoke $(FN) $(EVENT)

# One agent execution creating one asset of each kind with the offline
# provider local (tts, stt, image_gen, image_edit, video_gen,
# video_from_image), in a running `make run` or a stack started on .data for
# the run; prints the trace summary and each asset's signed URL.
demo: setup
	@$(GO) run ./cmd/demo

# Drives the running `make run` (or a stack it starts on .data) with vegeta:
# list, get, signed-url, register + PUT + complete and delete in two fresh
# workspaces, beside a no-op function behind the same gateway and runtime;
# 20 then 100 clients, 60 s each; prints per-route p50/p95/p99, throughput
# and errors, and DynamoDB Local's GetItem latency beside each phase and
# alone after it, then checks that no acknowledged asset was lost.
# FUNCTION_ENV=API_KEY_CACHE_TTL=5s sets variables in every function of the
# stack it starts.
#   make load [DURATION=10s] [CLIENTS=20,100] [RATE=0] [FUNCTION_ENV=K=V,...]
load: setup
	@$(GO) run ./cmd/load $(if $(DURATION),-duration $(DURATION)) $(if $(CLIENTS),-clients $(CLIENTS)) $(if $(RATE),-rate $(RATE)) $(if $(FUNCTION_ENV),-function-env $(FUNCTION_ENV))

# Reconciles records and blobs once (an execution of ReconcileStateMachine, as
# its nightly schedule starts) in a running `make run`, or in a stack started on
# .data for the call, and prints the report. DRY_RUN=1 only reports what it
# would repair.
reconcile: setup
	@$(LOCALSTACK) invoke ReconcileStateMachine $(if $(DRY_RUN),events/reconcile-dry-run.json)

# -race costs about 1.5x in go test ./.... -parallel 4: the stack tests mostly
# wait on the emulators, functions and fakes, so four at a time keep 2 cores
# busy. The whole target took 202 s warm (284 s user, 54 s sys) on 2 cores
# at load about 3, against 383 s (381 s CPU) before -parallel, parallel stack
# tests and FUZZTIME 2000x; go test is about 180 s of it.
test: setup vet fuzz
	@$(LOCALSTACK) exec -- $(GO) test -race -count=1 -parallel 4 -timeout 20m ./...

# Fuzzes each parser for FUZZTIME (seed corpora in testdata/fuzz run with
# every `go test`; a failing input is written there to commit as a regression).
# Offline: no emulator. `make fuzz FUZZTIME=10m` for a longer hunt. The default
# is a count of executions, not a duration: with a duration, Go 1.26's fuzz
# coordinator can fail a target with "context deadline exceeded" at the
# deadline on a busy machine, with no failing input (golang/go#75804). 2000
# executions a target take about 18 s for all seven on this machine.
FUZZTIME ?= 2000x
FUZZ_TARGETS := ./shared/dynamo:FuzzCursor ./shared/providers/local:FuzzParseOperations \
	./internal/localstack:FuzzTranslateVersitygwEvent ./shared:FuzzParseStorageKey \
	./shared/providers:FuzzParseRetryAfter ./shared/s3:FuzzContentDisposition ./internal/localstack:FuzzMatchPath
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		out=$$($(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}" 2>&1) || \
		{ echo "$$out" | tail -40; echo "fuzz $$t failed"; exit 1; }; \
	done; echo "fuzz: $(words $(FUZZ_TARGETS)) targets, $(FUZZTIME) each"

vet:
	@$(GO) vet ./...

# Benchmarks. Presigned GET URLs per second on one core and the speed-up over
# the SDK's PresignClient, measured side by side (offline); then, against the
# emulators, the others (list latency first vs deep page, ...).
bench: setup
	@$(GO) test -run '^$$' -bench '^BenchmarkPresignGet$$' -cpu 1 -benchtime 2s ./shared/s3/
	@$(LOCALSTACK) exec -- $(GO) test -run '^$$' -skip '^BenchmarkPresignGet$$' -bench . -benchtime 200x ./shared/...

# Stores generated videos (64 MiB and 1 GiB; MIB=... for others) through the
# video Store step into versitygw and prints peak RSS next to the body size.
# Not part of `make test`: it moves a gigabyte.
MIB ?= 64,1024
bench-video: setup
	@$(LOCALSTACK) exec -- $(GO) run ./cmd/videobench -mib $(MIB)

# Seeds N ready records and their objects (cumulative sizes) into DynamoDB
# Local and versitygw and reconciles them as the reconcile state machine does
# (Plan, table pages, blobs pages, Finish; the function's handler in-process);
# prints time and peak RSS per size and the ratio (memory flat in the count).
# 100,000 objects seed at about 200 a second on this shared 2-core machine
# (about 9 minutes, then as long to reconcile): N=10000,30000 for a quicker
# run (pages are full from about 8,000 records, so smaller sizes hold less).
N ?= 10000,100000
bench-reconcile: setup
	@$(LOCALSTACK) exec -- $(GO) run ./cmd/reconcilebench -n $(N)

# Runs bench, bench-cold, bench-video, bench-reconcile and load one after the
# other and writes BENCHMARKS.md (each figure, its baseline, ratio and goal,
# the machine, the command reproducing it). Sizes are shortened so that the
# whole takes about half an hour on this shared 2-core machine: 20,000
# assets and spans, 3 cold starts, 10,000 and 30,000 objects (both past the
# size where reconcile pages are full), 10 s load phases.
bench-all: setup
	@$(GO) run ./cmd/benchall -out BENCHMARKS.md -bench-assets 20000 -runs 3 -mib 64,1024 -n 10000,30000 -duration 10s -clients 20,100

# Peak RSS of each media function of the local provider for the largest input
# it admits, next to its MemorySize in template.yaml; fails above it.
bench-media: setup
	@$(GO) run ./cmd/mediabench

# Each function's bootstrap size (linux/arm64 as make build builds it) and
# init-to-first-response under aws-lambda-rie (host build, median of RUNS, at
# least 15 for hello-world and asset-get, whose ratio has a goal),
# next to a hello-world aws-lambda-go bootstrap measured in the same run;
# with asset-get, the row asset-get+db: its first request reading the key and
# the asset from DynamoDB Local (hence the emulators).
# FUNCTIONS=asset-get,asset-list limits it. Fails when the goals are missed.
RUNS ?= 7
bench-cold: setup
	@$(LOCALSTACK) exec -- $(GO) run ./cmd/coldbench -runs $(RUNS) $(if $(FUNCTIONS),-functions $(FUNCTIONS))

# build-<LogicalId> is what `sam build` calls (BuildMethod: makefile). The folder
# follows from the LogicalId as in localstack.FunctionName, so no list to keep:
# AssetSignedUrlFunction → functions/asset-signed-url.
function_dir = functions/$(shell echo '$(1)' | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr '[:upper:]' '[:lower:]')
build-%Function:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./$(call function_dir,$*)

# Builds every function's bootstrap into bin/<name>/bootstrap.
build:
	@for d in functions/*/; do n=$$(basename $$d); \
		$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o bin/$$n/bootstrap ./functions/$$n || exit 1; done

clean:
	rm -rf bin .aws-sam
