#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) and fails on any crash.
#
#   bash fuzz/run.sh 20                 # every target, 20 s each (what CI runs)
#   bash fuzz/run.sh 3600 ingest_yaml   # one target, an hour
#   bash fuzz/run.sh totals             # executions per target, all runs
#   bash fuzz/run.sh totals 2026-12-01T09:00
#                                       # only runs recorded since then (UTC)
#   FUZZ_SANITIZER=none FUZZ_MAX_LEN=1024 bash fuzz/run.sh 3600 parse
#                                       # the long run: no ASan, inputs <= 1 KB
#
# Needs a nightly toolchain and cargo-fuzz; installs both if missing. The
# corpus of each target (fuzz/corpus/<target>/, gitignored) is seeded from the
# test corpora, the examples and the real samples in ../shared/realdata, so
# libFuzzer starts from real inputs; it keeps what it finds there between runs.
#
# The long run (before a release, or after a change to a parser): each target
# for an hour or more, a few at a time on a quiet machine, e.g.
#
#   for t in $(cargo +nightly fuzz list); do nice bash fuzz/run.sh 3600 "$t"; done
#
# and read `stat::number_of_executed_units` in each target's final stats.
# eval_reference is the slow one (it parses a generated policy and evaluates
# it twice): it reads at most 342 bytes of an input (FUZZ_MAX_LEN=384 loses
# nothing), and a build with `cargo +nightly fuzz build -s none
# --no-trace-compares eval_reference` runs it about 1.8x as fast, at the cost
# of comparisons no longer guiding its mutations.
# `-rss_limit_mb=2048` makes an input that takes more memory a crash, and
# `-timeout=30` one that takes longer than 30 s: the limits on YAML aliases
# and nesting, inlining and diagnostics exist so that neither happens. (The
# largest seeds, the 1 MB real exports, take several seconds each under
# AddressSanitizer on a busy 2-core machine: 30 s leaves room for them.)
set -euo pipefail
cd "$(dirname "$0")"

if [ "${1:-}" = totals ]; then
  # Executions per target over every run recorded here, and crashes seen.
  [ -f executions.tsv ] || { echo "no runs recorded yet" >&2; exit 1; }
  # "since crash": executions after the target's last crash, the runs
  # that count towards a clean total once the crash is fixed. A time (as
  # the ledger writes it) leaves out the runs before it: those of binaries
  # built before the last change to the code under test.
  from="${2:-}"
  printf "%-26s %14s %14s %9s %7s\n" target executions "since crash" seconds crashes
  awk -F'\t' -v from="$from" '$1 < from { next } { n[$2] += $3; s[$2] += $4; c[$2] += 0; since[$2] += $3
           if ($5 != "ok") { c[$2]++; since[$2] = 0 } }
    END { for (t in n) printf "%-26s %14d %14d %9d %7d\n", t, n[t], since[t], s[t], c[t] }' executions.tsv | sort
  exit 0
fi

# FUZZ_MAX_LEN caps an input's size for long runs: mutating the 1 MB real
# seeds costs a thousand small inputs' time; the short CI run keeps them whole.
extra=""
[ -n "${FUZZ_MAX_LEN:-}" ] && extra="-max_len=$FUZZ_MAX_LEN"
# FUZZ_SANITIZER=none builds without AddressSanitizer (its own target
# directory, so the CI build stays warm): three to six times the executions
# per second. Panics, overflow checks, debug assertions, timeouts and the
# memory limit still count as crashes; what is lost is the detection of
# memory errors in unsafe code, which the short CI run under ASan keeps.
sanitizer="${FUZZ_SANITIZER:-address}"
fuzz_flags=(-s "$sanitizer")
[ "$sanitizer" = address ] || fuzz_flags+=(--target-dir "target-$sanitizer")

seconds="${1:-60}"
case "$seconds" in
  ''|*[!0-9]*) echo "usage: $0 SECONDS [TARGET...]" >&2; exit 2 ;;
esac
shift || true

if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

all=(parse fmt_roundtrip ingest_json ingest_yaml ingest_aws_authz
  ingest_credential_report ingest_k8s ingest_opengraph ingest_gcp mapping
  serve_request eval_reference history_record diff_inputs)
