#!/usr/bin/env bash
# Makes the spec's two sources in DIR: Source0, the files of this
# tree git tracks or would (modified and new ones, not ignored ones: `make rpm` packages what
# you have), and Source1, the `go mod vendor` tree, so that the RPM build
# needs no network. Usage: packaging/make-sources.sh VERSION DIR
set -euo pipefail
version=${1:?usage: make-sources.sh VERSION DIR}
out=${2:?usage: make-sources.sh VERSION DIR}
cd "$(dirname "$0")/.."
mkdir -p "$out"
out=$(cd "$out" && pwd)
name=gzdoctor-$version
# One date for every file: the tarballs of one tree are byte-identical.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
tarflags=(--sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Files deleted in the work tree but still tracked are left out.
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done >"$work/files"
tar "${tarflags[@]}" --null -T "$work/files" --transform "s,^,$name/,S" -czf "$out/$name.tar.gz.tmp"
mv "$out/$name.tar.gz.tmp" "$out/$name.tar.gz"

mkdir "$work/src"
tar -xzf "$out/$name.tar.gz" -C "$work/src"
(cd "$work/src/$name" && GOFLAGS=-mod=mod go mod vendor)
tar "${tarflags[@]}" -C "$work/src/$name" -czf "$out/gzdoctor-vendor-$version.tar.gz.tmp" vendor
mv "$out/gzdoctor-vendor-$version.tar.gz.tmp" "$out/gzdoctor-vendor-$version.tar.gz"
