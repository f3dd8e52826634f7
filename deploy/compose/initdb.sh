#!/usr/bin/env bash
# PostgreSQL's image runs this once, on an empty data volume, as the postgres superuser (compose.yaml mounts it in
# /docker-entrypoint-initdb.d). It creates the four group roles of schema/0015_roles.sql ahead of the migration
# (which then only grants), the owner that migrates, and one login per process, each with its password from a
# compose secret. Passwords go to psql on stdin, never as arguments.
set -euo pipefail
secrets=${CICLO_SECRETS_DIR:-/run/secrets}  # another folder only for trying it outside the image
password() { tr -d "\n" <"$secrets/$1_password"; }

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-ciclo}" <<SQL
CREATE ROLE ciclo_worker NOLOGIN;
CREATE ROLE ciclo_scheduler NOLOGIN;
CREATE ROLE ciclo_reporter NOLOGIN;
CREATE ROLE ciclo_analyst NOLOGIN;
GRANT pg_read_all_stats TO ciclo_scheduler;
CREATE ROLE ciclo_owner_app LOGIN PASSWORD '$(password owner)';
ALTER DATABASE "${POSTGRES_DB:-ciclo}" OWNER TO ciclo_owner_app;
CREATE ROLE ciclo_scheduler_app LOGIN PASSWORD '$(password scheduler)' IN ROLE ciclo_scheduler;
CREATE ROLE ciclo_worker_app LOGIN PASSWORD '$(password worker)' IN ROLE ciclo_worker;
CREATE ROLE ciclo_reporter_app LOGIN PASSWORD '$(password reporter)' IN ROLE ciclo_reporter;
SQL
