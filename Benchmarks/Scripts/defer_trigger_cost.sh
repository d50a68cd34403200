#!/usr/bin/env bash
# What the lock heads' insert trigger costs a Python-style single defer
# (procrastinate_defer_jobs_v1 with one job): pgbench, one client, 10 s each, unlocked and
# locked (10,000 keys), the trigger on and off, two interleaved rounds.
#
#   Benchmarks/Scripts/defer_trigger_cost.sh [host] [port]     # creates and drops database trigcost
source "$(dirname "$0")/lib.sh"
echo "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('default', 't', 0, NULL, NULL, '{}'::jsonb, NULL)::procrastinate_job_to_defer_v1]);" >"$work/unlocked.sql"
printf '%s\n' '\set k random(1, 10000)' \
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('default', 't', 0, 'user-' || :k, NULL, '{}'::jsonb, NULL)::procrastinate_job_to_defer_v1]);" >"$work/locked.sql"
"${psql[@]}" -c "DROP DATABASE IF EXISTS trigcost" -c "CREATE DATABASE trigcost" >/dev/null 2>&1
"$procrastinate" schema --apply --database-url "postgresql://${PGUSER:-postgres}@$host:$port/trigcost" >/dev/null
for round in 1 2; do
    for state in ENABLE DISABLE; do
        "${psql[@]}" -d trigcost -c "ALTER TABLE procrastinate_jobs $state TRIGGER procrastinate_swift_lock_heads_inserted_v1" >/dev/null
        for kind in unlocked locked; do
            latency=$("$pgbench" -h "$host" -p "$port" -U "${PGUSER:-postgres}" -n -f "$work/$kind.sql" -T 10 -c 1 trigcost 2>&1 | awk '/latency average/ {print $4}')
            echo "round $round, trigger ${state,,}d, $kind: $latency ms"
        done
    done
done
"${psql[@]}" -c "DROP DATABASE trigcost" >/dev/null
