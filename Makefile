# Vigil: every target mirrors a CI job (.github/workflows) so that local and CI runs are the same thing.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPM ?= npm

.PHONY: help install system-deps build lint format format-check typecheck check test test-unit test-integration test-e2e train run start bench stack-up stack-down stack-config clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json .npmrc
	$(NPM) ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed ## Install npm dependencies (npm ci)

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

run: build ## Install, bootstrap the registry from models/ and serve on $$PORT (default 8080)
	$(NPM) start

start: run

bench: build ## Benchmarks against a bare Fastify + ORT floor; writes bench/results/
	$(NPM) run bench

stack-config: ## Validate docker-compose.yml
	docker-compose config --quiet

stack-up: ## The whole stack: API, trainer, PostgreSQL, Prometheus, Grafana, ELK, Jaeger
	docker compose up --build -d

stack-down: ## Stop the stack (volumes kept)
	docker compose down

clean: ## Remove build output and local data
	rm -rf dist data coverage
