#!/usr/bin/env bash
# Download the published API descriptions the contract tests read, into tests/.cache/.
# The cache is downloaded data, never committed: it carries its own .gitignore.
#
# github: the Enterprise Cloud OpenAPI description (github/rest-api-description,
#   descriptions/ghec/) as published on npm in @octokit/openapi; only generated/ghec.json is kept.
#   Override the version with OCTOKIT_OPENAPI_VERSION; point SAASLENS_GITHUB_OPENAPI at a file to
#   skip the download altogether.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="$(cd "${here}/.." && pwd)/.cache"

prepare_cache() {
  mkdir -p "${cache}"
  [[ -f "${cache}/.gitignore" ]] || printf '*\n' > "${cache}/.gitignore"
}

fetch_github() {
  local version="${OCTOKIT_OPENAPI_VERSION:-23.0.2}"
  local target="${cache}/github/ghec.json"
  if [[ -s "${target}" && -s "${target}.version" && "$(cat "${target}.version")" == "${version}" ]]; then
    echo "github: ${target} (@octokit/openapi ${version}) already present"
    return 0
  fi
  command -v npm >/dev/null || { echo "github: npm is not installed; cannot fetch @octokit/openapi" >&2; return 1; }
  local work
  work="$(mktemp -d)"
  (cd "${work}" && npm pack --silent "@octokit/openapi@${version}" >/dev/null)
  tar -xzf "${work}"/octokit-openapi-*.tgz -C "${work}" package/generated/ghec.json package/LICENSE
  mkdir -p "${cache}/github"
  mv "${work}/package/generated/ghec.json" "${target}"
  mv "${work}/package/LICENSE" "${cache}/github/LICENSE"
  echo "${version}" > "${target}.version"
  rm -rf "${work}"
  echo "github: wrote ${target} (@octokit/openapi ${version})"
}

prepare_cache
fetch_github
