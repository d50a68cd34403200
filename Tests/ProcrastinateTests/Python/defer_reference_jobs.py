"""Defers, with Python Procrastinate 3.10, the jobs the Swift row-comparison test defers too.

Usage: python defer_reference_jobs.py POSTGRES_URL
Prints the ids of the jobs, one per line, in the order of the calls below.
"""

import asyncio
import datetime
import sys

import procrastinate

app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=sys.argv[1]))


@app.task(name="sum", queue="math", priority=1)
async def sum_task(a, b):
    return a + b


@app.task(name="send_email")
async def send_email(to, subject):
    pass


async def main():
    async with app.open_async():
        ids = [
            await sum_task.defer_async(a=3, b=5),
            await sum_task.configure(
                lock="l", queueing_lock="q", priority=7, queue="other",
                schedule_at=datetime.datetime(2096, 10, 2, 7, 6, 40, tzinfo=datetime.timezone.utc),
            ).defer_async(a=1, b=2),
            await send_email.configure(task_kwargs={"subject": "Base", "cc": "x"}).defer_async(to="a@b.c", subject="Hi"),
            *await sum_task.batch_defer_async({"a": 1, "b": 1}, {"a": 2, "b": 2}),
            await app.configure_task("elsewhere.task", queue="py").defer_async(values=[1, 2.5, None, True], nested={"k": "v"}),
        ]
    print("\n".join(str(i) for i in ids))


asyncio.run(main())
