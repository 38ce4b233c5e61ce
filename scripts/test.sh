#!/usr/bin/env bash
# Sets up a fresh clone (npm ci; Debian chromium for the browser tests) and runs every test.
# Shared reference data is read from ../shared (or $ARTPROBE_SHARED); suites that need it skip loudly without it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    echo "== installing Debian chromium for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ||
      echo "!! chromium could not be installed: browser tests will be skipped"
  else
    echo "!! chromium is not installed and this is not root: browser tests will be skipped (apt-get install chromium)"
  fi
fi

echo "== npm ci"
npm ci --no-audit --no-fund

echo "== vitest"
mkdir -p test-output
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-output/vitest.json || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync("test-output/vitest.json", "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit $status
