#!/usr/bin/env sh
# The tool's main job on a throw-away store: a key, an allowlist, decisions.
set -eu
cd "$(dirname "$0")/.."
KEYWARD_STORE="$(mktemp -d)/store.json"
export KEYWARD_STORE
kw() { echo "\$ keyward $*" >&2; node bin/run.js "$@"; }
kw keys create billing --type api >/dev/null
kw authorize 203.0.113.0/24 2001:db8::/48 --label office
kw activate --api
kw check billing 203.0.113.7 2001:db8::25 198.51.100.9 || echo "(exit $?: one address was denied)" >&2
kw status
echo "store: $KEYWARD_STORE" >&2
