# Vigil: every target mirrors a CI job (.github/workflows) so that local and CI runs are the same thing.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPM ?= npm

.PHONY: help install system-deps build lint format format-check typecheck check audit test test-unit test-integration test-e2e train validate-data validate-models run start bench monitoring-check image smoke stack-up stack-down stack-config stack-logs clean

# Tools the monitoring checks run; CI points them at the exact images of docker-compose.yml.
PROMTOOL ?= promtool
AMTOOL ?= amtool
COMPOSE ?= docker compose
IMAGE ?= vigil:local
DATASETS ?= iris credit

help: ## List the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

# `npm install`, not `npm ci`: the lock written by this registry mirror lists only the platform
# packages it serves (e.g. @swc/core's linux builds), and `npm ci` refuses such a lock as out of sync.
node_modules/.installed: package.json package-lock.json .npmrc
	$(NPM) install --no-audit --no-fund
	@touch $@

install: node_modules/.installed ## Install npm dependencies

system-deps: ## Install the system tools the tests use (promtool, amtool, chromium), start PostgreSQL
	bash scripts/install-system-deps.sh

build: install ## Compile TypeScript to dist/
	$(NPM) run build

lint: install ## ESLint (type-checked rules)
	$(NPM) run lint

format: install ## Rewrite files with Prettier
	$(NPM) run format

format-check: install ## Check formatting
	$(NPM) run format:check

typecheck: install ## Type-check sources and tests
	$(NPM) run typecheck

check: lint format-check typecheck ## Code quality: lint, format, types

audit: install ## npm audit: fail on high/critical advisories not in .github/audit-allowlist.json
	node .github/scripts/npm-audit.mjs

test: install system-deps check build ## Install everything, then run every check and test (the CI gate)
	$(NPM) test

test-unit: install ## Unit tests only
	$(NPM) run test:unit

test-integration: install system-deps ## Integration tests (SQLite, PostgreSQL, Prometheus)
	$(NPM) run test:integration

test-e2e: install build ## End-to-end HTTP tests
	$(NPM) run test:e2e

train: build ## Retrain the demo models into models/ (byte-reproducible)
	node dist/cli.js train --dataset iris --algorithm logreg --out models/iris
	node dist/cli.js train --dataset credit --algorithm gbdt --out models/credit

validate-data: build ## Data-quality gate on the built-in datasets (DATASETS="iris credit")
	@set -e; for dataset in $(DATASETS); do echo "== $$dataset"; node dist/cli.js validate-data --dataset "$$dataset"; done

validate-models: build ## Retrain every committed model (same seed) and require byte-identical artifacts
	@set -euo pipefail; tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; status=0; \
	for dir in models/*/; do \
	  name="$$(basename "$$dir")"; \
	  family="$$(node -p "require('./$${dir}signature.json').family")"; \
	  seed="$$(node -p "require('./$${dir}signature.json').seed")"; \
	  case "$$family" in logistic_regression) algorithm=logreg ;; gbdt) algorithm=gbdt ;; \
	    *) echo "$$name: unknown family $$family" >&2; exit 1 ;; esac; \
	  echo "== $$name ($$algorithm, seed $$seed)"; \
	  node dist/cli.js train --dataset "$$name" --algorithm "$$algorithm" --seed "$$seed" \
	    --out "$$tmp/$$name" --no-progress >/dev/null; \
	  for file in "$$dir"*; do \
	    base="$$(basename "$$file")"; \
	    committed="$$(sha256sum < "$$file" | cut -d' ' -f1)"; \
	    retrained="$$(sha256sum < "$$tmp/$$name/$$base" 2>/dev/null | cut -d' ' -f1 || true)"; \
	    if [ "$$committed" = "$$retrained" ]; then echo "  $$base  sha256 $$committed  identical"; \
	    else echo "  $$base  committed $$committed  retrained $${retrained:-missing}  DIFFERENT" >&2; status=1; fi; \
	  done; \
	done; exit $$status

run: build ## Install, bootstrap the registry from models/ and serve on $$PORT (default 8080)
	$(NPM) start

start: run

bench: build ## Benchmarks against a bare Fastify + ORT floor; writes bench/results/
	$(NPM) run bench

monitoring-check: install ## promtool, amtool, compose config and the stack/dashboard/Kibana/collector/workflow tests
	$(PROMTOOL) check config prometheus/prometheus.yml
	$(PROMTOOL) check rules prometheus/rules/*.yml
	$(PROMTOOL) test rules prometheus/tests/*.yml
	$(AMTOOL) check-config monitoring/alertmanager/alertmanager.yml
	$(COMPOSE) config --quiet
	npx jest --selectProjects integration --testPathPatterns 'test/integration/(stack|kibana|collector|workflows|prometheus|alertmanager|grafana|dashboards|metrics)'

image: ## Build the container image (IMAGE=vigil:local), labelled with the git revision
	docker build --build-arg VCS_REF="$$(git rev-parse HEAD)" --build-arg BUILD_DATE="$$(date -u +%Y-%m-%dT%H:%M:%SZ)" -t $(IMAGE) .

smoke: ## Run IMAGE read-only and probe /health/ready and one prediction
	bash .github/scripts/smoke.sh --image $(IMAGE)

stack-config: ## Validate docker-compose.yml
	docker-compose config --quiet

stack-up: ## The whole stack: API, trainer, PostgreSQL, Prometheus, Grafana, ELK, Jaeger
	docker compose up --build -d

stack-down: ## Stop the stack (volumes kept)
	docker compose down

stack-logs: ## Follow the API and one-shot setup logs
	docker compose logs -f api trainer elasticsearch-setup kibana-setup

clean: ## Remove build output and local data
	rm -rf dist data coverage
