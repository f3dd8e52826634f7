#!/usr/bin/env python3
"""make demo: a realistic, reproducible demo population for `ciclo customers import` and `ciclo events import`.

Writes OUT/customers.csv (B2C players and shoppers, B2B leads and accounts; pt, it and en; a dozen time zones
around the world, so that some customers are always outside quiet hours whatever the time the demo runs) and
OUT/events.jsonl (the last few weeks of what they did: logins, deposits, purchases, game results, and the B2B
funnel's page views, downloads, webinars and demo requests). The same seed gives the same files.

    scripts/demo_population.py OUT [--customers 50000] [--days 21] [--seed 7]
"""
import argparse
import csv
import json
import os
import random
from datetime import datetime, timedelta, timezone

# (locale, time zone, country, weight): pt in Portugal and Brazil, it in Italy, en from Sydney to Los Angeles.
PLACES = [
    ("pt-PT", "Europe/Lisbon", "PT", 12), ("pt-BR", "America/Sao_Paulo", "BR", 14),
    ("it", "Europe/Rome", "IT", 16), ("en", "Europe/London", "GB", 10),
    ("en", "America/New_York", "US", 10), ("en", "America/Chicago", "US", 5),
    ("en", "America/Los_Angeles", "US", 6), ("en", "Australia/Sydney", "AU", 6),
    ("en", "Asia/Singapore", "SG", 5), ("en", "Asia/Kolkata", "IN", 6),
    ("en", "Africa/Johannesburg", "ZA", 4), ("en", "Pacific/Auckland", "NZ", 3),
    ("en", "America/Anchorage", "US", 3),
]
FIRST_NAMES = {
    "pt": ["Ana", "João", "Inês", "Tiago", "Beatriz", "Gonçalo", "Mariana", "Luís", "Conceição", "Sebastião"],
    "it": ["Giulia", "Marco", "Francesca", "Luca", "Chiara", "Niccolò", "Sofia", "Matteo", "Lucrezia", "Andrea"],
    "en": ["Emma", "Tom", "Olivia", "James", "Amelia", "Noah", "Chloe", "Liam", "Grace", "Oliver"],
}
# B2C stages with how long ago such a customer was last seen (days), and their share of B2C.
B2C_STAGES = [("new", 0, 14, 12), ("active", 0, 25, 45), ("at_risk", 31, 85, 18), ("churned", 95, 300, 15),
              ("reactivated", 0, 20, 10)]
B2B_STAGES = [("attract", 0, 40, 25), ("capture", 0, 40, 25), ("nurture", 0, 30, 25), ("convert", 0, 20, 15),
              ("expand", 0, 30, 10)]
B2C_PERSONAS = [("b2c-bargain-hunter", 40), ("b2c-loyal", 35), ("b2c-high-roller", 10), ("b2c-casual", 15)]
B2B_PERSONAS = [("b2b-buyer", 50), ("b2b-champion", 30), ("b2b-evaluator", 20)]
GAMES = ["roulette", "blackjack", "slots", "poker", "bingo"]
PRODUCTS = ["shoes", "bags", "games", "sports", "books", "electronics"]


