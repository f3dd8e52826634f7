#!/usr/bin/env python3
"""make demo: customers acting, through the reporter's real endpoints.

    scripts/demo_responses.py events   --reporter URL --database URL
        What customers do next: deposits (the SMS trigger), big wins and losses (the push experience) and B2B demo
        requests (the CRM webhook), posted to POST /events in batches.
    scripts/demo_responses.py outcomes --reporter URL --database URL --outbox DIR
        What the recipients of the emails in DIR/email do: opens of the tracking pixel (some by a mail privacy
        proxy, which the reporter flags as a machine), clicks on tracked links, one-click unsubscribes (RFC 8058),
        and purchases; and purchases by the control groups, at a lower rate, so the report shows an uplift.

Every choice hashes the customer or the message, so a run is reproducible. CICLO_EVENTS_TOKEN is the bearer token.
The rates are the simulation's own assumptions, printed with the counts: the report measures them back.
"""
import argparse
import email
import email.policy
import hashlib
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5"
PRIVACY_PROXY = "Mozilla/5.0"  # Apple Mail Privacy Protection fetches images with this bare user agent
OPEN, PROXY_OPEN, CLICK_OF_OPEN, UNSUBSCRIBE, BUY_AFTER_CLICK = 0.38, 0.12, 0.30, 0.015, 0.25
BASE_PURCHASE = 0.03  # without any message, treated or held out alike


