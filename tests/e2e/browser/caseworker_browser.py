#!/usr/bin/python3
"""Browser scenario: a caseworker at the grantee sees the handle a holder
gave her agency, asks the holder for a disclosure, and sees what came and,
per category withheld, why not.

Config (JSON, written by tests/e2e/console_browser_test.cc):
  base_url       haven-console in front of the grantee's node
  caseworker     {name, enrolment_code, password}: a caseworker account on
                 the grantee's node, not yet enrolled
  holder         the holder's agency id
  purpose        the purpose to ask for (e.g. LEGAL_REPRESENTATION)
  given          {category: field value expected}: what consent covers
  withheld       [category, ...]: what it does not
  screenshot_dir, chromium, chromedriver, cert_spki, profile_dir
"""

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import console_browser as cb


def main(config, driver, screens):
    account = config["caseworker"]
    base = config["base_url"]
    cb.enrol_and_sign_in(driver, screens, base, account["name"],
                         account["enrolment_code"], account["password"], set())
    driver.get(base + "/caseworker.html")
    cb.wait_text(driver, "[data-test=who-am-i]", "Caseworker")
    row = cb.wait_text(driver, "#handles tbody tr", config["holder"])
    screens.shot("caseworker-handles")
    row.find_element(By.TAG_NAME, "button").click()
    cb.wait_text(driver, "#ask-holder", config["holder"])
    Select(cb.element(driver, "#ask-purpose")).select_by_value(config["purpose"])
    wanted = list(config["given"]) + list(config["withheld"])
    for category in wanted:
        box = driver.find_element(
            By.CSS_SELECTOR, "#ask-categories input[value='%s']" % category)
        driver.execute_script("arguments[0].scrollIntoView({block:'center'})", box)
        box.click()
    screens.shot("caseworker-ask")
    cb.click(driver, "#ask-send")
    cb.wait_text(driver, "#ask-status", "Answered")
    answer = cb.element(driver, "#answer")
    fields = cb.element(driver, "#answer-fields").text
    for category, value in config["given"].items():
        assert value in fields, "%s value %r not shown: %s" % (category, value, fields)
    decisions = [li.text for li in
                 driver.find_elements(By.CSS_SELECTOR, "#answer-decisions li")]
    assert len(decisions) == len(wanted), decisions
    withheld = [d for d in decisions if "withheld, because" in d]
    assert len(withheld) == len(config["withheld"]), decisions
    given = [d for d in decisions if ": given" in d]
    assert len(given) == len(config["given"]), decisions
    cb.no_script_ran(driver)
    screens.shot("caseworker-answer")
    print("fields shown:\n" + fields)
    print("decisions:\n" + "\n".join(decisions))
    print("record: " + cb.element(driver, "#answer-record").text)
    assert "On record at " + config["holder"] in answer.text
    assert driver.execute_script(
        "return localStorage.length + sessionStorage.length") == 0, \
        "the caseworker page kept something in browser storage"
    assert "handle" not in driver.current_url and "?" not in driver.current_url, \
        driver.current_url


if __name__ == "__main__":
    raise SystemExit(cb.run(main))
