"""The bundled sample stream for ``deliverator demo``, generated reproducibly.

:func:`sample_lines` makes 600 Segment-spec events of every type (identify, track, page, screen,
group, alias) for an imaginary online shop, with ISO-8601 timestamps and message ids. 30 of
them (5 %) are invalid on purpose, so the demo shows both ways an event can fail:

- 15 that deliverator refuses before sending (3 of each): a line that is not JSON, an event
  with neither ``userId`` nor ``anonymousId``, a track without ``event``, an unknown ``type``,
  a group without ``groupId``;
- 15 that look fine locally but break a Customer.io limit, so only the Track API (here the
  emulator) refuses them in its 207 answer (5 of each): a property value over 1000 bytes, an
  event name over 100 bytes, a trait name over 150 bytes.

The generator draws only from ``random.Random.random()``, whose sequence Python promises to keep
for a given seed, so the same seed gives the same bytes on every Python version.
``python -m deliverator_customerio.demo`` rewrites ``data/sample_events.jsonl``; ``--check``
only compares.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TypeVar

SEED: Final = 20240405
TOTAL_EVENTS: Final = 600
SAMPLE_FILE: Final = "data/sample_events.jsonl"
"""The stream's path inside the ``deliverator_customerio`` package."""

SAMPLE_PATH: Final = Path(__file__).parent / SAMPLE_FILE

LOCAL_INVALID_PER_KIND: Final = 3
REMOTE_INVALID_PER_KIND: Final = 5
START: Final = datetime(2024, 4, 5, 8, 0, 0, tzinfo=UTC)

T = TypeVar("T")
Event = dict[str, Any]


