#!/usr/bin/env bash
# Install Debian's python3-sqlglot (10.x) for the dbt column-lineage differential test
# (test/dbt-column-lineage-sqlglot.test.ts compares our edges with sqlglot's; it skips
# without it). Idempotent; needs root (CI and the dev machines run as root).
set -euo pipefail
if python3 -c 'import sqlglot' 2>/dev/null || /usr/bin/python3 -c 'import sqlglot' 2>/dev/null; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
for try in 1 2 3; do apt-get update -qq && break; sleep 5; done
apt-get install -y -qq --no-install-recommends python3-sqlglot >/dev/null
/usr/bin/python3 -c 'import sqlglot; print("sqlglot", sqlglot.__version__)'
