#!/usr/bin/env bash
# Installs the Debian packages the server and its tests need, when they are missing.
#
#   ensure-system-packages.sh runtime   git: the workspace snapshots and git seeds;
#                                       bubblewrap (0.8 or later) and socat: the sandbox around
#                                       each whole Claude Code process, Claude Code's own sandbox
#                                       for the agent's commands inside it, and scrubbing of
#                                       secrets from their environment. Without them the server
#                                       still starts and says loudly what it cannot do.
#   ensure-system-packages.sh test      runtime, plus what the seed's client examples run with:
#                                       Debian's python3 with `requests`, go, curl, jq; and the
#                                       PostgreSQL and Redis servers the multi-instance tests run
#                                       against (test/helpers/services.ts uses the ones already
#                                       running on 127.0.0.1:5432 and :6379, or starts throwaway
#                                       servers from these binaries on free ports). And tmux (the
#                                       terminal client is tested in a real terminal) and chromium
#                                       (the /docs reference page and the web
#                                       console are checked in headless Chromium).
#
# Quiet and idempotent when everything is there. When something is missing and we are root with
# apt-get, installs it from Debian (PyPI and Go toolchain downloads are not used); otherwise prints
# what is missing and how to install it (and, for `test`, exits 1).
set -euo pipefail

mode="${1:-runtime}"
case "$mode" in
  runtime) packages=(bubblewrap socat git) ;;
  test) packages=(bubblewrap socat git python3-requests golang-go jq curl postgresql redis-server tmux chromium) ;;
  *) echo "usage: $0 runtime|test" >&2; exit 2 ;;
esac

missing_tools() {
  local missing=()
  command -v bwrap >/dev/null 2>&1 || missing+=("bwrap (Debian package bubblewrap)")
  command -v socat >/dev/null 2>&1 || missing+=("socat (Debian package socat)")
  command -v git >/dev/null 2>&1 || missing+=("git (Debian package git: the workspace snapshots)")
  if [[ "$mode" == test ]]; then
    if [[ ! -x /usr/bin/python3 ]] || ! /usr/bin/python3 -c 'import requests' >/dev/null 2>&1; then
      missing+=("/usr/bin/python3 with the 'requests' module (Debian package python3-requests)")
    fi
    command -v go >/dev/null 2>&1 || missing+=("go (Debian package golang-go)")
    command -v jq >/dev/null 2>&1 || missing+=("jq (Debian package jq)")
    command -v curl >/dev/null 2>&1 || missing+=("curl (Debian package curl)")
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=("postgres (Debian package postgresql)")
    command -v redis-server >/dev/null 2>&1 || missing+=("redis-server (Debian package redis-server)")
    command -v tmux >/dev/null 2>&1 || missing+=("tmux (Debian package tmux)")
    command -v chromium >/dev/null 2>&1 || missing+=("chromium (Debian package chromium)")
  fi
  if ((${#missing[@]} > 0)); then printf '%s\n' "${missing[@]}"; fi
}

missing="$(missing_tools)"
[[ -z "$missing" ]] && exit 0

if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-system-packages: installing ${packages[*]} (missing: $(echo "$missing" | paste -sd ';' -))" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2
  missing="$(missing_tools)"
  [[ -z "$missing" ]] && exit 0
  echo "ensure-system-packages: still missing after apt-get install:" >&2
else
  echo "ensure-system-packages: missing:" >&2
fi
echo "$missing" | sed 's/^/  - /' >&2
echo "Install them with: apt-get install -y --no-install-recommends ${packages[*]}" >&2
[[ "$mode" == runtime ]] && exit 0
exit 1
