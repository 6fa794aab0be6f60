#!/usr/bin/env bash
# Installs Debian's chromium for tests/e2e/test_report_browser.py when it is not there yet.
# Root (CI, the development machines) runs apt-get directly; a user with passwordless sudo goes
# through sudo; anyone else gets the command to run, because a browser cannot be unpacked
# without its ~100 shared-library dependencies (apt-get download + dpkg -x of chromium alone
# does not start).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  chromium --version
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "chromium is missing and this user can neither apt-get nor sudo without a password." >&2
  echo "Install it once with: sudo apt-get update && sudo apt-get install -y chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
chromium --version
