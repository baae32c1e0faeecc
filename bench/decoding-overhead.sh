#!/usr/bin/env bash
# Decoding overhead: `keyhound scan --no-ignore` of a large plain tree (default: this machine's
# Python standard library and site-packages) with decoding and archives on, and with
# --no-decode / --no-archives (-i: findings exit 1). Usage: bench/decoding-overhead.sh [TREE]
set -euo pipefail
cd "$(dirname "$0")/.."
tree=${1:-$(python3 -c 'import sysconfig;print(sysconfig.get_paths()["stdlib"])')}
keyhound=${KEYHOUND:-target/release/keyhound}
cargo build --release --quiet
hyperfine -i --warmup 1 --runs "${RUNS:-5}" -N --export-markdown "${EXPORT:-/dev/null}" \
    -n "default (decode + archives)" "$keyhound scan --no-ignore -q $tree" \
    -n "no-archives" "$keyhound scan --no-ignore -q --no-archives $tree" \
    -n "no-decode" "$keyhound scan --no-ignore -q --no-decode $tree" \
    -n "no-decode no-archives" "$keyhound scan --no-ignore -q --no-decode --no-archives $tree"
