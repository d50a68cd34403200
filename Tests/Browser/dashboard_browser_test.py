"""The dashboard in a real browser: headless Chromium driven by Playwright.

Run by scripts/browser-test, which seeds the database, starts `procrastinate dashboard` and
passes its address in DASHBOARD_URL and the database in DATABASE_URL (psql runs the writes
that stand for a worker or another process). With SCREENSHOTS set to a folder, it saves the
overview, the job list and a job's page there.
"""

import os
import subprocess
import sys
import time
import traceback

from playwright.sync_api import expect, sync_playwright

BASE = os.environ["DASHBOARD_URL"].rstrip("/")
DATABASE_URL = os.environ["DATABASE_URL"]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = os.environ.get("SCREENSHOTS")
HOSTILE = "<script>alert(1)</script>"


def sql(statement):
    """The first column of the first row of `statement`, run by psql."""
    result = subprocess.run(
        ["psql", DATABASE_URL, "-AtXq", "-v", "ON_ERROR_STOP=1", "-c", statement],
        check=True, capture_output=True, text=True,
    )
    return result.stdout.strip().splitlines()[0] if result.stdout.strip() else ""


def job_id(where):
    return int(sql(f"SELECT id FROM procrastinate_jobs WHERE {where} ORDER BY id LIMIT 1"))


def no_reload_marker(page):
    """Marks the window: a reload would lose the mark."""
    page.evaluate("window.__stillHere = true")


def still_same_window(page):
    return page.evaluate("window.__stillHere === true")


def test_every_page_loads(page):
    for path, heading in [
        ("/", "Overview"), ("/jobs", "Jobs"), ("/queues", "Queues"), ("/tasks", "Tasks"), ("/locks", "Locks"),
        ("/workers", "Workers"), ("/periodic", "Periodic tasks"), ("/stalled", "Stalled jobs"),
    ]:
        response = page.goto(BASE + path)
        assert response.status == 200, f"{path}: {response.status}"
        expect(page.locator("main h1")).to_have_text(heading)
    page.goto(BASE + "/")
    expect(page.locator("svg.chart")).to_be_visible()


def test_list_to_detail_filter_and_paginate(page):
    page.goto(BASE + "/jobs")
    first = page.locator("#jobs tbody tr").first
    first_id = first.locator("td").first.inner_text().lstrip("#")
    first.locator("a").first.click()
    expect(page).to_have_url(f"{BASE}/jobs/{first_id}")
    expect(page.locator("main h1")).to_contain_text(f"Job #{first_id}")
    expect(page.locator(".timeline li").first).to_contain_text("deferred")

    page.goto(BASE + "/jobs")
    page.fill("input[name=queue]", "bulk")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(f"{BASE}/jobs?id=&status=&queue=bulk&task=&lock=&queueing_lock=&worker=&args=")
    rows = page.locator("#jobs tbody tr")
    expect(rows).to_have_count(50)
    for queue in rows.locator("td:nth-child(4)").all_inner_texts():
        assert queue == "bulk", queue
    first_page = rows.locator("td:first-child").all_inner_texts()
    page.click("a[rel=next]")
    expect(rows).to_have_count(50)
    second_page = rows.locator("td:first-child").all_inner_texts()
    assert not set(first_page) & set(second_page), "the second page repeats jobs"
    assert int(second_page[0].lstrip("#")) < int(first_page[-1].lstrip("#"))
    page.click("a[rel=next]")
    expect(rows).to_have_count(30)
    expect(page.locator("a[rel=next]")).to_have_count(0)


