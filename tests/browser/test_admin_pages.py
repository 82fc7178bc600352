"""The admin pages in a real Chromium: an admin uploads a file of profiles with the form
(multipart, no script needed) and sees its bad rows by line and column, then adds a user
and makes them an API token, shown once. The page guard fails the test on any request
outside the server, a console error or a CSP violation."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.test_pages import sign_in
from tests.fixtures.browser import screenshot
from tests.fixtures.server import Web


def test_an_admin_loads_profiles_and_gives_a_new_user_a_token(
    guarded_page: Page, web: Web, tmp_path: Path
) -> None:
    page = guarded_page
    sign_in(page, "admin")
    page.locator("#nav-profiles").click()
    expect(page.locator("#row-count")).to_have_text("5")
    rows = ["customer_id,email,first_name,tier,age"]
    rows += [f"{i},user{i}@example.com,First{i},gold,{20 + i}" for i in range(1, 12)]
    rows[4] = "4,user4@example.com,First4,gold,unknown"
    rows.append("12,user12@example.com,First12,gold,33,one too many")
    upload = tmp_path / "spring.csv"
    upload.write_text("\n".join(rows) + "\n", encoding="utf-8")
    page.locator("#file").set_input_files(str(upload))
    page.locator("#load").click()
    result = page.locator("#load-result")
    expect(result).to_contain_text("Loaded 11 profiles from spring.csv")
    bad = page.locator("#load-problems tr.problem-bad_value")
    expect(bad).to_contain_text("age")
    expect(bad.locator("td").first).to_have_text("5")
    expect(page.locator("#load-problems tr.problem-rejected_row td").first).to_have_text("13")
    expect(page.locator("#row-count")).to_have_text("11")
    screenshot(page, "profiles")

    page.locator("#nav-users").click()
    page.locator("#name").fill("sam")
    page.locator("#role").select_option("contributor")
    page.locator("#password").fill("sam's first password")
    page.locator("#add-user").click()
    expect(page).to_have_url(re.compile(r"/users/sam\?notice=added$"))
    expect(page.locator("#user-role")).to_have_text("contributor")
    page.locator("#token_name").fill("laptop")
    page.locator("#create-token").click()
    token = page.locator("#token-value")
    expect(token).to_have_text(re.compile(r"\S{20,}"))
    screenshot(page, "user")
    page.goto("/users")
    expect(page.locator("#users")).to_contain_text("sam")
    screenshot(page, "users")