if [ "$#" -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi

realdata=../../shared/realdata
[ -d "$realdata" ] || echo "note: no $realdata; seeding from the repository only" >&2

# Seed names are content hashes, as libFuzzer names its own finds, so
# re-seeding never duplicates.
seed() { # TARGET FILE...
  local target="$1" f
  shift
  mkdir -p "corpus/$target"
  for f in "$@"; do
    [ -f "$f" ] && cp "$f" "corpus/$target/seed-$(sha1sum "$f" | cut -c1-16)"
  done
  return 0
}
# Stdin as one seed, named by its content.
seed_stdin() { # TARGET
  local tmp
  tmp=$(mktemp)
  cat > "$tmp"
  seed "$1" "$tmp"
  rm -f "$tmp"
}
seed_text() { # TARGET TEXT
  printf '%s' "$2" | seed_stdin "$1"
}
# Binary seeds: FORMAT is printf's, with \xHH escapes (a shell string cannot
# hold a NUL byte, so seed_text would cut such a seed short).
seed_bytes() { # TARGET FORMAT
  printf "$2" | seed_stdin "$1"
}
# A file behind one selector byte (a target that reads several formats).
# Snapshots start with a header between two `---` lines: the file is what follows.
seed_prefixed() { # TARGET BYTE FILE...
  local target="$1" byte="$2" f
  shift 2
  for f in "$@"; do
    [ -f "$f" ] || continue
    { printf "$byte"
      if head -n 1 "$f" | grep -qx -- '---'; then awk 'n >= 2; /^---$/ && n < 2 { n++ }' "$f"; else cat "$f"; fi
    } | seed_stdin "$target"
  done
}

for target in "${targets[@]}"; do
  case "$target" in
    parse|fmt_roundtrip)
      mapfile -d '' files < <(find ../tests/syntax -name '*.gov' -type f -print0)
      seed "$target" "${files[@]}" ;;
    ingest_json)
      seed "$target" ../tests/fixtures/eval/small.json ../examples/nginx/inventory.json ../examples/acme/native.json ;;
    ingest_yaml)
      seed_text "$target" $'format: gov.inventory/v1\nmetadata: {source: fuzz}\nnodes:\n  - id: alice\n    kind: identity\n    attrs: {type: human, active: true}\n  - {id: svc, kind: service, attrs: {tier: 0}}\n  - id: bot\n    kind: identity\n    attrs:\n      type: bot\n      tags: [a, "b", \'c\']\nedges:\n  - {from: bot, to: alice, kind: owned_by}\n  - from: bot\n    to: svc\n    kind: supports\n    optional: true\n'
      seed_text "$target" $'format: gov.inventory/v1\nmetadata: &m {a: [1, 2, 3]}\ncopy: *m\nnodes: []\n' ;;
    ingest_aws_authz)
      seed "$target" ../examples/acme/aws-authorization-details.json "$realdata"/aws_authz_*.json ;;
    ingest_credential_report)
      seed "$target" ../tests/fixtures/ingest/credential_report.csv ../examples/acme/credential-report.csv ;;
    ingest_k8s)
      seed "$target" ../tests/fixtures/ingest/k8s_rbac.json ../tests/fixtures/ingest/k8s_serviceaccounts.json ../examples/acme/k8s-rbac.json ;;
    ingest_opengraph)
      seed "$target" "$realdata"/opengraph_*.json ;;
    ingest_gcp)
      seed "$target" ../tests/fixtures/gcp/*/*.json ;;
    mapping)
      seed_text "$target" $'owner: [owner, Owner, gov/owner]\nsteward: [steward]\nservice: [service, app.kubernetes.io/part-of]\ntier: [tier]\nidentity_type: [identity-type]\nopengraph:\n  kinds:\n    Okta_User: {kind: identity, type: human}\n  edges:\n    GH_CanWriteBranch: can_access\n  properties:\n    token_expires_at: expires_at\n  default_edge: can_access\n  default_kind: resource\n' ;;
    serve_request)
      seed_bytes "$target" '\x01{"decision": "call-service", "input": {"subject": "alice", "target": "payments", "action": "GET"}}\x00GET\nx-gov-identity: alice\nx-gov-target: payments\nx-original-method: DELETE'
      seed_bytes "$target" '\x00{"decision": "d", "input": {}, "now": "2026-01-01T00:00:00Z"}\x00POST\nx-gov-identity: alice\nx-gov-identity: mallory\nx-gov-decision: d\nx-gov-action: write' ;;
    eval_reference)
      seed_bytes "$target" '\x09\x00\x01\x02\x03\x04\x01\x05\x06\x07\x08\x02\x09\x0a\x0b\x0c\x03\x0d\x0e\x0f\x10\x05\x00\x01\x00\x02\x00\x03\x01\x00\x02\x00\x07\x03\x01\x04\x02\x05\x06\x07\x08\x09\x0a\x0b' ;;
    history_record)
      # A body (the target adds the header): strings "r", "e"; one scope
      # (rule r, no service, 1 checked, 0 passed); one finding of r on e.
      seed_bytes "$target" '\x02\x01r\x01e\x01\x00\x00\x01\x00\x01\x01\x02\x03\x04\x05\x06\x07\x08\x00\x01\x00\x00\x00\x00' ;;
    diff_inputs)
      seed_prefixed "$target" '\x00' ../tests/report/snapshots/report_formats__json.snap ../tests/report/snapshots/report_formats__sarif.snap
      seed_prefixed "$target" '\x01' ../tests/fixtures/diff/decisions.jsonl ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
  esac
done

# Build every target before the clock starts (optimised, with debug
# assertions and overflow checks, under AddressSanitizer: cargo-fuzz's default).
cargo +nightly fuzz build "${fuzz_flags[@]}"

# Every run appends its executions to the ledger (gitignored, beside the
# corpus it grew): `bash fuzz/run.sh totals` sums them per target.
ledger=executions.tsv
status=0
for target in "${targets[@]}"; do
  echo "==== fuzz $target for ${seconds}s"
  log=$(mktemp)
  ok=1
  cargo +nightly fuzz run "${fuzz_flags[@]}" "$target" "corpus/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
      $extra 2>&1 | tee "$log" || ok=0
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rm -f "$log"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$target" "${runs:-0}" "$seconds" \
    "$([ "$ok" = 1 ] && echo ok || echo CRASH)" "$sanitizer" >> "$ledger"
  if [ "$ok" != 1 ]; then
    echo "fuzz: $target FAILED; the crashing input is under fuzz/artifacts/$target/" >&2
    status=1
  fi
done
exit "$status"
