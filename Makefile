# config-service: `make run` starts the service on SQLite, `make test` runs every check.
# Only Node.js and npm are assumed: a pinned Bun is fetched from npm when none is on PATH.

BUN_VERSION := 1.4.5
SHELL := /bin/bash
.DEFAULT_GOAL := help

TOOLS_BUN := .tools/node_modules/.bin/bun
BUN := $(or $(shell command -v bun 2>/dev/null),$(TOOLS_BUN))
BIN := node_modules/.bin

.PHONY: help install run run-deno run-postgres test test-fast check test-tools test-bun test-deno readme clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# Bun's package puts the platform's binary in place in its postinstall: it is run here by name,
# so that npm's install-scripts policy neither warns about it nor, in a stricter npm, skips it.
$(TOOLS_BUN):
	npm install --prefix .tools --no-save --no-package-lock --no-audit --no-fund --ignore-scripts bun@$(BUN_VERSION)
	cd .tools/node_modules/bun && node install.js

# bun runs no dependency's lifecycle script it does not trust, and says so ("Blocked 1
# postinstall"): deno's, which only swaps its Node.js launcher for the binary (both work). The
# line looks like a failure and is none, so it is left out; `bun pm untrusted` lists it. So is
# "warn: Slow filesystem detected", which bun prints when copying from its cache took long: on
# a busy machine's local disk too, where it is no fault of the install.
node_modules/.installed: package.json bun.lock | $(BUN)
	@echo '$(BUN) install --frozen-lockfile'
	@set -o pipefail; $(BUN) install --frozen-lockfile 2>&1 | \
	  { grep -v -e '^Blocked [0-9]* postinstall' -e '^warn: Slow filesystem detected' || true; }
	@touch $@

install: node_modules/.installed ## Install Bun (if missing) and the locked dependencies

run: install ## Run the service on SQLite (./data/configs.db) at SERVE_PORT (4999)
	$(BUN) src/main.ts

run-deno: install ## Run the same service on Deno (package.json's start:deno, the one Deno command line)
	$(BUN) run start:deno

run-postgres: install ## A throwaway PostgreSQL and two replicas on it (PORTS="4999 5000"); Ctrl-C stops all and removes it
	$(BUN) scripts/run-postgres.ts

# The checks are independent of each other: they run side by side, each one's output printed
# together when it ends, and check fails when any of them does.
CHECKS := check-types check-console-types check-deno check-lint check-layout
.PHONY: check-types check-console-types check-deno check-lint check-layout

check: install ## Type-check (tsc, the console's JSDoc-typed modules, deno check), lint/format-check (Biome), src/ layout (dependency direction, file length)
	@MAKEFLAGS= $(MAKE) --no-print-directory -j $(words $(CHECKS)) --output-sync=target $(CHECKS)

check-types: ## Part of check: tsc over src/ and test/
	$(BIN)/tsc --noEmit -p .
check-console-types: ## Part of check: tsc over the console's JSDoc-typed modules
	$(BIN)/tsc --noEmit -p src/console
check-deno: ## Part of check: deno check of the Deno entry point
	$(BIN)/deno check --no-config --node-modules-dir=manual src/main.deno.ts
check-lint: ## Part of check: Biome (lint and format)
	$(BIN)/biome check .
check-layout: ## Part of check: dependency direction and file length of src/
	$(BUN) test/layout/check-layout.ts

# bun test's default of 5 s a test (bunfig.toml does not change it) is too short for a test that
# starts a service, PostgreSQL or Chromium on a busy machine; tests that promise speed say so.
BUN_TEST := $(BUN) test --timeout 60000

# The suites that run in the test process alone: no service or tool started, no PostgreSQL, no
# Chromium (test/support/in-process-only.ts makes starting a process fail). A new suite of that
# kind belongs here too; the SQLite store contract is left to make test (it waits on fsync).
FAST_TESTS := test/app test/configs/access.test.ts test/configs/consumer-reports.test.ts test/configs/filter-match.test.ts \
  test/configs/merge-patch.test.ts test/configs/model.test.ts test/configs/prefix-range.test.ts \
  test/configs/read-model.test.ts test/configs/sorted-names.test.ts test/configs/watch-view.test.ts \
  test/configs/write-rules.test.ts test/configs/pass-on.test.ts test/configs/watch-join.test.ts \
  test/configs/watcher.test.ts test/configs/watch-fan-out.test.ts \
  test/access/jwt.test.ts test/client/client.test.ts test/console/console-modules.test.ts \
  test/console/console-routes.test.ts test/http/access-gate.test.ts test/http/health.test.ts \
  test/http/watch-hub.test.ts test/observability/access-log.test.ts test/observability/id-source.test.ts \
  test/observability/info-line.test.ts test/observability/metrics.test.ts \
  test/observability/otel-settings.test.ts test/observability/redact.test.ts \
  test/observability/request-id.test.ts test/observability/semantic-attributes.test.ts \
  test/observability/series-histogram.test.ts test/observability/tracing.test.ts test/settings.test.ts \
  test/rollouts/rollout-api.test.ts test/rollouts/rollout-consumers.test.ts \
  test/rollouts/rollout-executor.test.ts test/rollouts/rollout-feed.test.ts \
  test/store/sqlite-list-scan.test.ts test/store/sqlite-read-snapshot.test.ts \
  test/support/exposition-parser.test.ts

test-fast: install ## The in-process suites alone (domain, app, access, observability; no process, PostgreSQL or Chromium): seconds, for the inner loop
	$(BUN_TEST) --preload ./test/support/in-process-only.ts $(FAST_TESTS)

