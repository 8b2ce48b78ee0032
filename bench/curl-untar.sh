#!/bin/sh
# The practical limit of a pull on this disk: each layer blob fetched with curl, piped through the
# decompressor into tar -x, one layer after another. Usage: curl-untar.sh REGISTRY REPO gzip|zstd
set -eu
reg=$1 repo=$2 kind=$3
dest=$(mktemp -d "${UNTAR_DIR:-/tmp}/tspod-bench-untar.XXXXXX")
manifest=$(curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$reg/v2/$repo/manifests/$kind")
for digest in $(printf '%s' "$manifest" | grep -o '"sha256:[a-f0-9]*"' | tr -d '"' | tail -n +2); do
  mkdir "$dest/${digest#sha256:}"
  curl -fsS "http://$reg/v2/$repo/blobs/$digest" | "$kind" -d -c | tar -x -C "$dest/${digest#sha256:}" 2>/dev/null || true
done
