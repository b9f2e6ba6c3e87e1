"""Browser test of the advocate's pages (issue 17, acceptance 1, 3 and 6).

a) The advocate enrols TOTP, signs in, finds the survivor by case
   reference, records a consent for the grantee after the plain-language
   preview, sees the receipt, withdraws it with a reason; the grantee's next
   disclosure request (havenctl) is refused; the access report shows both.
b) Hostile content renders as text and runs nothing; a POST without the
   CSRF token, from another origin, with an expired session and after
   sign-out is refused; the security headers and cookie flags are right.

Run by tests/e2e/console_browser_test.cc with a JSON config (see
console_browser.py).
"""

import json
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import console_browser as cb
from selenium.webdriver.common.by import By

PAYLOADS = ['<script>window.__havenXss=1;document.title="pwned"</script>',
            '<img src=x onerror="window.__havenXss=2;document.title=\'pwned\'">',
            '"><svg onload="window.__havenXss=3;document.title=\'pwned\'">']

EXPECTED_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'; "
                               "object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def grantee_ctl(config, *args, timeout=60):
    argv = list(config["grantee_ctl"]) + list(args)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout + done.stderr


def handles(config):
    """The grantee's handles at the holder, from `havenctl exchange handles
    --json`."""
    code, out = grantee_ctl(config, "exchange", "handles", "--json")
    assert code == 0, out
    found = set()
    for line in out.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        for h in doc.get("handles", []):
            holder = h.get("holderAgencyId", h.get("holder_agency_id"))
            if holder == config["holder"] and h.get("handle"):
                found.add(h["handle"])
    return found


def wait_for_new_handle(config, known):
    """Waits (bounded, 20 s) for a handle not in `known`: the holder offers
    one asynchronously once a consent is recorded."""
    for _ in range(100):
        new = handles(config) - known
        if new:
            assert len(new) == 1, new
            return new.pop()
        time.sleep(0.2)
    raise AssertionError("no new handle reached the grantee")


def request_disclosure(config, handle):
    return grantee_ctl(config, "exchange", "request", "--holder",
                       config["holder"], "--handle", handle, "--purpose",
                       "LEGAL_REPRESENTATION", "--category", "CONTACT")


