#!/usr/bin/env bash
# Install Chromium from Debian packages for the HTML report's browser test
# (test/html-report.test.ts drives /usr/bin/chromium with playwright-core; no browser download).
# Idempotent; needs root (CI and the dev machines run as root).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