def chance(key, rate):
    """A reproducible coin: true for `rate` of all keys."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0x100000000 < rate


def now_text():
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def psql(database, sql):
    out = subprocess.run(["psql", database, "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


# Redirects are not followed: the redirect is what a click records.
OPENER = urllib.request.build_opener(NoRedirect)


def request(url, method="GET", body=None, headers=None):
    """(status, body) of one request."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with OPENER.open(req, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def post_events(reporter, events):
    token = os.environ.get("CICLO_EVENTS_TOKEN", "")
    stored = 0
    for start in range(0, len(events), 500):
        body = json.dumps(events[start:start + 500]).encode()
        status, answer = request(reporter + "/events", "POST", body,
                                 {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        if status != 200:
            sys.exit("demo: POST /events answered %d: %s" % (status, answer[:300].decode(errors="replace")))
        stored += json.loads(answer)["stored"]
    return stored


def events(args):
    customers = psql(args.database, """
        SELECT external_id, coalesce(persona, ''), coalesce(stage, '') FROM customers ORDER BY id""")
    out = []
    for external_id, persona, stage in customers:
        if persona.startswith("b2b"):
            if chance("demo_request:" + external_id, 0.01):
                out.append({"customer": external_id, "kind": "demo_request", "payload": {"source": "pricing"},
                            "time": now_text()})
        elif stage in ("new", "active", "reactivated"):
            if chance("deposit:" + external_id, 0.03):
                amount = 20 + int(hashlib.sha256(external_id.encode()).hexdigest()[:4], 16) % 200
                out.append({"customer": external_id, "kind": "deposit", "payload": {"amount": amount,
                            "currency": "EUR"}, "time": now_text()})
            if chance("game:" + external_id, 0.03):
                win = chance("win:" + external_id, 0.5)
                amount = (1 if win else -1) * (500 + int(hashlib.sha256(external_id.encode()).hexdigest()[4:8], 16) % 2500)
                out.append({"customer": external_id, "kind": "game_result", "payload": {"game": "roulette",
                            "amount": amount}, "time": now_text()})
    stored = post_events(args.reporter, out)
    kinds = {}
    for event in out:
        kinds[event["kind"]] = kinds.get(event["kind"], 0) + 1
    print("posted %d events to %s/events (%s); %d stored"
          % (len(out), args.reporter, ", ".join("%s %d" % kv for kv in sorted(kinds.items())), stored))


def tracked_links(message, reporter):
    html = message.get_body(preferencelist=("html",))
    text = html.get_content() if html is not None else ""
    pixel = re.findall(re.escape(reporter) + r"/o/[A-Za-z0-9_\-.]+", text)
    clicks = re.findall(re.escape(reporter) + r"/c/[A-Za-z0-9_\-.]+", text)
    unsubscribe = re.findall(r"<(https?://[^>]+/u/[^>]+)>", message.get("List-Unsubscribe", ""))
    return (pixel[0] if pixel else None), clicks, (unsubscribe[0] if unsubscribe else None)


def respond(path, reporter):
    """What the recipient of one email does; returns what happened, and who clicked."""
    with open(path, "rb") as f:
        message = email.message_from_binary_file(f, policy=email.policy.default)
    key = message["Message-ID"] or path
    recipient = message["To"].addresses[0].addr_spec if message["To"] else ""
    pixel, clicks, unsubscribe = tracked_links(message, reporter)
    done = dict(emails=1, opens=0, proxy_opens=0, clicks=0, unsubscribes=0)
    clicked = None
    if pixel and chance("proxy:" + key, PROXY_OPEN):
        request(pixel, headers={"User-Agent": PRIVACY_PROXY})
        done["proxy_opens"] = 1
    if pixel and chance("open:" + key, OPEN):
        request(pixel, headers={"User-Agent": BROWSER})
        done["opens"] = 1
        if clicks and chance("click:" + key, CLICK_OF_OPEN):
            status, _ = request(clicks[0], headers={"User-Agent": BROWSER})
            if status == 302:
                done["clicks"] = 1
                # The demo population addresses customers as <external id>.<first name>@demo.example.
                clicked = recipient.split(".")[0]
    if unsubscribe and chance("unsubscribe:" + key, UNSUBSCRIBE):
        status, _ = request(unsubscribe, "POST", b"List-Unsubscribe=One-Click",
                            {"Content-Type": "application/x-www-form-urlencoded"})
        done["unsubscribes"] = int(status == 200)
    return done, clicked


def outcomes(args):
    directory = os.path.join(args.outbox, "email")
    paths = [os.path.join(directory, n) for n in sorted(os.listdir(directory)) if n.endswith(".eml")]
    counts = dict(emails=0, opens=0, proxy_opens=0, clicks=0, unsubscribes=0)
    clicked_by = set()
    # Sixteen recipients at a time, as a mail client population would: the reporter serves them concurrently.
    with ThreadPoolExecutor(max_workers=16) as pool:
        for done, clicked in pool.map(lambda path: respond(path, args.reporter), paths):
            for name, value in done.items():
                counts[name] += value
            if clicked:
                clicked_by.add(clicked)
    treated = psql(args.database, """
        SELECT DISTINCT c.external_id FROM deliveries d JOIN customers c ON c.id = d.customer_id
        WHERE d.outcome = 'sent'""")
    held_out = psql(args.database, """
        SELECT DISTINCT c.external_id FROM send_decisions d JOIN customers c ON c.id = d.customer_id
        WHERE d.outcome IN ('holdout', 'global_holdout')""")
    purchases = []
    for (external_id,) in treated + held_out:
        bought = chance("buy:" + external_id, BASE_PURCHASE)
        bought = bought or (external_id in clicked_by and chance("buy-after-click:" + external_id, BUY_AFTER_CLICK))
        if bought:
            amount = 15 + int(hashlib.sha256(external_id.encode()).hexdigest()[:4], 16) % 150
            purchases.append({"customer": external_id, "kind": "purchase", "time": now_text(),
                              "payload": {"amount": amount, "currency": "EUR", "source": "shop"}})
    stored = post_events(args.reporter, purchases)
    print(("simulated, on %(emails)d emails received: %(opens)d opens (%(rate_open)d%% of emails), %(proxy_opens)d "
           "more by a privacy proxy (machine), %(clicks)d clicks (%(rate_click)d%% of openers), %(unsubscribes)d "
           "one-click unsubscribes") % dict(counts, rate_open=OPEN * 100, rate_click=CLICK_OF_OPEN * 100))
    print("simulated purchases: %d (%d stored) by %d treated and %d held-out customers: %d%% buy anyway, and "
          "%d%% of those who clicked buy because of it" % (len(purchases), stored, len(treated), len(held_out),
                                                             BASE_PURCHASE * 100, BUY_AFTER_CLICK * 100))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["events", "outcomes"])
    parser.add_argument("--reporter", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--outbox")
    args = parser.parse_args()
    if args.what == "outcomes" and not args.outbox:
        parser.error("outcomes needs --outbox")
    args.reporter = args.reporter.rstrip("/")
    events(args) if args.what == "events" else outcomes(args)


if __name__ == "__main__":
    main()
