#!/bin/bash
# The practical limit of a push here: each layer of the image tarred from tspod's store, gzipped and
# sent with curl (POST, one PATCH of the stream, PUT with its digest), one layer after another.
# Run inside tspod's user namespace (tspod unshare), which owns the layers' files.
# Usage: tar-gzip-curl.sh STORE REGISTRY DIFF_ID_HEX...
set -euo pipefail
store=$1 reg=$2; shift 2
sum=$(mktemp)
trap 'rm -f "$sum"' EXIT
location() { tr -d '\r' | sed -n 's/^[Ll]ocation: //p'; }
for hex in "$@"; do
  loc=$(curl -fsS -D - -o /dev/null -X POST "http://$reg/v2/limit/blobs/uploads/" | location)
  case $loc in http*) ;; *) loc="http://$reg$loc" ;; esac
  loc=$(tar -C "$store/layers/$hex/diff" -cf - . | gzip -6 | tee >(sha256sum | cut -d' ' -f1 > "$sum") |
    curl -fsS -X PATCH -H 'Content-Type: application/octet-stream' --data-binary @- -D - -o /dev/null "$loc" | location)
  case $loc in http*) ;; *) loc="http://$reg$loc" ;; esac
  wait
  case $loc in *\?*) sep='&' ;; *) sep='?' ;; esac
  curl -fsS -X PUT -o /dev/null "$loc${sep}digest=sha256:$(cat "$sum")"
done
