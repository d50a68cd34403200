#!/usr/bin/env bash
# The claim's latency against the number of lock keys: pgbench, one client, a claim of 10 rolled
# back each time, on 100,000 locked jobs over K keys plus 1,000 unlocked ones, for our claim
# before 0.2.0_08 (the schema of commit 97217bf), after it, and Python's procrastinate_fetch_job_v2.
#
#   Benchmarks/Scripts/claim_by_lock_keys.sh [host] [port]     # creates and drops database claimkeys
source "$(dirname "$0")/lib.sh"
printf 'BEGIN;\nSELECT count(*) FROM procrastinate_swift_fetch_jobs_v2(NULL, NULL, 10, NULL);\nROLLBACK;\n' >"$work/ours.sql"
printf 'BEGIN;\nSELECT count(*) FROM procrastinate_fetch_job_v2(NULL, NULL);\nROLLBACK;\n' >"$work/python.sql"
git show 97217bf:sql/schema.sql >"$work/before.sql"
percentiles() { sort -n | awk '{a[NR]=$1} END {printf "p50 %.2f ms, p99 %.2f ms (%d claims)", a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000, NR}'; }
for schema in before after; do
    "${psql[@]}" -c "DROP DATABASE IF EXISTS claimkeys" -c "CREATE DATABASE claimkeys" >/dev/null 2>&1
    if [ "$schema" = before ]; then
        "${psql[@]}" -d claimkeys -f "$work/before.sql" >/dev/null 2>&1
    else
        "$procrastinate" schema --apply --database-url "postgresql://${PGUSER:-postgres}@$host:$port/claimkeys" >/dev/null
    fi
    for keys in 10 1000 10000 100000; do
        "${psql[@]}" -d claimkeys -c "TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers CASCADE" \
            -c "INSERT INTO procrastinate_jobs (queue_name, task_name, args, lock) SELECT 'default', 't', '{}', CASE WHEN i % 101 = 100 THEN NULL ELSE 'key-' || (i % $keys) END FROM generate_series(0, 100999) AS i" \
            -c "VACUUM ANALYZE procrastinate_jobs" >/dev/null 2>&1
        for claim in ours python; do
            [ "$claim" = python ] && [ "$schema" = before ] && continue
            rm -f "$work"/log*
            "$pgbench" -h "$host" -p "$port" -U "${PGUSER:-postgres}" -n -f "$work/$claim.sql" -T 3 -c 1 --log --log-prefix="$work/log" claimkeys >/dev/null 2>&1
            echo "$schema, $keys keys, $claim: $(cat "$work"/log* | awk '{print $3}' | tail -n +5 | percentiles)"
        done
    done
done
"${psql[@]}" -c "DROP DATABASE claimkeys" >/dev/null
