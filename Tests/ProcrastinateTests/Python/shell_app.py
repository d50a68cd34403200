"""A Python Procrastinate 3.10 app on the database of PROCRASTINATE_TEST_URL, for `procrastinate --app=shell_app.app shell`."""

import os

import procrastinate

app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=os.environ["PROCRASTINATE_TEST_URL"]))
