#!/bin/sh
# Quick start on a fresh Debian 12, as root: install and build everything, start a local registry
# seeded with Alpine (Docker Hub can't be reached everywhere), then run a container as the
# unprivileged user tspodtest.
set -eu
cd "$(dirname "$0")/.."
.ci/setup.sh >/dev/null
node dist/test/fixtures/quickstart-registry.js tspodtest
exec runuser -u tspodtest -- env -i HOME=/home/tspodtest USER=tspodtest PATH=/usr/local/bin:/usr/bin:/bin \
  "$(pwd)/bin/tspod" run --rm alpine cat /etc/alpine-release
