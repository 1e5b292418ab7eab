"""A realistic demo semester in the real towns of the region, with invented organisations and people."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from ..extensions import db
from ..models import (Tour, Contact, GeoSource, Module, Organisation, OrgKind, RequestStatus, RequestWindow, Role,
                      SiteLogistics, User, VisitRequest)
from ..security import hash_token
from . import blackouts, region, sitecheck, tours, users

SEMESTER = (date(2027, 2, 1), date(2027, 6, 30))
ACCOUNTS = [("admin@labtour.example", Role.ADMIN, "demo-admin-2027"),
            ("planung@labtour.example", Role.PLANNER, "demo-planer-2027"),
            ("ansicht@labtour.example", Role.VIEWER, "demo-ansicht-2027")]
MODULES = [
    ("robotik", "Robotik und Cobots", "Robotics and cobots"),
    ("additiv", "Additive Fertigung (3D-Druck)", "Additive manufacturing (3D printing)"),
    ("vr-ar", "Virtual und Augmented Reality", "Virtual and augmented reality"),
    ("iot", "IoT und Sensorik", "IoT and sensors"),
    ("ki", "Künstliche Intelligenz in der Produktion", "Artificial intelligence in production"),
    ("digitaler-zwilling", "Digitaler Zwilling", "Digital twin"),
    ("cybersecurity", "IT-Sicherheit in der Industrie", "Industrial cyber security"),
    ("leichtbau", "Faserverbund und Leichtbau", "Composites and lightweight design"),
]
SCHOOL_WORDS = ["Weserufer", "Geestrand", "Marschland", "Deichblick", "Hafenkante", "Moorwiese", "Heidetor",
                "Jadebusen", "Wümmeaue", "Huntetal", "Leuchtturm", "Kranichfeld"]
FIRM_STEMS = ["Nordlicht", "Kutter", "Marsch", "Geest", "Fahrwasser", "Kompass", "Ankerplatz", "Brise", "Priel",
              "Sturmflut", "Backbord", "Steuerbord", "Lotsen", "Tidenhub", "Wattblick", "Windkante"]
FIRM_TRADES = ["Metallbau GmbH", "Antriebstechnik KG", "Composite GmbH", "Präzisionsteile GmbH",
               "Elektrotechnik GmbH", "Kunststofftechnik GmbH", "Schiffsausrüstung GmbH", "Automation GmbH",
               "Logistiksysteme GmbH", "Windservice GmbH"]
FIRST = ["Anke", "Jens", "Birte", "Hauke", "Frauke", "Malte", "Imke", "Sönke", "Wiebke", "Tjark", "Gesa", "Ole",
         "Merle", "Finn", "Hanna", "Jannik", "Kerstin", "Lars", "Nele", "Rieke"]
LAST = ["Ahlers", "Brunken", "Cordes", "Dierks", "Eilers", "Fokken", "Gerdes", "Hinrichs", "Janssen", "Kruse",
        "Lüders", "Meyerholz", "Ohlrogge", "Peters", "Rademacher", "Schütte", "Tönjes", "Uphoff", "Wübbena"]
STREETS = ["Schulstraße", "Am Deich", "Industriestraße", "Hafenstraße", "Gewerbering", "Bahnhofstraße",
           "Lange Straße", "Werftstraße", "Zum Sielhafen", "Moorweg"]
OCCUPATIONS = ["Industriemechaniker/in", "Mechatroniker/in", "Elektroniker/in für Automatisierungstechnik",
               "Fachinformatiker/in", "Konstruktionsmechaniker/in", "Zerspanungsmechaniker/in",
               "Fluggerätmechaniker/in", "Technische/r Produktdesigner/in", "Fachkraft für Lagerlogistik"]


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    accounts: list[tuple[str, str, str]] = field(default_factory=list)

    def summary(self) -> str:
        if not any(self.created.values()):
            return "Demo data already present; nothing changed. Staff accounts:"
        parts = ", ".join(f"{n} {what}" for what, n in self.created.items() if n)
        return f"Demo data created: {parts}. Staff accounts:"


def reset() -> None:
    """Empty every table (the schema stays)."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def seed(rng_seed: int = 2027) -> SeedReport:
    """Idempotent: each part is created only when its kind of data is missing."""
    report = SeedReport()
    report.created["modules"] = _seed_modules()
    report.created["accounts"] = _seed_accounts()
    report.accounts = [(e, r.value, p) for e, r, p in ACCOUNTS]
    report.created["requests"] = 0
    if db.session.scalar(sa.select(sa.func.count()).select_from(VisitRequest)) == 0:
        report.created["requests"] = _seed_requests(random.Random(rng_seed))
    db.session.commit()
    report.created["published tour visits"] = 0
    if db.session.scalar(sa.select(sa.func.count()).select_from(Tour)) == 0:
        planner_user = db.session.scalar(sa.select(User).where(User.email == ACCOUNTS[1][0]))
        tour = tours.plan_tour(planner_user, *SEMESTER)
        tours.publish(planner_user, tour)
        report.created["published tour visits"] = len(tour.visits)
    return report


def _seed_modules() -> int:
    if db.session.scalar(sa.select(sa.func.count()).select_from(Module)):
        return 0
    for pos, (code, de, en) in enumerate(MODULES):
        db.session.add(Module(code=code, name_de=de, name_en=en, position=pos * 10))
    db.session.commit()
    return len(MODULES)


def _seed_accounts() -> int:
    created = 0
    for email, role, password in ACCOUNTS:
        if not db.session.scalar(sa.select(User).where(User.email == email)):
            users.create_user(email, role, password, name=email.split("@")[0].capitalize())
            created += 1
    return created


