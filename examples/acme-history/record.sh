#!/usr/bin/env bash
# Makes Acme's finding history (examples/acme-history/runs/) by running gov on the
# earlier inventory states, oldest first. Usage: record.sh [GOV] [HISTORY_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
gov=${1:-target/debug/gov}
history=${2:-examples/acme-history/runs}
rm -rf "$history"
for day in 2026-10-25 2026-11-08; do
  "$gov" eval policies/ examples/acme/exceptions.gov --history "$history" --now "$day" \
    -i examples/acme/aws-authorization-details.json -i examples/acme/credential-report.csv \
    -i examples/acme/k8s-rbac.json -i "examples/acme-history/states/$day/native.json" \
    --format metrics-json --fail-on never >/dev/null
done
