#!/usr/bin/env bash
# Acceptance check: growing the API is a matter of spec entries.
#
# In a copy of the working tree (tracked and new files), copy one endpoint's spec entry under a
# new command in its service, and one into a new service file; run `cargo xtask regenerate`,
# accept the new snapshots, and run `cargo test --workspace` with no other change. It fails if
# any test, fixture or check still lists endpoints by hand.
#
# Builds in its own target folder (target/acceptance/target): cargo keys workspace members by
# their path inside the workspace, so sharing target/ would run the original tree's binaries.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
copy="$root/target/acceptance/tree"
rm -rf "$copy"
mkdir -p "$copy"
cd "$root"
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -xf - -C "$copy"
rm -rf "$copy"/tests/snapshots/*.snap.new

python3 - "$copy" <<'PY'
import json, sys, pathlib
root = pathlib.Path(sys.argv[1])
svc_path = root / "spec/services/all_member_push.json"
svc = json.loads(svc_path.read_text())
by_cmd = {e["command"]: e for e in svc["endpoints"]}

# 1. A sibling endpoint: im_get_tag again, under a new command.
sibling = json.loads(json.dumps(by_cmd["im_get_tag"]))
sibling["command"] = "im_get_tag_acceptance"
sibling["rust"] = "GetTagAcceptance"
svc["endpoints"].append(sibling)
svc_path.write_text(json.dumps(svc, indent=2) + "\n")

# 2. A new wire service with one endpoint (only primitives, so no service type is needed).
entry = json.loads(json.dumps(by_cmd["im_remove_all_tags"]))
entry["rust"] = "RemoveAllTags"
new = {
    "service": "acceptance_svc",
    "doc": "A service made by tools/acceptance/new-endpoint.sh.",
    "endpoints": [entry],
}
(root / "spec/services/acceptance_svc.json").write_text(json.dumps(new, indent=2) + "\n")
PY

cd "$copy"
export CARGO_TARGET_DIR="$root/target/acceptance/target"
cargo run --quiet --package xtask -- regenerate
test -f crates/core/src/generated/acceptance_svc/endpoints.rs
grep -q '^acceptance_svc = \[\]' crates/core/Cargo.toml
INSTA_UPDATE=always cargo test --quiet -p tim-tests --test it samples 2>&1 | tail -3
test -f tests/snapshots/acceptance_svc__im_remove_all_tags__doc__request.snap
test -f tests/snapshots/all_member_push__im_get_tag_acceptance__doc__request.snap
INSTA_UPDATE=no cargo test --workspace
echo "acceptance: a sibling endpoint and a new service need nothing but spec entries"
