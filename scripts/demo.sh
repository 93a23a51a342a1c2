#!/usr/bin/env sh
# The tool's main job on a throw-away store: a key, an allowlist, decisions.
set -eu
cd "$(dirname "$0")/.."
dir="$(mktemp -d)"
KEYWARD_STORE="$dir/store.json"
export KEYWARD_STORE
kw() { echo "\$ keyward $*" >&2; node bin/run.js "$@"; }
# The secret is printed once; keyward refuses to print it to /dev/null, where it would be lost.
kw keys create billing --type api > "$dir/billing.secret"
kw authorize 203.0.113.0/24 2001:db8::/48 --label office
kw activate --api
kw check billing 203.0.113.7 2001:db8::25 198.51.100.9 || echo "(exit $?: one address was denied)" >&2
kw status
echo "store: $KEYWARD_STORE (the key's secret is in $dir/billing.secret)" >&2
