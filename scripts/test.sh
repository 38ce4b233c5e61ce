#!/usr/bin/env bash
# Sets up a fresh clone and checks it, in order: Debian packages (chromium for the browser tests, redis-server
# for later use: installed, not started), `npm ci` (whose prepare step builds the UI and dist/, which the CLI
# tests run through bin/artprobe.mjs), `npm run typecheck`, `npm run lint`, then every vitest test with the
# summary line "N passed, N failed, N skipped". The run fails if any step fails: a failed `npm ci` stops it
# (nothing else can run); typecheck and lint failures are reported and the tests still run.
# Shared reference data is read from ../shared (or $ARTPROBE_SHARED); suites that need it skip loudly without it.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: <command> <package> <what it is for>
apt_missing=()
need_apt() {
  if ! command -v "$1" >/dev/null 2>&1; then apt_missing+=("$2"); fi
}
need_apt chromium chromium
need_apt redis-server redis-server
if [ "${#apt_missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "== installing Debian ${apt_missing[*]}"
    apt-get update -qq || echo "!! apt-get update failed"
    for pkg in "${apt_missing[@]}"; do
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null ||
        case "$pkg" in
          chromium) echo "!! chromium could not be installed: browser tests will be skipped" ;;
          *) echo "!! $pkg could not be installed" ;;
        esac
    done
  else
    echo "!! not root, so ${apt_missing[*]} cannot be installed (apt-get install ${apt_missing[*]})"
    case " ${apt_missing[*]} " in
      *" chromium "*) echo "!! chromium is not installed: browser tests will be skipped" ;;
    esac
  fi
fi

echo "== npm ci (prepare: build the UI and dist/)"
npm ci --no-audit --no-fund
if [ ! -f dist/cli/main.js ]; then
  echo "== npm run build (npm ci did not build dist/)"
  npm run build
fi

failed=()
echo "== npm run typecheck"
npm run --silent typecheck || failed+=(typecheck)
echo "== npm run lint"
npm run --silent lint || failed+=(lint)

echo "== vitest"
mkdir -p test-output
rm -f test-output/vitest.json
npx vitest run --reporter=default --reporter=json --outputFile.json=test-output/vitest.json || failed+=(vitest)
node -e '
  const r = JSON.parse(require("fs").readFileSync("test-output/vitest.json", "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || echo "!! no vitest summary (test-output/vitest.json missing or unreadable)"

if [ "${#failed[@]}" -gt 0 ]; then
  echo "!! failed: ${failed[*]}"
  exit 1
fi
echo "== all passed"
