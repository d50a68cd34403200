# What the scripts of this folder share: sourced by each, with the server's host and port as
# the script's own arguments.
#
#   host, port           the server (default 127.0.0.1:5432)
#   pgbench, procrastinate  the tools (PGBENCH, PROCRASTINATE; default pgbench, the debug build)
#   psql                 psql on that server, as PGUSER (default postgres)
#   work                 a temporary folder, removed on exit
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
host=${1:-127.0.0.1}; port=${2:-5432}
pgbench=${PGBENCH:-pgbench}; procrastinate=${PROCRASTINATE:-.build/debug/procrastinate}
psql=(psql -h "$host" -p "$port" -U "${PGUSER:-postgres}" -q)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
