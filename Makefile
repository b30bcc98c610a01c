# mediatrail: `make run` starts the whole system locally, `make test` runs every test.
# Both install what they need first (scripts/setup.sh, idempotent).

SHELL := /bin/bash
GO ?= go
LOCALSTACK := $(GO) run ./cmd/localstack
# Lambda builds: AL2023 on Graviton, no RPC shim, static binary named bootstrap.
LAMBDA_ENV := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'
ARTIFACTS_DIR ?= bin

.PHONY: setup run test bench build vet clean

setup:
	@bash scripts/setup.sh

run: setup
	@$(LOCALSTACK) run

test: setup vet
	@$(LOCALSTACK) exec -- $(GO) test -count=1 -timeout 20m ./...

vet:
	@$(GO) vet ./...

# Benchmarks against the emulators: presigns/s, list latency first vs deep page.
bench: setup
	@$(LOCALSTACK) exec -- $(GO) test -run '^$$' -bench . -benchtime 200x ./shared/...

# build-<LogicalId> targets are what `sam build` calls (BuildMethod: makefile).
define lambda_target
build-$(1):
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $$(ARTIFACTS_DIR)/bootstrap ./functions/$(2)
endef
FUNCTIONS := AssetListFunction:asset-list AssetGetFunction:asset-get AssetDeleteFunction:asset-delete \
	AssetSignedUrlFunction:asset-signed-url AssetRegisterFunction:asset-register AssetCompleteFunction:asset-complete
$(foreach f,$(FUNCTIONS),$(eval $(call lambda_target,$(word 1,$(subst :, ,$(f))),$(word 2,$(subst :, ,$(f))))))

# Builds every function's bootstrap into bin/<name>/bootstrap.
build:
	@for d in functions/*/; do n=$$(basename $$d); \
		$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o bin/$$n/bootstrap ./functions/$$n || exit 1; done

clean:
	rm -rf bin .aws-sam
