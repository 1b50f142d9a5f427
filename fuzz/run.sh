#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) and fails on any crash.
#
#   bash fuzz/run.sh 30
#
# Needs a nightly toolchain and cargo-fuzz; installs both if missing. The
# corpus of each target (fuzz/corpus/<target>/, gitignored) is seeded from
# the syntax test corpus, so libFuzzer starts from real policies.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-60}"
case "$seconds" in
  ''|*[!0-9]*) echo "usage: $0 SECONDS" >&2; exit 2 ;;
esac

if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

targets=(parse fmt_roundtrip)

for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  # Seed names are content hashes, as libFuzzer names its own finds, so
  # re-seeding never duplicates.
  find ../tests/syntax -name '*.gov' -type f -print0 |
    while IFS= read -r -d '' f; do
      cp "$f" "corpus/$target/seed-$(sha1sum "$f" | cut -c1-16)"
    done
done

# Build every target before the clock starts (optimised, with debug
# assertions and overflow checks, under AddressSanitizer: cargo-fuzz's default).
cargo +nightly fuzz build


status=0
for target in "${targets[@]}"; do
  echo "==== fuzz $target for ${seconds}s"
  if ! cargo +nightly fuzz run "$target" "corpus/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1; then
    echo "fuzz: $target FAILED; the crashing input is under fuzz/artifacts/$target/" >&2
    status=1
  fi
done
exit "$status"