def _seed_requests(rng: random.Random) -> int:
    towns = region.towns()
    modules = list(db.session.scalars(sa.select(Module)))
    orgs = []
    for i in range(60):
        town = towns[i % len(towns)] if i < len(towns) else rng.choice(towns)
        kind = OrgKind.BBS if i % 5 in (0, 2) else (OrgKind.KMU if i % 5 != 4 or i % 10 == 4 else OrgKind.OTHER)
        if kind == OrgKind.BBS:
            name = f"BBS {SCHOOL_WORDS[i % len(SCHOOL_WORDS)]} {town.town.split(' (')[0]}"
        elif kind == OrgKind.KMU:
            name = f"{FIRM_STEMS[i % len(FIRM_STEMS)]} {FIRM_TRADES[(i * 7) % len(FIRM_TRADES)]}"
        else:
            name = f"Technologiezentrum {SCHOOL_WORDS[(i * 5) % len(SCHOOL_WORDS)]} {town.town.split(' (')[0]}"
        lat = town.lat + rng.uniform(-0.02, 0.02)
        lon = town.lon + rng.uniform(-0.03, 0.03)
        orgs.append(Organisation(kind=kind, name=name, street=f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
                                 postcode=town.postcode, town=town.town, district=town.district, state=town.state,
                                 lat=round(lat, 5), lon=round(lon, 5), geo_source=GeoSource.POSTCODE))
    db.session.add_all(orgs)
    db.session.flush()
    statuses = ([RequestStatus.APPROVED] * 44 + [RequestStatus.REQUESTED] * 18 + [RequestStatus.WAITLISTED] * 6
                + [RequestStatus.DECLINED] * 6 + [RequestStatus.CANCELLED] * 6)
    rng.shuffle(statuses)
    truck = {"length_m": 25.0, "width_m": 7.5, "clearance_m": 4.0, "max_power_distance_m": 60,
             "power_types": ["cee16", "cee32"]}
    now = datetime.now(timezone.utc)
    for n, status in enumerate(statuses):
        org = orgs[n % len(orgs)]
        half_days = _duration(rng, org.kind)
        windows = _windows(rng, org, half_days)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        domain = "schule.example" if org.kind == OrgKind.BBS else "firma.example"
        contact = Contact(organisation=org, name=f"{first} {last}", email=f"{first}.{last}.{n}@{domain}".lower(),
                          phone=f"0{rng.randint(400, 499)} {rng.randint(100000, 999999)}",
                          language="en" if n % 11 == 0 else "de", consent_at=now - timedelta(days=60 - n // 2))
        site = {"space_length_m": rng.choice([20.0, 30.0, 35.0, 40.0, 50.0]),
                "space_width_m": rng.choice([7.0, 8.0, 10.0, 12.0]),
                "clearance_m": rng.choice([None, None, 4.5, 3.8]),
                "surface": rng.choice(["paved"] * 5 + ["unknown"]),
                "power_type": rng.choice(["cee32", "cee32", "cee16", "schuko"]),
                "power_distance_m": float(rng.choice([10, 25, 40, 80])),
                "permit": rng.choice(["no"] * 6 + ["unknown"])}
        req = VisitRequest(
            organisation=org, contact=contact, status=status, duration_half_days=half_days,
            classes_per_day=rng.randint(2, 4) if half_days > 1 else 1,
            participants=rng.randint(12, 90) if half_days > 1 else rng.randint(6, 20),
            occupations=", ".join(rng.sample(OCCUPATIONS, 2)),
            manage_token_hash=hash_token(f"demo-{n}-{rng.random()}"),
            site_warnings=",".join(sitecheck.check(site, truck)),
            decision_reason="Im Zeitraum sind wir bereits ausgebucht." if status == RequestStatus.DECLINED else "",
            created_at=now - timedelta(days=70 - n // 2, hours=rng.randint(0, 12)),
        )
        req.windows = [RequestWindow(start=s, end=e) for s, e in windows]
        req.modules = rng.sample(modules, rng.randint(1, 3))
        req.logistics = SiteLogistics(**site, wifi=rng.random() < 0.7, toilets=rng.random() < 0.9,
                                      onsite_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                                      onsite_phone=f"0{rng.randint(400, 499)} {rng.randint(100000, 999999)}",
                                      access_notes="Zufahrt über den Lehrerparkplatz." if n % 3 == 0 else "")
        db.session.add(req)
    db.session.flush()
    return len(statuses)


def _duration(rng: random.Random, kind: OrgKind) -> int:
    if kind == OrgKind.KMU:
        return rng.choice([1, 1, 1, 2, 4])
    return rng.choice([4, 4, 4, 6, 6, 6, 2, 8, 10])


def _windows(rng: random.Random, org: Organisation, half_days: int) -> list[tuple[date, date]]:
    """1–3 windows of 2–6 weeks inside the semester, each able to hold the stay."""
    out: list[tuple[date, date]] = []
    tries = 0
    while len(out) < rng.choice([1, 1, 2, 2, 3]) and tries < 40:
        tries += 1
        start = SEMESTER[0] + timedelta(days=rng.randint(0, 120))
        start -= timedelta(days=start.weekday())
        end = min(start + timedelta(days=7 * rng.randint(2, 6) - 3), SEMESTER[1])
        if any(s <= end and start <= e for s, e in out):
            continue
        days = blackouts.usable_days(start, end, org.state, org.kind)
        if blackouts.longest_run(days) >= max(1, half_days // 2):
            out.append((start, end))
    return sorted(out) or [(date(2027, 3, 1), date(2027, 3, 19))]
