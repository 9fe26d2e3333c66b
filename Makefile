# Tasktray: `make run` sets up and starts the app, `make test` sets up and runs every test,
# `make bench` runs the benchmarks. Each installs what it needs first.

CARGO ?= cargo
# An outer bound on each test run, so a hung test fails instead of hanging CI.
TEST_TIMEOUT ?= 2400

.PHONY: all deps ui-dist build run test check fmt-check clippy core-has-no-tauri test-rust bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps ui-dist
	$(CARGO) build --workspace --bins

# The app embeds the built UI at compile time, so it must exist before any cargo build.
ui-dist:
	@if [ -f ui/package.json ]; then \
		cd ui && (npm ci --no-audit --no-fund >/dev/null || npm ci --no-audit --no-fund) && npm run build; \
	else mkdir -p ui/dist; fi

run: build
	@echo "The tray app arrives with the next milestone; taskctl runs tasks today:"
	./target/debug/taskctl --help

test: deps ui-dist check test-rust

check: fmt-check clippy core-has-no-tauri

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The core crate must never depend on Tauri (STYLE.md, rule 1).
core-has-no-tauri:
	@if $(CARGO) tree -p supervisor -e normal | grep -q tauri; then \
		echo "crates/supervisor depends on tauri"; exit 1; fi

test-rust:
	timeout $(TEST_TIMEOUT) $(CARGO) test --workspace

bench: deps ui-dist
	$(CARGO) build --release -p fake-claude -p tasktray-bench
	./target/release/tasktray-bench

clean:
	$(CARGO) clean
