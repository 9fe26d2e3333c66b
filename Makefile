# Tasktray: `make run` sets up and starts the app, `make test` sets up and runs every test,
# `make bench` runs the benchmarks. Each installs what it needs first.

CARGO ?= cargo
# An outer bound on each test run, so a hung test fails instead of hanging CI.
TEST_TIMEOUT ?= 2400

.PHONY: all deps ui-dist build run test check fmt-check clippy core-has-no-tauri test-ui test-rust test-schema test-e2e test-deb bench deb install uninstall clean

all: build

deps:
	@scripts/install-deps.sh

build: deps ui-dist
	$(CARGO) build --workspace --bins

# npm packages, installed again only when the lock file changed.
ui/node_modules/.package-lock.json: ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund

# The app embeds the built UI at compile time, so it must exist before any cargo build.
ui-dist: ui/node_modules/.package-lock.json
	cd ui && npm run build

run: build
	./target/debug/tasktray

test: deps ui-dist check test-ui test-rust test-schema test-e2e test-deb

check: fmt-check clippy core-has-no-tauri

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p tasktray-e2e --test package -- -D warnings

# The core crate must never depend on Tauri (docs/design.md, house rules).
core-has-no-tauri:
	@if $(CARGO) tree -p supervisor -e normal | grep -q tauri; then \
		echo "crates/supervisor depends on tauri"; exit 1; fi

# The frontend: type check (warnings fail) and Vitest with mocked IPC.
test-ui: ui-dist
	cd ui && npm run check && npm test

# The real Claude Code CLI for tests/real-cli, pinned in tests/package-lock.json.
tests/node_modules/.package-lock.json: tests/package.json tests/package-lock.json
	cd tests && npm ci --no-audit --no-fund

test-rust: tests/node_modules/.package-lock.json
	timeout $(TEST_TIMEOUT) $(CARGO) test --workspace

# The local API fuzzed by schemathesis against the OpenAPI document it serves, over a real
# supervisor with the fake agent in a temp folder (tests/schema/README.md).
test-schema: deps
	timeout $(TEST_TIMEOUT) tests/schema/run.sh $(CARGO)

# The real app in a real webview under Xvfb, with stub tray and notification servers.
test-e2e: ui-dist
	timeout $(TEST_TIMEOUT) tests/e2e/run.sh $(CARGO) test -p tasktray-e2e -- --include-ignored --test-threads=1

# The supervisor's and the app's figures (the release app in a private Xvfb and D-Bus), then the
# live view's (Chromium with mocked IPC; see ui/README.md).
bench: deps ui-dist
	$(CARGO) build --release -p tasktray --features custom-protocol
	$(CARGO) build --release -p fake-claude -p taskctl -p tasktray-bench
	./target/release/tasktray-bench
	@command -v chromium >/dev/null || scripts/install-deps.sh chromium
	cd ui && npm run bench
	TASKTRAY_E2E_BENCH=1 TASKTRAY_E2E_BUILD=0 TASKTRAY_E2E_BIN_DIR=$(CURDIR)/target/release tests/e2e/run.sh $(CARGO) test -p tasktray-e2e --test responsive -- --ignored --nocapture click_answered_under_load

# Tauri's bundler (tauri-cli from npm, pinned to the tauri crate's version), for the package.
packaging/node_modules/.package-lock.json: packaging/package.json packaging/package-lock.json
	cd packaging && npm ci --no-audit --no-fund

# The Debian package of the release build; its path is the last line (docs/packaging.md).
deb: deps ui-dist packaging/node_modules/.package-lock.json
	$(CARGO) build --release -p tasktray --features custom-protocol
	$(CARGO) build --release -p supervisor -p taskctl --bins
	@packaging/deb.sh release

# The package of the debug build that test-e2e built (the same script as `make deb`, so no
# release build in CI), checked unpacked, its app under Xvfb, and installed with apt as root.
test-deb: ui-dist packaging/node_modules/.package-lock.json
	$(CARGO) build -p tasktray -p supervisor -p taskctl -p fake-claude --bins
	deb=$$(packaging/deb.sh debug) && TASKTRAY_E2E_DEB=$$deb TASKTRAY_E2E_BUILD=0 \
		timeout $(TEST_TIMEOUT) tests/e2e/run.sh $(CARGO) test -p tasktray-e2e --test package -- --include-ignored --test-threads=1

# A user-local install from source, without root (PREFIX=~/.local unless given).
PREFIX ?= $(HOME)/.local
install: deps ui-dist
	$(CARGO) build --release -p tasktray --features custom-protocol
	$(CARGO) build --release -p supervisor -p taskctl --bins
	packaging/install.sh install $(CURDIR)/target/release $(PREFIX)

uninstall:
	packaging/install.sh uninstall $(PREFIX)

clean:
	$(CARGO) clean
