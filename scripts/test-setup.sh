#!/usr/bin/env bash
# System-level prerequisites of the test suite (run by `make test` before pytest; idempotent, fast when done):
#   - Debian's chromium + chromium-driver (tests/browser drives GraphiQL in it: playwright cannot download a
#     browser here) and a font for readable screenshots;
#   - node >= 20 with npm (tests/federation and tests/browser run `npm ci` themselves when node_modules is stale);
#   - Debian's nginx (tests/deploy/test_scale_out.py runs it as a foreground process of its own, in front of two
#     gateway processes); the package's service is never started: a policy-rc.d denies it during the install.
# apt-get update runs only when a package is missing.
set -euo pipefail

PACKAGES=(chromium chromium-driver fonts-dejavu-core nginx)
NODE_MAJOR_MIN=20

log() { printf 'test-setup: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        log "need root (or passwordless sudo) to run: $*"
        return 1
    fi
}

is_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]
}

missing=()
for package in "${PACKAGES[@]}"; do
    is_installed "$package" || missing+=("$package")
done

if [ "${#missing[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || { log "apt-get not found; install by hand: ${missing[*]}"; exit 1; }
    log "installing ${missing[*]}"
    # Packages such as nginx start their service from postinst; the tests run their own instances, so deny
    # service starts for this install (container images usually ship such a policy-rc.d already).
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
        as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
        trap 'as_root rm -f "$policy"' EXIT
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -x /usr/sbin/nginx ] || { log "/usr/sbin/nginx is missing after installing nginx"; exit 1; }

[ -x /usr/bin/chromium ] || { log "/usr/bin/chromium is missing after installing chromium"; exit 1; }

# Debian 12's own nodejs is 18: too old for @apollo/server 5 and playwright-core, so it is not installed from here.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    log "node >= ${NODE_MAJOR_MIN} and npm are required (tests/federation, tests/browser); install them first"
    exit 1
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt "$NODE_MAJOR_MIN" ]; then
    log "node $(node --version) is too old: tests/federation and tests/browser need node >= ${NODE_MAJOR_MIN}"
    exit 1
fi
