#!/usr/bin/env bash
# Findings per rule on real trees nobody here wrote, keyhound beside gitleaks, betterleaks and
# kingfisher (peers run inside `unshare -n`, kingfisher with --no-validate).
#
# Usage: bench/precision.sh [KEYHOUND_BINARY]        (default: target/release/keyhound)
# Environment:
#   OUT      where reports go (default target/bench/precision); tables are printed to stdout
#   PEERS    directory holding the peer binaries (default: they are on PATH)
#   CORPORA  space-separated directories (default: a copy of this machine's Python stdlib
#            with its site-packages; add working trees of other projects here)
#   STDLIB_COPY  where the stdlib copy goes (default target/bench/pystdlib)
#
# gitleaks and betterleaks skip every path under `site-packages/` (and dot-directories such as
# `.pyenv/`) through their default path allowlists, so scanning the stdlib in place measures
# their path policy, not their rules. The script scans a copy instead, with `site-packages`
# renamed `site_pkgs`: every tool reads the same bytes.
#   TOOLS    space-separated subset of: keyhound gitleaks betterleaks kingfisher (default all)
set -euo pipefail

KEYHOUND=$(realpath "${1:-target/release/keyhound}")
OUT=${OUT:-target/bench/precision}
export PATH="${PEERS:+$PEERS:}$PATH"
STDLIB=$(python3 -c 'import sysconfig;print(sysconfig.get_paths()["stdlib"])')
STDLIB_COPY=${STDLIB_COPY:-target/bench/pystdlib}
if [ -z "${CORPORA:-}" ] && [ ! -d "$STDLIB_COPY" ]; then
    mkdir -p "$(dirname "$STDLIB_COPY")"
    cp -a "$STDLIB" "$STDLIB_COPY"
    mv "$STDLIB_COPY/site-packages" "$STDLIB_COPY/site_pkgs"
fi
CORPORA=${CORPORA:-$STDLIB_COPY}
TOOLS=${TOOLS:-"keyhound gitleaks betterleaks kingfisher"}
mkdir -p "$OUT"

# Runs one tool on one corpus, writing its report to $OUT/<corpus>.<tool>.json and its wall
# time (seconds) to $OUT/<corpus>.<tool>.seconds. "Found something" is exit code 1 (kingfisher:
# 200, or 205 when validated).
run_tool() {
    local tool=$1 dir=$2 report=$3
    case $tool in
        keyhound) "$KEYHOUND" scan --no-ignore --quiet --format jsonl --output "$report" "$dir" ;;
        gitleaks) unshare -n gitleaks dir --no-banner --log-level error -f json -r "$report" --exit-code 0 "$dir" ;;
        betterleaks) unshare -n betterleaks fs "$dir" --no-banner --log-level error -o "$report" --exit-code 0 >/dev/null ;;
        kingfisher) unshare -n kingfisher scan "$dir" --no-validate --git-history none -f json -o "$report" >/dev/null 2>&1 ;;
    esac
}

for dir in $CORPORA; do
    name=$(basename "$dir")
    for tool in $TOOLS; do
        report="$OUT/$name.$tool.json"
        start=$(date +%s.%N)
        status=0
        run_tool "$tool" "$dir" "$report" || status=$?
        end=$(date +%s.%N)
        case $status in
            0 | 1 | 200 | 205) ;;
            *) echo "$tool on $dir failed with exit code $status" >&2 ;;
        esac
        echo "$end - $start" | bc > "$OUT/$name.$tool.seconds"
    done
done

# Tables: findings per rule, one column per tool, one table per corpus.
python3 - "$OUT" $CORPORA <<'PY'
import json, os, sys
from collections import Counter

out, corpora = sys.argv[1], sys.argv[2:]
tools = ["keyhound", "gitleaks", "betterleaks", "kingfisher"]

def rule_ids(tool, path):
    text = open(path, encoding="utf-8", errors="replace").read().strip()
    if not text:
        return []
    if tool == "keyhound":
        return [json.loads(line)["rule"] for line in text.splitlines()]
    data = json.loads(text)
    if tool == "gitleaks":
        return [f["RuleID"] for f in data or []]
    if tool == "betterleaks":
        return [f["rule_id"] for f in data.get("findings") or []]
    return [f["rule"]["id"] for f in data.get("findings") or []]

for corpus in corpora:
    name = os.path.basename(corpus.rstrip("/"))
    counts, seconds = {}, {}
    for tool in tools:
        path = os.path.join(out, f"{name}.{tool}.json")
        if os.path.exists(path):
            counts[tool] = Counter(rule_ids(tool, path))
            seconds[tool] = float(open(os.path.join(out, f"{name}.{tool}.seconds")).read())
    present = [t for t in tools if t in counts]
    print(f"\n### {name} ({corpus})\n")
    print("| tool | findings | seconds | findings per rule |")
    print("|---|---|---|---|")
    for tool in present:
        per_rule = ", ".join(f"{rule} {n}" for rule, n in counts[tool].most_common())
        print(f"| {tool} | {sum(counts[tool].values())} | {seconds[tool]:.1f} | {per_rule or '-'} |")
PY
