#!/usr/bin/env bash
# Builds the load tool, bench/load/ (Go, standard library only), into bench/out/load unless it is
# newer than every file of bench/load/; installs golang-go with apt first if go is missing (root,
# Debian). Every script of bench/ that drives stream clients runs it. See bench/README.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${here}/out"
mkdir -p "${out}"
if ! command -v go >/dev/null 2>&1; then
	echo "Installing golang-go"
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
fi
if [[ ! -x "${out}/load" || -n "$(find "${here}/load" -newer "${out}/load" \( -name '*.go' -o -name go.mod \))" ]]; then
	echo "Building the load tool into ${out}/load"
	(cd "${here}/load" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -o "${out}/load" .)
fi