class _Dice:
    """Random choices made from ``Random.random()`` alone (see the module docstring)."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def unit(self) -> float:
        return self._random.random()

    def below(self, bound: int) -> int:
        return min(int(self.unit() * bound), bound - 1)

    def between(self, low: int, high: int) -> int:
        return low + self.below(high - low + 1)

    def pick(self, options: Sequence[T]) -> T:
        return options[self.below(len(options))]

    def chance(self, probability: float) -> bool:
        return self.unit() < probability

    def hex(self, digits: int) -> str:
        return "".join(self.pick("0123456789abcdef") for _ in range(digits))

    def uuid(self) -> str:
        h = self.hex(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{self.pick('89ab')}{h[17:20]}-{h[20:]}"

    def shuffle(self, items: list[T]) -> None:
        for position in range(len(items) - 1, 0, -1):
            other = self.below(position + 1)
            items[position], items[other] = items[other], items[position]


FIRST_NAMES: Final = (
    "Ana",
    "Bruno",
    "Chloé",
    "Dmitri",
    "Emeka",
    "Fatima",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kwame",
    "Lena",
    "Mateo",
    "Nadia",
    "Oskar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tamar",
    "Uma",
    "Viktor",
)
LAST_NAMES: Final = (
    "Silva",
    "Okafor",
    "Müller",
    "Tanaka",
    "Haddad",
    "Novak",
    "García",
    "Lindqvist",
    "Dubois",
    "Kowalski",
    "Mensah",
    "Rossi",
    "Petrov",
    "Nakamura",
    "O'Brien",
    "Costa",
)
PLANS: Final = ("free", "starter", "pro", "enterprise")
CITIES: Final = (
    ("Lisbon", "PT"),
    ("Lagos", "NG"),
    ("Berlin", "DE"),
    ("Osaka", "JP"),
    ("Toronto", "CA"),
    ("São Paulo", "BR"),
    ("Nairobi", "KE"),
    ("Melbourne", "AU"),
    ("Austin", "US"),
)
PRODUCTS: Final = (
    ("sku-1001", "Trail Running Shoes", "Footwear", 129.0),
    ("sku-1002", "Merino Wool Socks", "Apparel", 18.5),
    ("sku-1003", "Rain Shell Jacket", "Apparel", 189.99),
    ("sku-1004", "Insulated Bottle", "Gear", 34.0),
    ("sku-1005", "Headlamp 400lm", "Gear", 49.95),
    ("sku-1006", "Ultralight Tent", "Camping", 349.0),
    ("sku-1007", "Sleeping Pad", "Camping", 89.0),
    ("sku-1008", "Trekking Poles", "Gear", 74.5),
)
PAGES: Final = (
    ("Home", "/"),
    ("Pricing", "/pricing"),
    ("Footwear", "/c/footwear"),
    ("Camping", "/c/camping"),
    ("Product", "/p/sku-1001"),
    ("Product", "/p/sku-1006"),
    ("Blog", "/blog/packing-list-for-a-weekend-hike"),
    ("Help", "/help/returns"),
    ("Checkout", "/checkout"),
)
SCREENS: Final = ("Home", "Product Detail", "Cart", "Checkout", "Order History", "Settings", "Search Results")
COMPANIES: Final = (
    ("company-001", "Summit Outfitters", "retail"),
    ("company-002", "Bluewater Guides", "tourism"),
    ("company-003", "Northwind Schools", "education"),
    ("company-004", "Alder & Pine", "retail"),
    ("company-005", "Kestrel Labs", "software"),
    ("company-006", "Harbor Clinics", "health"),
)
HOST: Final = "https://shop.example.com"


class _Shop:
    """The imaginary shop's users and clock; each method makes one event."""

    def __init__(self, dice: _Dice) -> None:
        self.dice = dice
        self.now = START
        self.users = [self._user(number) for number in range(1, 61)]
        self.memberships: set[tuple[str, str]] = set()

    def _user(self, number: int) -> dict[str, str]:
        first, last = self.dice.pick(FIRST_NAMES), self.dice.pick(LAST_NAMES)
        email = f"{first.lower()}.{last.lower().replace(chr(39), '')}{number}@example.com"
        email = email.replace("é", "e").replace("ü", "u").replace("í", "i")
        # Most shops use their database id; some send the email or Customer.io's own id.
        style = self.dice.unit()
        user_id = email if style < 0.1 else f"cio_{self.dice.hex(12)}" if style < 0.13 else f"user-{number:04d}"
        return {"userId": user_id, "email": email, "first": first, "last": last, "anonymousId": self.dice.uuid()}

    def event_of(self, kind: str, who: dict[str, str] | None, anonymous: bool = False) -> Event:
        self.now += timedelta(seconds=self.dice.between(1, 90), milliseconds=self.dice.below(1000))
        event: Event = {"type": kind, "messageId": self.dice.uuid()}
        if who is not None and not anonymous:
            event["userId"] = who["userId"]
        if who is not None and (anonymous or self.dice.chance(0.3)):
            event["anonymousId"] = who["anonymousId"]
        event["timestamp"] = _iso(self.now)
        event["context"] = {
            "library": {"name": "analytics.js", "version": "next-1.64.0"},
            "ip": f"203.0.113.{self.dice.between(1, 254)}",
            "locale": self.dice.pick(("en-US", "pt-PT", "de-DE", "ja-JP", "fr-FR")),
        }
        return event

    def identify(self) -> Event:
        who = self.dice.pick(self.users)
        event = self.event_of("identify", who)
        city, country = self.dice.pick(CITIES)
        event["traits"] = {
            "email": who["email"],
            "first_name": who["first"],
            "last_name": who["last"],
            "plan": self.dice.pick(PLANS),
            "createdAt": _iso(START - timedelta(days=self.dice.between(1, 900))),
            "logins": self.dice.between(1, 250),
            "newsletter": self.dice.chance(0.6),
            "address": {"city": city, "country": country},
        }
        return event

    def anonymous_identify(self) -> Event:
        """An anonymous visitor leaving an email address (newsletter form)."""
        who = self.dice.pick(self.users)
        event = self.event_of("identify", who, anonymous=True)
        event["traits"] = {"email": who["email"], "newsletter": True, "source": "footer-form"}
        return event

    def track(self) -> Event:
        who = self.dice.pick(self.users)
        event = self.event_of("track", who, anonymous=self.dice.chance(0.15))
        sku, name, category, price = self.dice.pick(PRODUCTS)
        properties: dict[str, Any]
        choice = self.dice.below(6)
        if choice == 0:
            event["event"], properties = "Product Viewed", {"product_id": sku, "name": name, "category": category}
        elif choice == 1:
            quantity = self.dice.between(1, 3)
            event["event"] = "Product Added"
            properties = {"product_id": sku, "name": name, "price": price, "quantity": quantity, "currency": "EUR"}
        elif choice == 2:
            event["event"], properties = "Checkout Started", {"value": price, "currency": "EUR", "step": 1}
        elif choice == 3:
            quantity = self.dice.between(1, 2)
            event["event"] = "Order Completed"
            properties = {
                "order_id": f"ord-{self.dice.hex(8)}",
                "revenue": round(price * quantity, 2),
                "currency": "EUR",
                "products": [{"product_id": sku, "name": name, "price": price, "quantity": quantity}],
                "delivery_promised_at": _iso(self.now + timedelta(days=self.dice.between(2, 6))),
            }
        elif choice == 4:
            event["event"], properties = "Coupon Applied", {"coupon": self.dice.pick(("SPRING10", "HIKE5", "WELCOME"))}
        else:
            event["event"], properties = "Products Searched", {"query": self.dice.pick(("tent", "socks", "rain"))}
        event["properties"] = properties
        return event

    def page(self) -> Event:
        who = self.dice.pick(self.users)
        event = self.event_of("page", who, anonymous=self.dice.chance(0.3))
        name, path = self.dice.pick(PAGES)
        event["name"] = name
        event["properties"] = {
            "path": path,
            "url": HOST + path,
            "title": f"{name} | Shop",
            "referrer": self.dice.pick(("https://www.google.com/", "", "https://news.example.org/")),
        }
        return event

    def screen(self) -> Event:
        who = self.dice.pick(self.users)
        event = self.event_of("screen", who, anonymous=self.dice.chance(0.1))
        event["name"] = self.dice.pick(SCREENS)
        event["properties"] = {"app_version": self.dice.pick(("3.2.0", "3.2.1", "3.3.0"))}
        event["context"]["device"] = {"type": self.dice.pick(("ios", "android")), "model": "demo-phone"}
        return event

    def group(self) -> Event | None:
        """A user joining a company; None once every pair has been used (each pair is sent once,
        so every delivered group call is a distinct item)."""
        for _ in range(20):
            who = self.dice.pick(self.users)
            group_id, company, industry = self.dice.pick(COMPANIES)
            if (who["userId"], group_id) not in self.memberships:
                self.memberships.add((who["userId"], group_id))
                event = self.event_of("group", who)
                event["groupId"] = group_id
                event["traits"] = {"name": company, "industry": industry, "employees": self.dice.between(5, 900)}
                return event
        return None

    def alias(self) -> Event:
        """A visitor who signs up: their new anonymous id is merged into the known user."""
        who = self.dice.pick(self.users)
        event = self.event_of("alias", who)
        event["userId"] = who["userId"]
        event.pop("anonymousId", None)
        event["previousId"] = self.dice.uuid()
        return event


