#!/usr/bin/env bash
# `make check-deploy`: checks deploy/ with the tools that read its files, offline.
#   - systemd-analyze verify on every unit, with the drop-in, warnings counted as failures;
#   - hadolint on the Dockerfile, shellcheck on the shell scripts deploy/ and its tests use;
#   - scripts/check_deploy.py: every YAML file parses, the Kubernetes manifests against the API schemas
#     (kubernetes-validate) and KEDA's CRDs against a schema of their own, compose.yaml's services and secrets.
# Nothing here builds an image or starts a container: there is no container engine on the machines this runs on.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
failed=0
step() { echo "== $*"; }

step "systemd-analyze verify deploy/systemd"
# verify checks that each ExecStart= binary exists and is executable. The units name the installed path,
# /usr/local/bin/ciclo, which a checkout does not have, so they are checked from a copy in which that path points at
# a stand-in script; nothing else changes. SYSTEMD_UNIT_PATH puts the copy first (the drop-in directory
# ciclo-.service.d/ included) and keeps the system's units after it (the trailing colon), for the targets the units
# order against. The templated worker is checked as an instance, ciclo-worker@1.service.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$root/deploy/systemd/." "$tmp/"
mkdir "$tmp/bin"
printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/ciclo"
chmod +x "$tmp/bin/ciclo"
sed -i "s|/usr/local/bin/ciclo|$tmp/bin/ciclo|g" "$tmp"/*.service
units=(ciclo-migrate.service ciclo-scheduler.service ciclo-worker@1.service ciclo-reporter.service
       ciclo-maintenance.service ciclo-maintenance.timer)
if output=$(cd "$tmp" && SYSTEMD_UNIT_PATH="$tmp:" systemd-analyze verify --man=no "${units[@]}" 2>&1) \
    && [ -z "$output" ]; then
    echo "ok    ${#units[@]} units and the hardening drop-in"
else
    echo "${output//$tmp/deploy/systemd}"
    echo "FAIL  systemd-analyze verify"
    failed=1
fi

step "systemd-analyze security (offline)"
# The exposure score systemd gives the hardening (0 is locked down, 10 is none); more than 2.0 fails. The threshold
# is in tenths.
services=(ciclo-migrate.service ciclo-scheduler.service ciclo-worker@1.service ciclo-reporter.service
          ciclo-maintenance.service)
if scores=$(cd "$tmp" && SYSTEMD_UNIT_PATH="$tmp:" systemd-analyze security --offline=true --threshold=20 \
        "${services[@]}" 2>&1); then
    echo "$scores" | grep 'Overall exposure' | sed 's/^.*for /ok    /'
else
    echo "$scores" | grep -E 'Overall exposure|✗' | head -40
    echo "FAIL  systemd-analyze security: an exposure above 2.0"
    failed=1
fi

step "hadolint deploy/Dockerfile"
if hadolint "$root/deploy/Dockerfile"; then echo "ok    deploy/Dockerfile"; else echo "FAIL  hadolint"; failed=1; fi

step "shellcheck"
scripts=("$root"/deploy/compose/*.sh "$root/scripts/pg-tls.sh" "$root/scripts/check-deploy.sh")
if shellcheck "${scripts[@]}"; then echo "ok    ${#scripts[@]} scripts"; else echo "FAIL  shellcheck"; failed=1; fi

step "YAML, Kubernetes schemas, compose"
python3 "$root/scripts/check_deploy.py" || failed=1

if [ "$failed" = 0 ]; then echo "check-deploy: all passed"; else echo "check-deploy: FAILED" >&2; fi
exit "$failed"
