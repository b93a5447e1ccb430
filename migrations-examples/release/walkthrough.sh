#!/bin/sh
# One release, end to end, on an embedded SQLite database (no server needed).
#
# Release 1.0 of the app runs. Release 2.0 renames users.name to
# users.full_name: an expand, the rollout of 2.0 recorded step by step, then
# the contract, which straddle refuses until it is safe.
#
#   sh migrations-examples/release/walkthrough.sh
#
# STRADDLE names the binary (default: straddle on the PATH); the database is
# a fresh file in $TMPDIR (default /tmp), removed at the end.
set -eu
cd "$(dirname "$0")"
straddle() { "${STRADDLE:-straddle}" "$@"; }
db="${TMPDIR:-/tmp}/straddle-release-$$.db"
trap 'rm -f "$db" "$db.straddle-lock"' EXIT
export DATABASE_URL="sqlite://$db"
step() { printf '\n== %s\n' "$*"; }

step "Release 1.0 is live: its schema, its rollout, one instance (web-1)"
straddle migrate up --to 20240601090000
straddle rollout start --app-version 1.0.0 --actor ci --reason "release 1.0"
straddle rollout complete --actor ci
straddle heartbeat --app-version 1.0.0 --instance web-1

step "Release 2.0, step 1: the expand (1.0 keeps working on the new schema)"
straddle migrate expand

step "The contract must wait: nothing has rolled 2.0 out yet"
if straddle migrate contract; then echo "unexpected: the contract ran"; exit 1; fi

step "Roll 2.0 out: a canary (web-2), then every instance (web-1 too)"
straddle rollout start --app-version 2.0.0 --actor ci --reason "release 2.0: users.full_name"
straddle heartbeat --app-version 2.0.0 --instance web-2
straddle rollout progress --percent 50 --stage canary --actor ci
if straddle migrate contract; then echo "unexpected: the contract ran"; exit 1; fi
straddle heartbeat --app-version 2.0.0 --instance web-1
straddle rollout progress --percent 100 --actor ci
straddle rollout complete --actor ci
straddle rollout status

step "Still baking: the contract waits for rollout.bake"
if straddle migrate contract; then echo "unexpected: the contract ran"; exit 1; fi
sleep 3

step "Release 2.0, step 2: the contract (rollout complete, baked, no 1.0 instance left)"
straddle migrate contract
straddle migrate status
