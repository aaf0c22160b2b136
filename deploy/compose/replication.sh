#!/bin/sh
# Run once by the postgres image when the primary's data folder is created (deploy/compose.yaml):
# a replication role for the replica and a pg_hba line letting it stream.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '${REPLICATION_PASSWORD}';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
