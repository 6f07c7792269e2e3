#!/bin/sh
# The books example's database: Debian's PostgreSQL, its data in PGDATA (a volume in the pod). The
# first start makes the cluster with the user and password from POSTGRES_USER/POSTGRES_PASSWORD;
# later starts (a new pod on the same volume) find the data there and keep it.
set -eu
: "${PGDATA:=/var/lib/books-db/data}" "${POSTGRES_USER:=books}" "${PGPORT:=5432}"
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD (the manifest takes it from the books-db Secret)}"
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
mkdir -p "$PGDATA"
chown postgres:postgres "$PGDATA"
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  chown postgres "$pwfile"
  setpriv --reuid=postgres --regid=postgres --init-groups "$bin/initdb" -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  # Other pods reach it through the Service: a password over TCP, from anywhere.
  printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  echo "books-db: new database in $PGDATA"
else
  echo "books-db: reusing the database in $PGDATA"
fi
# setpriv execs: postgres itself gets the pod's signals. TCP only (no socket folder to leave behind).
exec setpriv --reuid=postgres --regid=postgres --init-groups "$bin/postgres" -D "$PGDATA" -p "$PGPORT" -c listen_addresses='*' -c unix_socket_directories=''
