#!/usr/bin/env bash
# Writes deploy/secrets/ for compose.yaml: a random password per database role, the database URL each process
# connects with, and the link-signing secret. Files are mode 0600 and never overwritten (run it again: nothing
# changes); delete the folder to start over with a fresh database volume.
#   deploy/compose/secrets.sh [DIR]      (default: deploy/secrets)
set -euo pipefail
dir=${1:-$(cd "$(dirname "$0")/.." && pwd)/secrets}
mkdir -p "$dir"
chmod 700 "$dir"
umask 077

random() { head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | head -c 32; }
write() {  # write FILE CONTENT: only when FILE does not exist yet
    if [ ! -e "$dir/$1" ]; then printf '%s\n' "$2" >"$dir/$1"; fi
}

write postgres.password "$(random)"
write token-secret "$(random)"
# The passwords are letters and digits only, so they need no escaping in a URL.
for role in owner scheduler worker reporter; do
    write "$role.password" "$(random)"
    password=$(cat "$dir/$role.password")
    write "$role.database-url" "postgresql://ciclo_${role}_app:${password}@postgres:5432/ciclo?sslmode=prefer"
done
echo "secrets in $dir"
