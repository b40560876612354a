#!/usr/bin/env bash
# Refreshes the GraphiQL files served from the binary (server/assets/graphiql) from the npm
# registry: pinned versions, each tarball checked against the registry's published
# sha512 integrity, licences copied beside them, and SHA256SUMS rewritten (a unit test in
# server/src/http/graphiql.rs checks the served files against it). Needs node's npm and
# network to the registry; nothing else does: the files are committed, and neither the
# build nor the running service reaches the internet.
#
# Usage: scripts/update-graphiql.sh [graphiql-version] [react-version]
# GraphiQL 3 is the last line with a self-contained browser build (graphiql.min.js);
# React 18 is the last with UMD files.
set -euo pipefail
cd "$(dirname "$0")/.."
graphiql="${1:-3.8.3}"
react="${2:-18.3.1}"
dest=server/assets/graphiql
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fetch() { # spec -> unpacks into $work/<name>
  local spec="$1" name="${1%@*}"
  local expected actual tarball
  expected="$(npm view "$spec" dist.integrity)"
  tarball="$(cd "$work" && npm pack "$spec" --silent)"
  actual="sha512-$(openssl dgst -sha512 -binary "$work/$tarball" | base64 -w0)"
  if [ "$expected" != "$actual" ]; then
    echo "integrity mismatch for $spec: registry $expected, downloaded $actual" >&2
    exit 1
  fi
  mkdir -p "$work/$name"
  tar xzf "$work/$tarball" -C "$work/$name" --strip-components=1
  printf '%s %s %s %s\n' "$name" "${spec##*@}" "$(node -p "require('$work/$name/package.json').license")" "$expected" >> "$work/VERSIONS"
}

fetch "graphiql@$graphiql"
fetch "react@$react"
fetch "react-dom@$react"

mkdir -p "$dest"
cp "$work/graphiql/graphiql.min.js" "$work/graphiql/graphiql.min.css" "$dest/"
cp "$work/react/umd/react.production.min.js" "$dest/"
cp "$work/react-dom/umd/react-dom.production.min.js" "$dest/"
cp "$work/graphiql/LICENSE" "$dest/LICENSE.graphiql"
cp "$work/react/LICENSE" "$dest/LICENSE.react"
cp "$work/react-dom/LICENSE" "$dest/LICENSE.react-dom"
{
  echo "# package version licence npm-integrity (written by scripts/update-graphiql.sh)"
  cat "$work/VERSIONS"
} > "$dest/VERSIONS"
(cd "$dest" && sha256sum graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js > SHA256SUMS)
echo "updated $dest:"
cat "$dest/VERSIONS"