def test_cancel_and_retry_change_the_status_without_a_reload(page):
    waiting = job_id("queue_name = 'actions' AND status = 'todo'")
    failed = job_id("queue_name = 'actions' AND status = 'failed'")
    page.goto(f"{BASE}/jobs?queue=actions")
    no_reload_marker(page)
    page.once("dialog", lambda dialog: dialog.accept())
    row = page.locator("#jobs tbody tr", has=page.locator(f'a[href="/jobs/{waiting}"]'))
    row.locator("button", has_text="Cancel").click()
    expect(row.locator(".status")).to_have_text("cancelled")
    expect(page.locator("#flash")).to_contain_text(f"Job #{waiting} was cancelled")
    failed_row = page.locator("#jobs tbody tr", has=page.locator(f'a[href="/jobs/{failed}"]'))
    failed_row.locator("button", has_text="Retry").click()
    expect(failed_row.locator(".status")).to_have_text("todo")
    assert still_same_window(page), "the page reloaded"
    assert sql(f"SELECT status FROM procrastinate_jobs WHERE id = {waiting}") == "cancelled"
    assert sql(f"SELECT status FROM procrastinate_jobs WHERE id = {failed}") == "todo"


def test_a_new_job_shows_without_a_reload(page):
    page.goto(f"{BASE}/jobs?queue=live")
    no_reload_marker(page)
    expect(page.locator("main")).to_contain_text("No job matches")
    # The notification, not the 5-second refresh: the row shows well within that.
    expect(page.locator("html[data-stream=listening]")).to_have_count(1)
    new_id = sql("INSERT INTO procrastinate_jobs (queue_name, task_name) VALUES ('live', 'live.task') RETURNING id")
    expect(page.locator(f'#jobs a[href="/jobs/{new_id}"]')).to_be_visible(timeout=3_000)
    assert still_same_window(page), "the page reloaded"


def test_pausing_live_updates_stops_refreshes(page):
    page.goto(f"{BASE}/jobs?queue=paused")
    page.click("#live")
    expect(page.locator("#live")).to_have_text("Resume live updates")
    sql("INSERT INTO procrastinate_jobs (queue_name, task_name) VALUES ('paused', 'paused.task')")
    page.wait_for_timeout(2500)  # longer than a refresh: the page must not have changed
    expect(page.locator("#jobs")).to_have_count(0)
    page.click("#live")
    expect(page.locator("#jobs tbody tr")).to_have_count(1, timeout=10_000)


def test_markup_in_the_data_is_shown_as_text(page):
    hostile = job_id("task_name = '<script>alert(1)</script>'")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path in ["/", "/jobs", f"/jobs/{hostile}", "/queues", "/tasks", "/locks"]:
        page.goto(BASE + path)
        page.wait_for_load_state("networkidle")
    page.goto(f"{BASE}/jobs/{hostile}")
    expect(page.locator("#arguments")).to_contain_text(HOSTILE)
    expect(page.locator("main h1")).to_contain_text(HOSTILE)
    assert page.locator("main script").count() == 0
    assert dialogs == [], f"a script ran: {dialogs}"


def take_screenshots(page):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(BASE + "/")
    page.screenshot(path=os.path.join(SCREENSHOTS, "dashboard-overview.png"), full_page=True)
    page.goto(BASE + "/jobs")
    page.screenshot(path=os.path.join(SCREENSHOTS, "dashboard-jobs.png"))
    locked = job_id("lock = 'user-42' AND status = 'todo'")
    page.goto(f"{BASE}/jobs/{locked}")
    page.screenshot(path=os.path.join(SCREENSHOTS, "dashboard-job.png"), full_page=True)


def main():
    tests = [
        test_every_page_loads, test_list_to_detail_filter_and_paginate, test_cancel_and_retry_change_the_status_without_a_reload,
        test_a_new_job_shows_without_a_reload, test_pausing_live_updates_stops_refreshes, test_markup_in_the_data_is_shown_as_text,
    ]
    passed, failed = 0, 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for test in tests:
            context = browser.new_context()
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            started = time.monotonic()
            try:
                test(page)
                assert errors == [], f"errors in the page: {errors}"
                passed += 1
                print(f"PASS {test.__name__} ({time.monotonic() - started:.1f} s)")
            except Exception:
                failed += 1
                print(f"FAIL {test.__name__}")
                traceback.print_exc()
            context.close()
        if SCREENSHOTS and failed == 0:
            context = browser.new_context()
            take_screenshots(context.new_page())
            context.close()
        browser.close()
    print(f"browser: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
