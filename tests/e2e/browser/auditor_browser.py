#!/usr/bin/python3
"""Browser scenario: the auditor's page verifies a disclosure entry in the
browser, and says verification failed when the node lies.

Config (JSON, written by tests/e2e/console_browser_test.cc):
  base_url             haven-console in front of the holder's real node
  double_console_url   haven-console in front of tests/e2e/browser/
                       node_double.py, which proxies the same node
  double_mode_file     the double's mode file (none, flip-proof, other-key,
                       flip-consistency)
  auditor              {name, enrolment_code, password}: an auditor account
                       on the holder's node, not yet enrolled
  screenshot_dir, chromium, chromedriver, cert_spki, profile_dir
The holder has already disclosed data to a peer (a DISCLOSURE entry).
"""

import json

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import console_browser as cb


def set_mode(config, mode):
    with open(config["double_mode_file"], "w", encoding="utf-8") as f:
        f.write(mode + "\n")


def open_disclosure(driver, screens, base_url, shot_prefix):
    """Lists DISCLOSURE entries on the auditor page and opens the newest."""
    driver.get(base_url + "/auditor.html")
    cb.wait_text(driver, "[data-test=who-am-i]", "Auditor")
    cb.element(driver, "#entries tbody tr")
    if shot_prefix:
        screens.shot(shot_prefix + "-log")
    Select(cb.element(driver, "#filter-kind")).select_by_value("DISCLOSURE")
    cb.click(driver, "#filter-apply")
    cb.wait_text(driver, "#list-status", "matching entr")
    row = cb.wait_text(driver, "#entries tbody tr",
                       "Data was disclosed to another agency")
    row.find_element(By.TAG_NAME, "button").click()
    cb.wait_text(driver, "#entry-fields", "Data was disclosed to another agency")
    return cb.element(driver, "#entry-fields").text


def verify(driver):
    """Clicks "Verify in this browser"; returns the result text once the
    check has finished."""
    cb.click(driver, "#verify")
    result = cb.wait_for(
        driver,
        lambda d: (lambda t: t if t.startswith(("Verified", "Verification failed"))
                   else False)(d.find_element(By.ID, "verify-result").text),
        "the verification result")
    return result


def storage_is_only_checkpoints(driver):
    """Browser storage holds checkpoints (log metadata) and nothing else."""
    found = driver.execute_script("""
      const out = {session: sessionStorage.length, local: []};
      for (let i = 0; i < localStorage.length; i++) {
        const k = localStorage.key(i);
        let fields = null;
        try { fields = Object.keys(JSON.parse(localStorage.getItem(k))).sort(); }
        catch (e) { fields = ['unparsable']; }
        out.local.push({key: k, fields});
      }
      return out;""")
    assert found["session"] == 0, "sessionStorage is not empty: %r" % found
    assert found["local"], "no checkpoint was kept"
    for item in found["local"]:
        assert item["key"].startswith("haven.checkpointSeen."), found
        assert item["fields"] == ["note", "origin", "rootHash", "treeSize"], found
    return found["local"]


def main(config, driver, screens):
    account = config["auditor"]
    used = set()
    set_mode(config, "none")

    # 1. The real node: verified, and again against the checkpoint kept.
    base = config["base_url"]
    secret = cb.enrol_and_sign_in(driver, screens, base, account["name"],
                                  account["enrolment_code"],
                                  account["password"], used)
    fields = open_disclosure(driver, screens, base, "auditor")
    for word in ("Who acted", "Given", "Request"):
        assert word in fields, "the entry does not show %r: %s" % (word, fields)
    result = verify(driver)
    assert result == "Verified in this browser.", result
    steps = cb.element(driver, "#verify-steps").text
    assert "signature valid" in steps and "inclusion proof" in steps, steps
    screens.shot("auditor-verified")
    print("real node: " + result)
    print(steps)
    result = verify(driver)
    assert result == "Verified in this browser.", result
    steps = cb.element(driver, "#verify-steps").text
    assert "extends the checkpoint this browser saw before" in steps, steps
    print("again: " + result + " (" + steps.splitlines()[-1] + ")")
    kept = storage_is_only_checkpoints(driver)
    print("browser storage: %r" % kept)

    # 2. The double: the same node behind a proxy that lies.
    double = config["double_console_url"]
    # Cookies are per host, not per port: the session made at the first
    # console may reach this one too (the same node is behind it).
    # The auditor page sends a browser with no session to index.html.
    driver.get(double + "/auditor.html")
    cb.wait_for(driver, lambda d: "index.html" in d.current_url
                or d.find_elements(By.CSS_SELECTOR, "[data-test=who-am-i]"),
                "the sign-in page or the signed-in auditor page")
    if "index.html" in driver.current_url:
        cb.sign_in(driver, account["name"], account["password"], secret, used)
    open_disclosure(driver, screens, double, "")
    result = verify(driver)
    assert result == "Verified in this browser.", \
        "the double passes everything through in mode none: " + result
    print("double, mode none: " + result)

    set_mode(config, "flip-proof")
    result = verify(driver)
    assert result.startswith("Verification failed"), result
    assert "inclusion proof" in result, result
    screens.shot("auditor-flipped-proof")
    print("double, one proof bit flipped: " + result)

    set_mode(config, "other-key")
    result = verify(driver)
    assert result.startswith("Verification failed"), result
    assert "not signed by the pinned key" in result, result
    screens.shot("auditor-other-key")
    print("double, checkpoint signed by another key: " + result)

    # The log grows (the node logs one failed sign-in of the auditor, far
    # below its back-off); the double then bends the proof that the log
    # extends the checkpoint this browser kept at the first check through it.
    answer = cb.fetch(driver, "POST", "/api/sign-in",
                      json.dumps({"name": account["name"],
                                  "password": "not the password",
                                  "totpCode": "000000"}),
                      {"Content-Type": "application/json"})
    print("one failed sign-in, logged: %r" % answer)
    assert answer["status"] == 401, answer
    set_mode(config, "flip-consistency")
    result = verify(driver)
    assert result.startswith("Verification failed"), result
    assert "does not extend the checkpoint seen before" in result, result
    screens.shot("auditor-inconsistent")
    print("double, consistency proof bent: " + result)
    set_mode(config, "none")


if __name__ == "__main__":
    raise SystemExit(cb.run(main))