# What the suites need besides the locked dependencies, installed where missing (README "Tests").
test-tools: ## Install what the suites need where missing (PostgreSQL, Chromium, Prometheus, kubectl)
	test/support/ensure-postgres.sh
	test/support/ensure-chromium.sh
	test/support/ensure-prometheus.sh
	test/support/ensure-kubectl.sh

test-bun: install test-tools ## Every file under test/ on Bun, in one run
	$(BUN_TEST)

# make test runs the Bun suites as three runs side by side: one run alone leaves a core idle
# while its tests wait for processes to start and answer. Each folder or file under test/ is in
# exactly one shard, and the suites that build the same file under dist/ are in the same one
# (test/layout/test-shards.test.ts checks both). Shard 1 is the browser and the store contracts,
# shard 2 what builds; they are balanced so that the three end together (CONTRIBUTING, "How long
# the tests take"). bun test takes each as a part of a path, so folders end with a slash
# (test/cli/ is not test/client/).
BUN_SHARD_1 := test/console/ test/docs/ test/store/
BUN_SHARD_2 := test/startup.test.ts test/cli/ test/first-run/ test/deploy/ test/rollouts/ test/monitoring/
BUN_SHARD_3 := test/http/ test/access/ test/observability/ test/replicas/ test/layout/ \
  test/client/ test/configs/ test/lifecycle/ test/app/ test/smoke/ test/bench/ test/support/ \
  test/settings.test.ts
BUN_SHARDS := test-bun-1 test-bun-2 test-bun-3
.PHONY: test-bun-1 test-bun-2 test-bun-3

test-bun-1: install test-tools ## Part of test-bun: the browser suites and the store contracts (BUN_SHARD_1)
	$(BUN_TEST) $(BUN_SHARD_1)

test-bun-2: install test-tools ## Part of test-bun: the suites that build under dist/, and monitoring (BUN_SHARD_2)
	$(BUN_TEST) $(BUN_SHARD_2)

test-bun-3: install test-tools ## Part of test-bun: the rest (BUN_SHARD_3)
	$(BUN_TEST) $(BUN_SHARD_3)

test-deno: install test-tools ## The black-box HTTP suites against Deno-started servers
	TEST_RUNTIME=deno $(BUN_TEST) test/http

# The checks, the Bun shards and the Deno run need nothing of each other: side by side they keep
# both cores busy. Each one's output is printed together when it ends.
test: ## Every check and every test (what CI runs)
	@$(MAKE) --no-print-directory -j 5 --output-sync=target check $(BUN_SHARDS) test-deno

readme: install ## Rewrite the README's settings table from src/settings.ts (a test fails while it is stale)
	$(BUN) scripts/readme-settings.ts

clean: ## Remove installed tools, local data and dist/
	rm -rf node_modules .tools data dist

# What the image runs (Dockerfile, README "Container image"): the service as one bundle, its lazily
# loaded parts (PostgreSQL store, tracing exporters) in chunks beside it. package.json's bundle
# script is the one command line, shared with the Dockerfile's build stage.
.PHONY: bundle

bundle: install ## Build dist/service/main.js, the bundle the image runs (bun dist/service/main.js)
	$(BUN) run bundle

# configctl as one standalone executable (README "configctl"); rebuilt when its sources change.
CLI_SOURCES := $(shell find src/cli src/client src/configs -name '*.ts' 2>/dev/null) src/app.ts
.PHONY: cli

cli: dist/configctl ## Build dist/configctl, the command-line client, as one executable (no runtime needed)

dist/configctl: node_modules/.installed $(CLI_SOURCES)
	$(BUN) build --compile --minify --sourcemap=none src/cli/configctl.ts --outfile $@

# Container image and Kubernetes (kustomize/, docs/KUBERNETES.md).
IMAGE ?= config-service:dev
.PHONY: docker-build deploy-minikube undeploy-minikube smoke

docker-build: ## Build the container image (IMAGE=config-service:dev; needs a Docker engine)
	docker build -t $(IMAGE) .

deploy-minikube: ## Build the image into minikube, apply kustomize/overlays/minikube, print URLs (JAEGER=1 adds Jaeger, MONITORING=1 monitoring)
	JAEGER=$(JAEGER) MONITORING=$(MONITORING) kustomize/minikube.sh deploy

undeploy-minikube: ## Delete the minikube deployment, its PostgreSQL volume included
	kustomize/minikube.sh undeploy

# The token, when the instance needs one, comes from the environment (SMOKE_TOKEN), not the command line.
smoke: install ## Black-box smoke suite against a running instance: make smoke URL=http://host:port
	@if [[ -z "$(URL)" ]]; then echo "usage: make smoke URL=http://host:port (and SMOKE_TOKEN=<api token> in the environment when the instance needs one)" >&2; exit 2; fi
	SMOKE_URL='$(URL)' $(BUN_TEST) test/smoke

# Load benchmarks (bench/README.md): the service and its baselines side by side in one run.
.PHONY: bench bench-smoke

bench: install ## Benchmarks vs a bare Bun.serve, etcd and the disk's fsync (BENCH_STORE=postgres for PostgreSQL)
	bench/install-tools.sh
	$(BUN) bench/run.ts

bench-smoke: install ## A short benchmark run, only to see that it runs (CI runs it from test/bench)
	bench/install-tools.sh
	BENCH_SMOKE=1 $(BUN) bench/run.ts
