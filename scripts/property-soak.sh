#!/usr/bin/env bash
# Long property run (nightly-style): OC_SYNC_PROPERTY_RUNS per property, default 20000.
set -euo pipefail
cd "$(dirname "$0")/.."
OC_SYNC_PROPERTY_RUNS="${OC_SYNC_PROPERTY_RUNS:-20000}" exec npx vitest run test/core/properties.test.ts