# --- the invalid ones ----------------------------------------------------------------------


def _not_json(shop: _Shop, variant: int) -> str:
    event = shop.track()
    text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    broken = (text[: len(text) // 2], text.replace('"', "'"), "track user-0007 Order Completed")
    return broken[variant % len(broken)]


def _no_identity(shop: _Shop, variant: int) -> Event:
    event = shop.track()
    event.pop("userId", None)
    event.pop("anonymousId", None)
    return event


def _track_without_event(shop: _Shop, variant: int) -> Event:
    event = shop.track()
    del event["event"]
    return event


def _unknown_type(shop: _Shop, variant: int) -> Event:
    event = shop.track()
    event["type"] = ("purchase", "Track", "batch")[variant % 3]
    return event


def _group_without_group_id(shop: _Shop, variant: int) -> Event:
    event = shop.event_of("group", shop.dice.pick(shop.users))
    event["traits"] = {"name": "Unnamed team"}
    return event


def _long_property_value(shop: _Shop, variant: int) -> Event:
    event = shop.track()
    words = ("great", "fit", "but", "the", "sizing", "runs", "small", "and", "delivery", "took", "a", "week")
    review = " ".join(shop.dice.pick(words) for _ in range(260))
    event["event"] = "Review Submitted"
    event["properties"] = {"rating": shop.dice.between(1, 5), "review": review}
    return event


def _long_event_name(shop: _Shop, variant: int) -> Event:
    event = shop.track()
    event["event"] = "Clicked " + " > ".join(["Account", "Settings", "Notifications", "Email", "Marketing"] * 3)
    return event


def _long_trait_name(shop: _Shop, variant: int) -> Event:
    event = shop.identify()
    name = "survey_answer_" + "_".join(["how_likely_are_you_to_recommend_us_to_a_friend"] * 4)
    event["traits"][name] = shop.dice.between(0, 10)
    return event


LOCAL_INVALID: Final[tuple[Callable[[_Shop, int], Event | str], ...]] = (
    _not_json,
    _no_identity,
    _track_without_event,
    _unknown_type,
    _group_without_group_id,
)
"""Refused by deliverator itself, never sent (3 of each)."""

REMOTE_INVALID: Final[tuple[Callable[[_Shop, int], Event | str], ...]] = (
    _long_property_value,
    _long_event_name,
    _long_trait_name,
)
"""Sent, and refused by the Track API's limits in a 207 answer (5 of each)."""


def sample_lines(seed: int = SEED, total: int = TOTAL_EVENTS) -> list[str]:
    """The sample stream as lines (without newlines): ``total`` events, 30 of them invalid,
    scattered at random positions; timestamps increase down the file."""
    dice = _Dice(seed)
    shop = _Shop(dice)
    planned = [(make, variant) for make in LOCAL_INVALID for variant in range(LOCAL_INVALID_PER_KIND)]
    planned += [(make, variant) for make in REMOTE_INVALID for variant in range(REMOTE_INVALID_PER_KIND)]
    positions = list(range(total))
    dice.shuffle(positions)
    invalid_at = dict(zip(positions, planned, strict=False))
    lines: list[str] = []
    for position in range(total):
        if position in invalid_at:
            make, variant = invalid_at[position]
            record = make(shop, variant)
        else:
            record = _valid_event(shop)
        lines.append(record if isinstance(record, str) else _encode(record))
    return lines


def _valid_event(shop: _Shop) -> Event:
    makers: tuple[tuple[float, Callable[[], Event | None]], ...] = (
        (0.12, shop.identify),
        (0.04, shop.anonymous_identify),
        (0.43, shop.track),
        (0.20, shop.page),
        (0.11, shop.screen),
        (0.06, shop.group),
        (0.04, shop.alias),
    )
    while True:
        made = _weighted(shop.dice, makers)()
        if made is not None:
            return made


def _weighted(dice: _Dice, options: Sequence[tuple[float, T]]) -> T:
    """One of ``options`` with the probability its weight gives (weights sum to 1)."""
    draw = dice.unit()
    for weight, option in options:
        draw -= weight
        if draw < 0:
            return option
    return options[-1][1]


def render_sample(seed: int = SEED, total: int = TOTAL_EVENTS) -> bytes:
    """The sample file's exact bytes: one event per line, UTF-8, a final newline."""
    return ("\n".join(sample_lines(seed, total)) + "\n").encode("utf-8")


def write_sample(path: Path = SAMPLE_PATH) -> Path:
    """(Re)write the sample stream to ``path``; returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_sample())
    return path


def _encode(event: Event) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def main(argv: list[str] | None = None) -> int:
    """``python -m deliverator_customerio.demo [--output PATH] [--check]``."""
    parser = argparse.ArgumentParser(prog="python -m deliverator_customerio.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=SAMPLE_PATH, help="where to write (default: the bundled file)")
    parser.add_argument("--check", action="store_true", help="only check that the file is up to date")
    args = parser.parse_args(argv)
    if args.check:
        current = args.output.read_bytes() if args.output.exists() else b""
        if current != render_sample():
            print(f"{args.output} is out of date: run python -m deliverator_customerio.demo", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    path = write_sample(args.output)
    print(f"wrote {TOTAL_EVENTS} events to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
