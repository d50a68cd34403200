"""Runs Python Procrastinate 3.10's periodic deferrer at given instants, as a worker would.

Usage: python periodic_at.py POSTGRES_URL CRON TASK_NAME EPOCH_SECONDS...
The deferrer registers one periodic task, CRON on TASK_NAME, then defers what it finds due at
each instant in turn (its own `get_previous_tasks` and `defer_jobs`), without sleeping.
"""

import asyncio
import sys

import procrastinate
from procrastinate import periodic

url, cron, task_name, *instants = sys.argv[1:]
app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))


@app.periodic(cron=cron)
@app.task(name=task_name)
async def task(timestamp: int):
    pass


async def main():
    async with app.open_async():
        deferrer = periodic.PeriodicDeferrer(registry=app.periodic_registry)
        for at in instants:
            await deferrer.defer_jobs(jobs_to_defer=deferrer.get_previous_tasks(at=float(at)))


asyncio.run(main())
