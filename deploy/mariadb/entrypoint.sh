#!/bin/sh
# First start: the system tables, then the database and its user through a server
# that listens on a private socket only; a marker file says it all went through
# (a start that failed half-way is redone from scratch). Then the server.
set -eu
: "${MARIADB_DATABASE:?}" "${MARIADB_USER:?}" "${MARIADB_PASSWORD:?}"
datadir=/var/lib/mysql
if [ ! -e "$datadir/.initialized" ]; then
    find "$datadir" -mindepth 1 -delete
    # --user: the account mysql@localhost, which logs in through the socket as this OS user.
    mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db \
        --auth-root-authentication-method=socket >/dev/null
    mariadbd --datadir="$datadir" --skip-networking --socket=/tmp/init.sock --pid-file=/tmp/init.pid &
    pid=$!
    tries=0
    until mariadb-admin --socket=/tmp/init.sock status >/dev/null 2>&1; do
        tries=$((tries + 1)); [ "$tries" -lt 60 ] || exit 1; sleep 0.5
    done
    mariadb --socket=/tmp/init.sock <<SQL
CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;
CREATE USER '$MARIADB_USER'@'%' IDENTIFIED BY '$MARIADB_PASSWORD';
GRANT ALL ON \`$MARIADB_DATABASE\`.* TO '$MARIADB_USER'@'%';
SQL
    mariadb-admin --socket=/tmp/init.sock shutdown
    wait "$pid" || true
    touch "$datadir/.initialized"
fi
exec mariadbd --datadir="$datadir" --bind-address=0.0.0.0 --socket=/tmp/mysqld.sock --pid-file=/tmp/mysqld.pid
