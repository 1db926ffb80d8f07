#!/usr/bin/env bash
# Everything to run before pushing: formatting, lints as errors, and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
scripts/test
