#!/usr/bin/python3
"""Runs client/console/static/js/verify.js in headless Chromium against
vectors written by Haven's C++ audit log (haven_audit_fixture).

  verify_js_test.py --fixture PATH --source DIR --out DIR

Serves verify.js, the check page and the vectors from 127.0.0.1 (module
scripts and WebCrypto need an http origin), loads the page, and waits (at
most 60 s) for it to set its title to PASS or FAIL. Prints every check.
Exits 0 on PASS, 1 on FAIL; prints "SKIP" and exits 77 only when Chromium,
chromedriver or Selenium is not installed.
"""

import argparse
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time

try:
    import console_browser as cb
except ImportError:  # python3-selenium is missing
    cb = None

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class Handler(http.server.SimpleHTTPRequestHandler):
    def end_headers(self):
        self.send_header("Content-Security-Policy", "default-src 'self'")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if (cb is None or not os.access(CHROMIUM, os.X_OK)
            or not os.access(CHROMEDRIVER, os.X_OK)):
        print("SKIP: chromium, chromedriver or python3-selenium missing")
        return 77

    root = os.path.join(args.out, "verify_js")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    here = os.path.dirname(os.path.abspath(__file__))
    shutil.copy(os.path.join(args.source, "client/console/static/js/verify.js"),
                root)
    for name in ("verify_js_check.html", "verify_js_check.js"):
        shutil.copy(os.path.join(here, name), root)
    subprocess.run([args.fixture, os.path.join(root, "vectors.json")],
                   check=True, timeout=60)
    subprocess.run([args.fixture, os.path.join(root, "tampered.json"),
                    "--tamper-leaf", "17"], check=True, timeout=60)

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=root))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/verify_js_check.html" % server.server_port

    driver = cb.make_driver({"chromium": CHROMIUM, "chromedriver": CHROMEDRIVER})
    try:
        driver.get(url)
        deadline = time.monotonic() + 60
        while driver.title not in ("PASS", "FAIL"):
            if time.monotonic() > deadline:
                print("FAIL: the check page did not finish in 60 s")
                return 1
            time.sleep(0.1)
        print(driver.find_element("id", "result").text)
        driver.save_screenshot(os.path.join(args.out, "verify_js.png"))
        print("RESULT:", driver.title)
        return 0 if driver.title == "PASS" else 1
    finally:
        driver.quit()
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