def pick(rng, weighted):
    """One of `weighted`'s tuples, drawn by its last field, without that field."""
    return rng.choices(weighted, weights=[w[-1] for w in weighted])[0][:-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.customers < 1 or args.days < 1:
        parser.error("--customers and --days must be 1 or more")
    rng = random.Random(args.seed)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    os.makedirs(args.out, exist_ok=True)
    columns = ["external_id", "email", "phone", "push_token", "locale", "timezone", "stage", "persona",
               "product_preferences", "last_seen_at", "attr.first_name", "attr.country", "attr.tier", "attr.ltv",
               "attr.vip", "attr.favourite_game", "consent.email", "consent.sms", "consent.push", "consent.webhook"]
    events = 0
    with open(os.path.join(args.out, "customers.csv"), "w", newline="") as cf, \
            open(os.path.join(args.out, "events.jsonl"), "w") as ef:
        out = csv.writer(cf)
        out.writerow(columns)
        for n in range(1, args.customers + 1):
            locale, zone, country = pick(rng, PLACES)
            language = locale.split("-")[0]
            b2b = rng.random() < 0.3
            stage, seen_min, seen_max = pick(rng, B2B_STAGES if b2b else B2C_STAGES)
            (persona,) = pick(rng, B2B_PERSONAS if b2b else B2C_PERSONAS)
            first = rng.choice(FIRST_NAMES[language])
            seen = (now - timedelta(days=rng.uniform(seen_min, seen_max))).replace(microsecond=0)
            tier = rng.choices(["gold", "silver", "bronze"], weights=[10, 30, 60])[0]
            has_phone = rng.random() < 0.8
            has_app = not b2b and rng.random() < 0.6
            external_id = "demo-%06d" % n
            out.writerow([
                external_id, "%s.%s@demo.example" % (external_id, first.lower().encode("ascii", "ignore").decode()),
                phone(country, n) if has_phone else "",
                "tok-%s" % external_id if has_app else "", locale, zone, stage, persona,
                ";".join(rng.sample(PRODUCTS, rng.randint(1, 2))), seen.isoformat().replace("+00:00", "Z"),
                first, country, tier, "%.2f" % (rng.lognormvariate(5, 1) * (3 if tier == "gold" else 1)),
                "true" if tier == "gold" and rng.random() < 0.3 else "false",
                "" if b2b else rng.choice(GAMES),
                # Nine in ten opted in to email; fewer to SMS and push; B2B leads' CRM hand-off is the webhook.
                str(rng.random() < 0.9).lower(), str(has_phone and rng.random() < 0.7).lower(),
                str(has_app and rng.random() < 0.85).lower(), str(b2b).lower(),
            ])
            for kind, payload, at in history(rng, b2b, stage, seen, now, args.days):
                ef.write(json.dumps({"customer": external_id, "kind": kind, "payload": payload,
                                     "time": at.isoformat().replace("+00:00", "Z")}, ensure_ascii=False) + "\n")
                events += 1
    print("demo population: %d customers, %d events over %d days in %s" % (args.customers, events, args.days, args.out))


# Mobile numbers in each country's own plan (calling code, mobile prefix, subscriber digits), unique per customer.
MOBILE = {"PT": ("351", "91", 7), "BR": ("55", "119", 8), "IT": ("39", "33", 8), "GB": ("44", "77", 8),
          "US": ("1", "2125", 6), "AU": ("61", "4", 8), "SG": ("65", "8", 7), "IN": ("91", "98", 8),
          "ZA": ("27", "82", 7), "NZ": ("64", "21", 7)}


def phone(country, n):
    code, prefix, digits = MOBILE[country]
    return "+%s%s%0*d" % (code, prefix, digits, n % 10 ** digits)


def history(rng, b2b, stage, seen, now, days):
    """What one customer did in the last `days` days, up to when they were last seen."""
    start = now - timedelta(days=days)
    if seen < start:
        return []
    span = (seen - start).total_seconds()
    count = rng.randint(1, 8) if stage in ("active", "reactivated", "nurture", "convert", "expand") else rng.randint(0, 3)
    out = []
    for _ in range(count):
        at = start + timedelta(seconds=int(rng.uniform(0, span)))
        if b2b:
            kind = rng.choices(["page_view", "pricing_view", "download", "webinar", "demo_request"],
                               weights=[50, 20, 15, 10, 5])[0]
            out.append((kind, {"page": "/pricing" if kind == "pricing_view" else "/"}, at))
        else:
            kind = rng.choices(["login", "deposit", "purchase", "game_result"], weights=[45, 20, 15, 20])[0]
            if kind in ("deposit", "purchase"):
                payload = {"amount": round(rng.lognormvariate(3.3, 0.8), 2), "currency": "EUR"}
            elif kind == "game_result":
                payload = {"game": rng.choice(GAMES), "amount": round(rng.gauss(0, 400), 2)}
            else:
                payload = {}
            out.append((kind, payload, at))
    out.sort(key=lambda e: e[2])
    return out


if __name__ == "__main__":
    main()