def https(config, method, path, body=None, headers=None):
    """A request from outside the browser (as another site or a script
    would make one); returns (status, headers, text)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    data = None if body is None else body.encode()
    request = urllib.request.Request(config["base_url"] + path, data=data,
                                     method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, context=context, timeout=20) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def find_subject(driver, reference):
    cb.fill(driver, "#case-reference", reference)
    cb.click(driver, "#find-button")
    cb.wait_text(driver, "#find-status", "Found the file")
    cb.element(driver, "#consent-list")


def fill_consent(driver, grantee, purposes, categories):
    cb.fill(driver, "#grantee-agency", grantee)
    for p in purposes:
        cb.click(driver, "#purpose-" + p.lower())
    for c in categories:
        cb.click(driver, "#category-" + c.lower())
    # A date input takes the date typed in the browser's locale order;
    # set it through the DOM instead.
    until = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 60 * 86400))
    driver.execute_script(
        "const e = document.getElementById('valid-until'); e.value = arguments[0];"
        "e.dispatchEvent(new Event('input', {bubbles: true}));", until)
    cb.click(driver, "#preview-button")
    cb.wait_text(driver, "#preview", "could then receive")
    cb.element(driver, "#save-consent-button")


def withdraw(driver, consent_row_css, reason):
    row = cb.element(driver, consent_row_css)
    consent_id = row.get_attribute("data-id")
    cb.click(driver, "[data-test='revoke-%s']" % consent_id)
    cb.element(driver, "#change-dialog")
    cb.fill(driver, "#change-reason", reason)
    cb.click(driver, "#change-confirm")
    cb.wait_text(driver, "#consent-status", "Done: the consent is withdrawn")
    cb.wait_text(driver, "[data-test='status-%s']" % consent_id, "withdrawn")
    return consent_id


def scenario_a(config, driver, screens, used):
    base = config["base_url"]
    secret = cb.enrol_and_sign_in(driver, screens, base, config["advocate"],
                                  config["enrolment_code"], config["password"],
                                  used)
    cb.wait_for(driver, lambda d: d.current_url.endswith("/advocate.html"),
                "the advocate page")
    cb.wait_text(driver, "[data-test=node-health]", "Node " + config["holder"])
    screens.shot("advocate-start")
    # The header shows who is signed in and the node's health.
    assert "Advocate" in cb.element(driver, "[data-test=who-am-i]").text

    find_subject(driver, config["case_reference"])
    # No subject id or case reference in the URL or history.
    assert driver.current_url == base + "/advocate.html", driver.current_url
    known = handles(config)
    fill_consent(driver, config["grantee"], ["LEGAL_REPRESENTATION"],
                 ["CONTACT", "IMMIGRATION"])
    preview = cb.element(driver, "#preview").text
    assert "For legal representation, %s could then receive her contact details" % config["grantee"] in preview, preview
    screens.shot("consent-preview")
    cb.click(driver, "#save-consent-button")
    cb.wait_text(driver, "#save-status", "Saved")
    receipt = cb.wait_text(driver, "#receipt", "Consent receipt").text
    for words in ("agency " + config["grantee"], "contact details",
                  "legal representation", "in force", config["advocate"]):
        assert words in receipt, (words, receipt)
    screens.shot("consent-receipt")

    handle = wait_for_new_handle(config, known)
    code, out = request_disclosure(config, handle)
    print("grantee's request with the consent in force (exit %d):\n%s" % (code, out))
    assert code == 0 and "ALLOWED_BY_CONSENT" in out, out

    cb.click(driver, "#close-receipt")
    withdraw(driver, "#consent-table tbody tr", "survivor asked to stop sharing")
    screens.shot("consent-withdrawn")

    code, out = request_disclosure(config, handle)
    print("grantee's request after the withdrawal (exit %d):\n%s" % (code, out))
    assert "ALLOWED_BY_CONSENT" not in out, out
    assert config["contact_value"] not in out, out

    cb.click(driver, "#report-button")
    cb.wait_text(driver, "#report-status", "events on record")
    report = cb.element(driver, "#report").text
    assert "Your consent to share was recorded by staff account " + config["advocate"] in report, report
    assert "Your consent was withdrawn by staff account " + config["advocate"] in report, report
    assert "Reason given: survivor asked to stop sharing" in report, report
    assert "shared your contact" in report, report
    print("access report:\n" + report)
    screens.shot("access-report")
    return secret


def scenario_b(config, driver, screens, used, secret):
    base = config["base_url"]
    hostile_reference = config["hostile_case_reference"]
    find_subject(driver, hostile_reference)
    status = cb.element(driver, "#find-status").text
    assert hostile_reference in status, (hostile_reference, status)
    cb.no_script_ran(driver)

    fill_consent(driver, config["grantee"], ["LEGAL_REPRESENTATION"], ["CONTACT"])
    cb.click(driver, "#save-consent-button")
    cb.wait_text(driver, "#save-status", "Saved")
    cb.click(driver, "#close-receipt")
    reason = " ".join(PAYLOADS)
    consent_id = withdraw(driver, "#consent-table tbody tr", reason)
    shown = cb.element(driver, "[data-test='reason-%s']" % consent_id).text
    assert shown == "Reason: " + reason, shown
    cb.click(driver, "[data-test='receipt-%s']" % consent_id)
    receipt = cb.wait_text(driver, "#receipt", "Consent receipt").text
    assert reason in receipt, receipt
    cb.click(driver, "#report-button")
    cb.wait_text(driver, "#report-status", "events on record")
    assert "Reason given: " + reason in cb.element(driver, "#report").text
    # Nothing was parsed as markup: no element from a payload exists.
    assert not driver.find_elements(By.CSS_SELECTOR, "main img, main svg[onload], main script")
    cb.no_script_ran(driver)
    screens.shot("hostile-content-as-text")

    # Security headers on a page and on the API; the session cookie's flags.
    for path in ("/", "/advocate.html", "/js/api.js", "/api/session", "/no-such-file"):
        code, headers, _ = https(config, "GET", path)
        for name, value in EXPECTED_HEADERS.items():
            assert headers.get(name) == value, (path, name, headers.get(name))
        assert headers.get("Strict-Transport-Security", "").startswith("max-age="), (path, headers)
    cookie = driver.get_cookie("__Host-haven-session")
    assert cookie, "no session cookie"
    assert cookie["httpOnly"] and cookie["secure"], cookie
    assert cookie.get("sameSite") == "Strict", cookie
    assert cookie["path"] == "/" and "expiry" not in cookie, cookie
    assert "domain" not in cookie or not cookie["domain"].startswith("."), cookie
    assert driver.execute_script("return document.cookie") == "", "the cookie is readable by scripts"

    # CSRF: the page's own fetch without the header; another origin; a
    # cross-site fetch. All refused 403 before the node is asked.
    call = "/api/call/haven.v1.ConsentService/ListConsents"
    answer = cb.fetch(driver, "POST", call, "{}", {"Content-Type": "application/json"})
    assert answer["status"] == 403, answer
    session = json.loads(cb.fetch(driver, "GET", "/api/session")["text"])
    csrf = session["csrfToken"]
    jar = "__Host-haven-session=" + cookie["value"]
    for extra in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        headers = {"Content-Type": "application/json", "Cookie": jar,
                   "X-Haven-CSRF": csrf}
        headers.update(extra)
        code, _, text = https(config, "POST", call, "{}", headers)
        assert code == 403, (extra, code, text)
    code, _, text = https(config, "POST", call, "{}",
                          {"Content-Type": "text/plain", "Cookie": jar,
                           "X-Haven-CSRF": csrf})
    assert code == 415, (code, text)
    code, _, text = https(config, "POST", "/api/call/haven.v1.AuthService/AddUser",
                          "{}", {"Content-Type": "application/json",
                                 "Cookie": jar, "X-Haven-CSRF": csrf})
    assert code == 404, (code, text)
    print("CSRF and origin checks: refused as expected")

    # An idle session expires at the node: the next call is refused 401 and
    # the page says so.
    time.sleep(config["session_idle_seconds"] + 3)
    cb.click(driver, "#report-button")
    cb.wait_text(driver, "#report-status", "your session has ended")
    cb.wait_text(driver, "#session-banner", "Your session has ended")
    assert cb.fetch(driver, "GET", "/api/session")["status"] == 401
    screens.shot("session-expired")

    # After sign-out the old session cookie and CSRF token are refused.
    driver.get(base + "/")
    cb.sign_in(driver, config["advocate"], config["password"], secret, used)
    cookie = driver.get_cookie("__Host-haven-session")
    csrf = json.loads(cb.fetch(driver, "GET", "/api/session")["text"])["csrfToken"]
    cb.click(driver, "#sign-out")
    cb.wait_for(driver, lambda d: d.current_url.endswith("/index.html") or d.current_url == base + "/",
                "the sign-in page after sign-out")
    cb.element(driver, "#sign-in-form")
    assert driver.get_cookie("__Host-haven-session") is None
    code, _, text = https(config, "POST", call, json.dumps({}), {
        "Content-Type": "application/json",
        "Cookie": "__Host-haven-session=" + cookie["value"],
        "X-Haven-CSRF": csrf})
    assert code == 401, (code, text)
    driver.get(base + "/advocate.html")
    cb.wait_for(driver, lambda d: "advocate.html" not in d.current_url,
                "the advocate page to send a signed-out browser to sign in")
    screens.shot("signed-out")
    print("expired session and signed-out session: refused 401")


def main(config, driver, screens):
    used = set()
    secret = scenario_a(config, driver, screens, used)
    scenario_b(config, driver, screens, used, secret)


if __name__ == "__main__":
    sys.exit(cb.run(main))
