#!/usr/bin/env bash
# Makes sure the tools that test/clients/seed-examples.test.ts runs the seed's client examples
# with are installed: Debian's /usr/bin/python3 with `requests` (Python example), `go` (Go
# example), `curl` and `jq` (cURL example). The JavaScript example needs only Node and the
# project's devDependencies.
#
# Quiet and idempotent when everything is there. When something is missing and we are root
# with apt-get, installs it from Debian (PyPI and the Go toolchain downloads are not used);
# otherwise prints what is missing and how to install it, and exits 1.
set -euo pipefail

PACKAGES=(python3-requests golang-go jq curl)

missing_tools() {
  local missing=()
  if [[ ! -x /usr/bin/python3 ]] || ! /usr/bin/python3 -c 'import requests' >/dev/null 2>&1; then
    missing+=("/usr/bin/python3 with the 'requests' module (Debian package python3-requests)")
  fi
  command -v go >/dev/null 2>&1 || missing+=("go (Debian package golang-go)")
  command -v jq >/dev/null 2>&1 || missing+=("jq (Debian package jq)")
  command -v curl >/dev/null 2>&1 || missing+=("curl (Debian package curl)")
  if ((${#missing[@]} > 0)); then printf '%s\n' "${missing[@]}"; fi
}

missing="$(missing_tools)"
[[ -z "$missing" ]] && exit 0

if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-test-tools: installing ${PACKAGES[*]} (missing: $(echo "$missing" | paste -sd ';' -))" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >&2
  missing="$(missing_tools)"
  [[ -z "$missing" ]] && exit 0
  echo "ensure-test-tools: still missing after apt-get install:" >&2
else
  echo "ensure-test-tools: missing tools for the seed client-example tests:" >&2
fi
echo "$missing" | sed 's/^/  - /' >&2
echo "Install them with: apt-get install -y --no-install-recommends ${PACKAGES[*]}" >&2
exit 1
