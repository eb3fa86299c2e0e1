"""A synthetic innovation ecosystem, for demos, tests and experiments without real data.

:func:`synthesize` invents a regional innovation system in the registry's layout
(:class:`~innoweave.registry.frames.RegistryFrames`): NUTS-like regions with coordinates,
sector clusters, SMEs and large firms whose attributes come from the calibrated
:class:`~innoweave.registry.attributes.AttributeModel`, universities, research institutes,
intermediaries, government bodies, text profiles drawn from a small technology vocabulary
(so text matching and topic clusters have something to find) and a collaboration history
of funded projects whose consortia follow plausible rules. Everything downstream —
diagnosis, matchmaking, clusters, the simulation — runs on it exactly as on CORDIS data.
Every record has ``source="synthetic"`` and names all its values in ``synthetic_fields``.
The same seed gives identical frames. The rules and parameters are in ``docs/synthetic.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

import innoweave
from innoweave.arguments import real_number, whole_number
from innoweave.registry.attributes import AttributeModel, mark_synthetic
from innoweave.registry.frames import ORG_COLUMNS, RegistryFrames
from innoweave.registry.kinds import OrgKind
from innoweave.registry.ncses import NcsesShares
from innoweave.registry.stages import StageRules
from innoweave.seeding import SeedLike, check_seed, make_rng

SOURCE = "synthetic"

# Technology vocabulary: topic -> terms. Profiles, project titles and cluster descriptions
# draw from it, so organisations of one topic share words and topic models can find them.
TOPICS: dict[str, tuple[str, ...]] = {
    "industrial_automation": ("robotics", "machine vision", "motion control", "collaborative robots",
                              "industrial IoT", "predictive maintenance", "digital twin",
                              "PLC programming", "sensor fusion", "edge computing"),
    "precision_machining": ("CNC machining", "metrology", "tooling", "precision casting",
                            "laser cutting", "welding", "sheet metal forming", "grinding",
                            "quality inspection", "injection moulding"),
    "additive_manufacturing": ("3D printing", "selective laser melting", "metal powders",
                               "topology optimisation", "rapid prototyping", "binder jetting",
                               "post-processing", "lattice structures", "wire arc deposition",
                               "generative design"),
    "advanced_materials": ("composites", "technical ceramics", "functional coatings",
                           "nanomaterials", "engineering polymers", "lightweight alloys",
                           "surface treatment", "carbon fibre", "graphene", "adhesives"),
    "power_electronics": ("power converters", "electric drives", "inverters", "wide-bandgap devices",
                          "motor control", "smart grids", "charging infrastructure",
                          "thermal management", "transformers", "electromagnetic compatibility"),
    "battery_storage": ("lithium-ion cells", "battery management systems", "solid-state batteries",
                        "cell assembly", "hydrogen fuel cells", "electrolysers",
                        "energy storage systems", "battery recycling", "cathode materials",
                        "state-of-health estimation"),
    "microelectronics": ("chip design", "MEMS sensors", "printed electronics", "embedded systems",
                         "PCB assembly", "FPGA", "RF electronics", "wafer processing",
                         "microcontrollers", "power semiconductors"),
    "photonics": ("laser systems", "optical sensors", "fibre optics", "LED lighting", "spectroscopy",
                  "machine optics", "lidar", "photonic integrated circuits", "infrared imaging",
                  "optical coatings"),
    "biotech": ("bioprocessing", "fermentation", "enzymes", "cell culture", "biosensors",
                "diagnostics", "bioinformatics", "drug formulation", "biopolymers",
                "downstream processing"),
    "medical_devices": ("implants", "surgical instruments", "medical imaging", "wearable sensors",
                        "orthopaedics", "dental technology", "rehabilitation robotics",
                        "sterilisation", "point-of-care testing", "hearing aids"),
    "food_processing": ("food safety", "packaging", "dairy processing", "plant-based proteins",
                        "shelf-life extension", "food traceability", "brewing", "bakery automation",
                        "cold chain", "ingredient extraction"),
    "ai_data": ("machine learning", "computer vision", "data analytics", "natural language processing",
                "optimisation", "anomaly detection", "cloud platforms", "cybersecurity",
                "simulation", "knowledge graphs"),
    "circular_economy": ("recycling", "remanufacturing", "life-cycle assessment", "waste valorisation",
                         "bio-based plastics", "water treatment", "energy efficiency",
                         "circular design", "emissions monitoring", "carbon capture"),
}  # fmt: skip
TOPIC_NAMES = tuple(TOPICS)

# Manufacturing-led sectors (NACE Rev. 2) with their technology topics and relative weight.
SECTORS: tuple[tuple[str, str, tuple[str, ...], float], ...] = (
    ("C10", "food products", ("food_processing", "circular_economy"), 1.0),
    ("C20", "chemicals", ("advanced_materials", "circular_economy"), 0.8),
    ("C21", "pharmaceuticals", ("biotech", "medical_devices"), 0.5),
    ("C22", "rubber and plastics", ("advanced_materials", "precision_machining"), 0.8),
    ("C25", "fabricated metal products", ("precision_machining", "additive_manufacturing"), 1.6),
    ("C26", "computer, electronic and optical products", ("microelectronics", "photonics"), 0.9),
    ("C27", "electrical equipment", ("power_electronics", "battery_storage"), 0.8),
    ("C28", "machinery and equipment", ("industrial_automation", "precision_machining"), 1.5),
    ("C29", "motor vehicles", ("battery_storage", "industrial_automation"), 0.6),
    ("C32", "medical and other manufacturing", ("medical_devices", "additive_manufacturing"), 0.6),
    ("J62", "software and IT services", ("ai_data", "industrial_automation"), 1.0),
)  # fmt: skip

# Funding schemes of the collaboration history: share of projects, consortium size range,
# median budget (EUR), public funding rate, who leads, who joins, how local the partners are.
@dataclass(frozen=True)
class Scheme:
    """A synthetic funding scheme: its share of projects, consortium size range, median budget
    (EUR), public funding rate and the kind mix of leads and members."""

    key: str
    programme: str
    share: float
    size: tuple[int, int]
    median_budget: float
    funding_rate: float
    lead: dict[str, float]
    members: dict[str, float]


SCHEMES = (
    Scheme("collaborative_rd", "Synthetic collaborative R&D call", 0.45, (3, 8), 1.2e6, 0.70,
           {"university": 0.3, "research_institute": 0.2, "large_firm": 0.2, "sme": 0.3},
           {"sme": 0.45, "large_firm": 0.15, "university": 0.2, "research_institute": 0.15,
            "intermediary": 0.05}),
    Scheme("industry_research", "Synthetic industry-research partnership", 0.25, (2, 4), 4.0e5, 0.60,
           {"sme": 0.6, "large_firm": 0.4},
           {"university": 0.45, "research_institute": 0.35, "sme": 0.2}),
    Scheme("cluster_project", "Synthetic cluster programme", 0.15, (3, 6), 3.0e5, 0.50,
           {"intermediary": 0.6, "sme": 0.4},
           {"sme": 0.75, "large_firm": 0.15, "research_institute": 0.1}),
    Scheme("innovation_voucher", "Synthetic innovation voucher", 0.15, (2, 2), 2.5e4, 0.80,
           {"sme": 1.0},
           {"university": 0.4, "research_institute": 0.3, "intermediary": 0.3}),
)  # fmt: skip

# Where a consortium member comes from: the lead's cluster, its region, or anywhere.
LOCALITY = {"cluster": 0.5, "region": 0.3, "anywhere": 0.2}
REPEAT_PARTNER = 0.35  # chance that a member is re-used from the lead's first project

_NAME_HEADS = ("Nord", "Sud", "West", "Ost", "Alpen", "Rhein", "Elb", "Main", "Isar", "Weser",
               "Neck", "Hav", "Spree", "Lahn", "Mosel", "Saal", "Ruhr", "Wald", "Berg", "Tal")  # fmt: skip
_NAME_TAILS = ("tec", "tronic", "form", "werk", "metric", "lab", "sys", "motion", "flow", "cast",
               "print", "sense", "bau", "tek", "works", "matic", "photon", "bio", "data", "volt")  # fmt: skip
_LEGAL = ("GmbH", "AG", "KG", "UG", "GmbH & Co. KG")


def synthetic_regions(n_regions: int, *, seed: SeedLike = 0, country: str = "XS",
                      centre: tuple[float, float] = (51.0, 10.0)) -> pd.DataFrame:
    """``n_regions`` NUTS-3-like regions (``XS100``, ``XS110`` …; each its own NUTS-2 up to 90) on a jittered grid around ``centre``.

    ``weight`` (mean 1) is each region's economic size, log-normal with sigma 0.8; firms
    are allocated in proportion to it.
    """
    _check_country(country)
    check_seed(seed)
    if not (isinstance(centre, (tuple, list)) and len(centre) == 2):
        raise ValueError(f"centre must be a pair (latitude, longitude), got {centre!r}")
    real_number("centre latitude", centre[0], low=-90, high=90)
    real_number("centre longitude", centre[1], low=-180, high=180)
    rng = make_rng(seed)
    return _regions(n_regions, rng, country, centre)


_REGION_SUFFIXES = ("land", "gau", "mark", "kreis", "tal")
MAX_REGIONS = 900


def _regions(n: int, rng: np.random.Generator, country: str, centre: tuple[float, float]) -> pd.DataFrame:
    whole_number("n_regions", n, least=1)
    if n > MAX_REGIONS:
        raise ValueError(f"n_regions must be between 1 and {MAX_REGIONS}, got {n}")
    side = math.ceil(math.sqrt(n))
    k = np.arange(n)
    lat = centre[0] + (k // side - (side - 1) / 2) * (6.0 / side) + rng.normal(0, 0.15, n)
    lon = centre[1] + (k % side - (side - 1) / 2) * (9.0 / side) + rng.normal(0, 0.2, n)
    # NUTS-like hierarchy: first digit NUTS-1, second NUTS-2, third NUTS-3. Each region is a
    # NUTS-2 region of its own while there are at most 90 (as Berlin is DE3/DE30/DE300), so
    # "same region" at NUTS-2 (matchmaking, diagnosis peers) means the same grid cell; beyond
    # 90, up to ten neighbouring cells (consecutive on the grid) share a NUTS-2 code.
    per_nuts2 = math.ceil(n / 90)
    codes = [f"{country}{i // per_nuts2 // 10 + 1}{i // per_nuts2 % 10}{i % per_nuts2}" for i in range(n)]
    heads, suffixes = len(_NAME_HEADS), len(_REGION_SUFFIXES)
    names = []
    for i in range(n):
        name = _NAME_HEADS[i % heads] + _REGION_SUFFIXES[(i // heads) % suffixes]
        names.append(name if i < heads * suffixes else f"{name} {i // (heads * suffixes) + 1}")
    weight = rng.lognormal(0, 0.8, n)
    return pd.DataFrame({"code": codes, "name": names, "latitude": lat.round(4),
                         "longitude": lon.round(4), "weight": weight / weight.mean()})  # fmt: skip


class _WeightedPools:
    """Weighted sampling of members within groups, vectorised over many requests."""

    def __init__(self, members: np.ndarray, groups: np.ndarray, weights: np.ndarray, n_groups: int):
        order = np.lexsort((members, groups))
        self.members = members[order]
        sorted_groups = groups[order]
        self.cum = np.concatenate([[0.0], np.cumsum(weights[order])])
        self.start = np.searchsorted(sorted_groups, np.arange(n_groups), side="left")
        self.end = np.searchsorted(sorted_groups, np.arange(n_groups), side="right")

    def has(self, group: np.ndarray) -> np.ndarray:
        return self.end[group] > self.start[group]

    def sample(self, group: np.ndarray, u: np.ndarray) -> np.ndarray:
        lo, hi = self.cum[self.start[group]], self.cum[self.end[group]]
        pos = np.searchsorted(self.cum, lo + u * (hi - lo), side="right") - 1
        pos = np.clip(pos, self.start[group], np.maximum(self.end[group] - 1, self.start[group]))
        return self.members[pos]


def _check_country(country) -> None:
    if not (isinstance(country, str) and len(country) == 2 and country.isascii() and country.isalpha()
            and country.isupper()):
        raise ValueError(f"country must be two capital letters (the start of every region code), got {country!r}")


#: The years a synthetic history may start in: organisations are founded from 1800 on.
YEAR_RANGE = (1800, 2100)


def _check_years(years) -> None:
    if not (isinstance(years, (tuple, list)) and len(years) == 2):
        raise ValueError(f"years must be a pair (first, last), got {years!r}")
    for name, value in zip(("first", "last"), years, strict=True):
        whole_number(f"years ({name})", value, least=YEAR_RANGE[0])
        if value > YEAR_RANGE[1]:
            raise ValueError(f"years ({name}) must be at most {YEAR_RANGE[1]}, got {value}")
    if years[1] < years[0]:
        raise ValueError(f"years must be (first, last) with first <= last, got {tuple(years)}")


def _pick(rng: np.random.Generator, options: tuple, n: int, p=None) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=n, p=p)]


def synthesize(
    *,
    n_smes: int,
    seed: SeedLike = 0,
    n_regions: int | None = None,
    n_clusters: int | None = None,
    n_large: int | None = None,
    n_universities: int | None = None,
    n_institutes: int | None = None,
    n_intermediaries: int | None = None,
    projects_per_sme: float = 0.2,
    years: tuple[int, int] = (2014, 2023),
    cluster_membership: float = 0.55,
    country: str = "XS",
    shares: NcsesShares | None = None,
    stage_rules: StageRules | None = None,
) -> RegistryFrames:
    """A synthetic ecosystem of ``n_smes`` SMEs and everything around them.

    Defaults scale with ``n_smes``: regions ``clip(round(sqrt(n_smes) / 4), 4, 60)``,
    clusters ``clip(round(n_smes / 1500), 3, 80)``, large firms ``max(2, n_smes // 100)``,
    universities ``max(1, n_regions // 3)``, research institutes ``max(2, n_regions // 2)``,
    intermediaries ``max(2, n_smes // 1000)``, one national ministry plus one development
    agency per region; ``round(projects_per_sme * n_smes)`` projects (at least 5) starting
    in ``years`` (inclusive). ``cluster_membership`` is the chance that a firm belongs to a
    cluster of its region. ``shares``/``stage_rules`` go to the attribute model.
    """
    whole_number("n_smes", n_smes, least=1)
    check_seed(seed)
    for name, value, least in (("n_regions", n_regions, 1), ("n_clusters", n_clusters, 0),
                               ("n_large", n_large, 0), ("n_universities", n_universities, 0),
                               ("n_institutes", n_institutes, 0), ("n_intermediaries", n_intermediaries, 0)):
        whole_number(name, value, least=least, none=True)
    _check_years(years)
    real_number("cluster_membership", cluster_membership, low=0, high=1)
    real_number("projects_per_sme", projects_per_sme, low=0)
    _check_country(country)
    rng = make_rng(seed)
    n_regions = n_regions if n_regions is not None else int(np.clip(round(math.sqrt(n_smes) / 4), 4, 60))
    n_clusters = n_clusters if n_clusters is not None else int(np.clip(round(n_smes / 1500), 3, 80))
    n_large = n_large if n_large is not None else max(2, n_smes // 100)
    n_universities = n_universities if n_universities is not None else max(1, n_regions // 3)
    n_institutes = n_institutes if n_institutes is not None else max(2, n_regions // 2)
    n_intermediaries = n_intermediaries if n_intermediaries is not None else max(2, n_smes // 1000)

    regions = _regions(n_regions, rng, country, (51.0, 10.0))
    clusters = _clusters(regions, n_clusters, rng)
    orgs = _organisations(regions, clusters, rng, country=country, n_smes=n_smes, n_large=n_large,
                          n_universities=n_universities, n_institutes=n_institutes,
                          n_intermediaries=n_intermediaries, cluster_membership=cluster_membership)  # fmt: skip
    frames = AttributeModel(shares=shares, stage_rules=stage_rules, reference_year=years[1] + 1).complete(
        RegistryFrames(organisations=orgs, clusters=clusters), seed=rng
    )
    orgs = frames.organisations
    projects, parts = _history(orgs, regions, rng, n_projects=max(5, round(projects_per_sme * n_smes)),
                               years=years)  # fmt: skip
    _flag_all(orgs)
    out = RegistryFrames(orgs, projects, parts, clusters)
    out.settings = {  # type: ignore[attr-defined]
        "seed": seed if not isinstance(seed, np.random.Generator) else "generator",
        "n_smes": n_smes, "n_regions": n_regions, "n_clusters": n_clusters, "n_large": n_large,
        "n_universities": n_universities, "n_institutes": n_institutes,
        "n_intermediaries": n_intermediaries, "projects_per_sme": projects_per_sme,
        "years": list(years), "cluster_membership": cluster_membership, "country": country,
        "version": innoweave.__version__,
    }  # fmt: skip
    return out


def _clusters(regions: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    sector_w = np.array([s[3] for s in SECTORS])
    sector_idx = rng.choice(len(SECTORS), size=n, p=sector_w / sector_w.sum())
    w = regions["weight"].to_numpy()
    region_idx = rng.choice(len(regions), size=n, p=w / w.sum())
    rows = []
    for k, (si, ri) in enumerate(zip(sector_idx, region_idx, strict=True)):
        code, sector_name, topics, _ = SECTORS[si]
        terms = rng.choice(TOPICS[topics[0]], size=4, replace=False)
        region = regions.iloc[ri]
        rows.append({
            "external_id": f"synthetic:cluster:{k + 1:04d}",
            "name": f"{region['name']} {sector_name} cluster",
            "region_code": region["code"],
            "sector": code,
            "description": f"Cluster of {sector_name} firms in {region['name']} working on "
                           f"{', '.join(terms[:-1])} and {terms[-1]}.",
            "source": SOURCE,
            "source_row": k + 1,
            "synthetic_fields": ["name", "region_code", "sector", "description"],
        })  # fmt: skip
    return pd.DataFrame(rows, columns=["external_id", "name", "region_code", "sector", "description",
                                       "source", "source_row", "synthetic_fields"])  # fmt: skip


def _profiles(rng: np.random.Generator, topic_a: np.ndarray, topic_b: np.ndarray, kind: str):
    """Capabilities, offers, needs and keywords from the vocabulary (one row per org)."""
    n, terms_per_topic = len(topic_a), 10
    picks = rng.random((n, terms_per_topic)).argsort(axis=1)[:, :4]  # four distinct main terms
    other = rng.integers(0, terms_per_topic, n)
    need_terms = rng.integers(0, terms_per_topic, (n, 2))
    caps, offers, needs, keywords = [], [], [], []
    for i in range(n):
        main = TOPICS[TOPIC_NAMES[topic_a[i]]]
        side = TOPICS[TOPIC_NAMES[topic_b[i]]]
        t = [main[j] for j in picks[i]]
        extra = side[other[i]]
        n1, n2 = side[need_terms[i, 0]], side[need_terms[i, 1]]
        if kind in ("university", "research_institute"):
            caps.append(f"Research groups in {t[0]}, {t[1]} and {t[2]}; laboratories for {t[3]}.")
            offers.append(f"Contract research, testing and student projects in {t[0]} and {t[3]}.")
            needs.append(f"Industrial partners to validate {t[1]} and {extra}.")
        elif kind == "intermediary":
            caps.append(f"Network of firms and institutes in {t[0]} and {t[1]}; funding advice.")
            offers.append(f"Matchmaking, events and innovation vouchers for {t[0]} and {t[2]}.")
            needs.append(f"Members active in {t[3]} and {extra}.")
        else:
            caps.append(f"We develop {t[0]} and {t[1]}, with expertise in {t[2]} and {t[3]}.")
            offers.append(f"Products and services in {t[0]} and {t[2]}.")
            needs.append(f"Looking for partners in {n1} and {n2}.")
        keywords.append([*t, extra])
    return caps, offers, needs, keywords


def _organisations(regions, clusters, rng, *, country, n_smes, n_large, n_universities, n_institutes,
                   n_intermediaries, cluster_membership) -> pd.DataFrame:
    w = regions["weight"].to_numpy() / regions["weight"].sum()
    region_index = {code: i for i, code in enumerate(regions["code"])}
    sector_index = {s[0]: i for i, s in enumerate(SECTORS)}
    cluster_region = np.array([region_index[c] for c in clusters["region_code"]], dtype=int)
    cluster_sector = np.array([sector_index[c] for c in clusters["sector"]], dtype=int)
    sector_w = np.array([s[3] for s in SECTORS])
    # a cluster's size follows its region's weight, with log-normal spread
    cluster_w = w[cluster_region] * rng.lognormal(0, 0.5, len(clusters))
    cluster_p = cluster_w / cluster_w.sum() if len(clusters) else cluster_w
    frames = []
    counters = {}

    def block(kind: str, n: int, membership: float, region_p: np.ndarray) -> pd.DataFrame:
        if n == 0:
            return pd.DataFrame(columns=ORG_COLUMNS)
        region_idx = rng.choice(len(regions), size=n, p=region_p)
        cluster_idx = np.full(n, -1)
        firm = kind in (OrgKind.SME.value, OrgKind.LARGE_FIRM.value)
        if firm and len(clusters):
            # a cluster is a concentration of firms: members are placed in the cluster's region
            join = rng.random(n) < membership
            cluster_idx[join] = rng.choice(len(clusters), size=int(join.sum()), p=cluster_p)
            region_idx[join] = cluster_region[cluster_idx[join]]
        sector_idx = rng.choice(len(SECTORS), size=n, p=sector_w / sector_w.sum())
        in_cluster = cluster_idx >= 0
        sector_idx[in_cluster] = cluster_sector[cluster_idx[in_cluster]]
        topic_choice = rng.integers(0, 2, n)
        topic_a = np.array([TOPIC_NAMES.index(SECTORS[s][2][t]) for s, t in zip(sector_idx, topic_choice,
                                                                                strict=True)], dtype=int)
        topic_b = np.array([TOPIC_NAMES.index(SECTORS[s][2][1 - t]) for s, t in zip(sector_idx, topic_choice,
                                                                                    strict=True)], dtype=int)
        if not firm:
            topic_a = rng.integers(0, len(TOPIC_NAMES), n)
            topic_b = (topic_a + rng.integers(1, len(TOPIC_NAMES), n)) % len(TOPIC_NAMES)
        caps, offers, needs, keywords = _profiles(rng, topic_a, topic_b, kind)
        start = counters.get(kind, 0)
        counters[kind] = start + n
        ids = [f"synthetic:{kind}:{start + i + 1:06d}" for i in range(n)]
        reg = regions.iloc[region_idx]
        names = _names(rng, kind, n, topic_a, reg["name"].to_numpy())
        return RegistryFrames(pd.DataFrame({
            "external_id": ids,
            "name": names,
            "short_name": [s.split(" ")[0] for s in names],
            "kind": kind,
            "sme_flag": kind == OrgKind.SME.value if firm else None,
            "country": country,
            "region_code": reg["code"].to_numpy(),
            "region_level": "NUTS3",
            "city": reg["name"].to_numpy(),
            "latitude": (reg["latitude"].to_numpy() + rng.normal(0, 0.12, n)).round(5),
            "longitude": (reg["longitude"].to_numpy() + rng.normal(0, 0.18, n)).round(5),
            "sector_codes": [[SECTORS[s][0]] if firm else ["M72" if kind != "intermediary" else "M70"]
                             for s in sector_idx],
            "capabilities": caps, "offers": offers, "needs": needs, "keywords": keywords,
            "cluster": np.append(clusters["external_id"].to_numpy(dtype=object), None)[cluster_idx],
            "attributes": [{"topic": TOPIC_NAMES[a], "second_topic": TOPIC_NAMES[b]}
                           for a, b in zip(topic_a, topic_b, strict=True)],
            "source": SOURCE,
        })).organisations  # fmt: skip

    # research organisations and agencies concentrate in the larger regions
    big = w ** 1.5 / (w ** 1.5).sum()
    frames.append(block(OrgKind.SME.value, n_smes, cluster_membership, w))
    frames.append(block(OrgKind.LARGE_FIRM.value, n_large, min(1.0, cluster_membership + 0.2), w))
    frames.append(block(OrgKind.UNIVERSITY.value, n_universities, 0.0, big))
    frames.append(block(OrgKind.RESEARCH_INSTITUTE.value, n_institutes, 0.0, big))
    frames.append(block(OrgKind.INTERMEDIARY.value, n_intermediaries, 0.0, w))
    gov = pd.DataFrame({
        "external_id": [f"synthetic:government:{i + 1:06d}" for i in range(len(regions) + 1)],
        "name": ["Ministry of Economic Affairs and Innovation"]
                + [f"{n} Development Agency" for n in regions["name"]],
        "kind": OrgKind.GOVERNMENT.value,
        "country": country,
        "region_code": [regions["code"].iat[int(np.argmax(w))], *regions["code"]],
        "region_level": "NUTS3",
        "latitude": [regions["latitude"].iat[int(np.argmax(w))], *regions["latitude"]],
        "longitude": [regions["longitude"].iat[int(np.argmax(w))], *regions["longitude"]],
        "capabilities": "Innovation policy, programme funding and regional development.",
        "attributes": [{"level": "national"}] + [{"level": "regional"} for _ in range(len(regions))],
        "source": SOURCE,
    })  # fmt: skip
    frames.append(RegistryFrames(gov).organisations)
    orgs = pd.concat([f for f in frames if len(f)], ignore_index=True)
    # names need not be unique in reality, but a numbered suffix keeps listings readable
    dup = orgs.groupby("name").cumcount().to_numpy()
    orgs["name"] = [f"{name} ({k + 1})" if k else name for name, k in zip(orgs["name"], dup, strict=True)]
    orgs["source_row"] = np.arange(1, len(orgs) + 1)  # rows numbered from 1, as in a file
    return RegistryFrames(orgs).organisations


def _names(rng, kind: str, n: int, topic: np.ndarray, region_names: np.ndarray) -> list[str]:
    heads = rng.integers(0, len(_NAME_HEADS), n)
    tails = rng.integers(0, len(_NAME_TAILS), n)
    legal = rng.integers(0, len(_LEGAL), n)
    out = []
    for i in range(n):
        stem = f"{_NAME_HEADS[heads[i]]}{_NAME_TAILS[tails[i]]}"
        focus = TOPICS[TOPIC_NAMES[topic[i]]][0].split(" ")[-1].capitalize()
        if kind == "university":
            out.append(f"University of {region_names[i]}")
        elif kind == "research_institute":
            out.append(f"Institute for {TOPIC_NAMES[topic[i]].replace('_', ' ').title()} {region_names[i]}")
        elif kind == "intermediary":
            out.append(f"{region_names[i]} Innovation Agency {stem}")
        else:
            out.append(f"{stem} {focus} {_LEGAL[legal[i]]}")
    return out


def _history(orgs: pd.DataFrame, regions: pd.DataFrame, rng: np.random.Generator, *, n_projects: int,
             years: tuple[int, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Projects with consortia: lead by scheme, members from the lead's cluster/region."""
    kinds = orgs["kind"].to_numpy()
    region_codes = {c: i for i, c in enumerate(regions["code"])}
    org_region = orgs["region_code"].map(region_codes).fillna(-1).to_numpy(dtype=int)
    cluster_ids = {c: i for i, c in enumerate(pd.unique(orgs["cluster"].dropna()))}
    org_cluster = orgs["cluster"].map(cluster_ids).fillna(-1).to_numpy(dtype=int)
    attrs = orgs["attributes"].tolist()
    # collaboration propensity: innovators and research cooperators join far more projects
    innov = np.array([bool(a.get("innovating")) for a in attrs])
    coop = np.array([bool(a.get("cooperates_research")) for a in attrs])
    capacity = np.array([float(a.get("capacity", 0.5)) for a in attrs])
    emp = pd.to_numeric(orgs["employees"], errors="coerce").fillna(10).to_numpy(float)
    weight = np.where(np.isin(kinds, ["university", "research_institute"]), 0.5 + 2 * capacity,
                      (0.2 + innov + 2.0 * coop) * (1 + np.log1p(emp) / 3))  # fmt: skip

    n_regions, n_clusters = len(regions), max(len(cluster_ids), 1)
    kind_list = ("sme", "large_firm", "university", "research_institute", "intermediary")
    pools = {}
    for kind in kind_list:
        members = np.flatnonzero(kinds == kind)
        wk = weight[members]
        pools[kind] = {
            "anywhere": _WeightedPools(members, np.zeros(len(members), int), wk, 1),
            "region": _WeightedPools(members, np.maximum(org_region[members], 0), wk, n_regions),
            "cluster": _WeightedPools(members[org_cluster[members] >= 0],
                                      org_cluster[members][org_cluster[members] >= 0],
                                      wk[org_cluster[members] >= 0], n_clusters),
        }  # fmt: skip

    def draw(kind_of_slot: np.ndarray, locality: np.ndarray, home_region, home_cluster) -> np.ndarray:
        out = np.full(len(kind_of_slot), -1)
        for kind in kind_list:
            if len(pools[kind]["anywhere"].members) == 0:
                continue
            for loc in ("cluster", "region", "anywhere"):
                sel = np.flatnonzero((kind_of_slot == kind) & (locality == loc) & (out < 0))
                if not len(sel):
                    continue
                group = {"cluster": home_cluster, "region": home_region}.get(loc)
                group = np.zeros(len(sel), int) if group is None else np.maximum(group[sel], 0)
                pool = pools[kind][loc]
                ok = pool.has(group) if loc != "anywhere" else np.ones(len(sel), bool)
                if loc == "cluster":
                    ok &= home_cluster[sel] >= 0
                out[sel[ok]] = pool.sample(group[ok], rng.random(int(ok.sum())))
                # no member here: fall back to the region, then anywhere
                if loc != "anywhere":
                    locality[sel[~ok]] = "region" if loc == "cluster" else "anywhere"
        return out

    # projects: scheme, dates, lead
    scheme_p = np.array([s.share for s in SCHEMES])
    scheme = rng.choice(len(SCHEMES), size=n_projects, p=scheme_p / scheme_p.sum())
    year_span = np.arange(years[0], years[1] + 1)
    year_w = 1 + 0.08 * (year_span - years[0])  # activity grows over the period
    start_year = rng.choice(year_span, size=n_projects, p=year_w / year_w.sum())
    start = pd.to_datetime(pd.DataFrame({"year": start_year, "month": rng.integers(1, 13, n_projects),
                                         "day": rng.integers(1, 29, n_projects)}))  # fmt: skip
    order = np.argsort(start.to_numpy(), kind="stable")
    scheme, start = scheme[order], start.iloc[order].reset_index(drop=True)
    duration = np.where(scheme == 3, rng.choice([6, 9, 12], n_projects),
                        rng.choice([18, 24, 30, 36, 48], n_projects))  # fmt: skip
    end = start + pd.to_timedelta(np.round(duration * 30.44), unit="D")
    lead_kind = np.empty(n_projects, dtype=object)
    for s_i, s in enumerate(SCHEMES):
        sel = scheme == s_i
        keys = tuple(s.lead)
        p = np.array([s.lead[k] for k in keys])
        lead_kind[sel] = _pick(rng, keys, int(sel.sum()), p / p.sum())
    lead = draw(lead_kind, np.full(n_projects, "anywhere", dtype=object), None, None)
    missing = lead < 0
    if missing.any():  # a scheme's lead kind may be absent from a small ecosystem
        lead[missing] = draw(np.full(int(missing.sum()), "sme", dtype=object),
                             np.full(int(missing.sum()), "anywhere", dtype=object), None, None)
    home_region, home_cluster = org_region[lead], org_cluster[lead]

    # member slots
    sizes = np.array([rng.integers(SCHEMES[s].size[0], SCHEMES[s].size[1] + 1) for s in scheme])
    slot_project = np.repeat(np.arange(n_projects), sizes - 1)
    n_slots = len(slot_project)
    slot_kind = np.empty(n_slots, dtype=object)
    slot_scheme = scheme[slot_project]
    for s_i, s in enumerate(SCHEMES):
        sel = slot_scheme == s_i
        keys = tuple(s.members)
        p = np.array([s.members[k] for k in keys])
        slot_kind[sel] = _pick(rng, keys, int(sel.sum()), p / p.sum())
    locality = _pick(rng, tuple(LOCALITY), n_slots, np.array(list(LOCALITY.values())))
    research = np.isin(slot_kind, ["university", "research_institute"])
    locality[research & (locality == "cluster")] = "region"
    members = draw(slot_kind, locality, home_region[slot_project], home_cluster[slot_project])
    members[members < 0] = lead[slot_project][members < 0]  # dropped below as a duplicate

    # repeat partners: a share of members come from the lead's first project
    first_of_lead = pd.Series(np.arange(n_projects)).groupby(lead).transform("min").to_numpy()
    repeat = (rng.random(n_slots) < REPEAT_PARTNER) & (first_of_lead[slot_project] != slot_project)
    if repeat.any():
        slot_start = np.concatenate([[0], np.cumsum(sizes - 1)])
        src_project = first_of_lead[slot_project[repeat]]
        n_src = sizes[src_project] - 1
        take = slot_start[src_project] + np.floor(rng.random(int(repeat.sum())) * n_src).astype(int)
        members[repeat] = members[take]

    part_project = np.concatenate([np.arange(n_projects), slot_project])
    part_org = np.concatenate([lead, members])
    part_role = np.concatenate([np.full(n_projects, "coordinator", dtype=object),
                                np.full(n_slots, "participant", dtype=object)])  # fmt: skip
    part = pd.DataFrame({"p": part_project, "o": part_org, "role": part_role})
    part = part.drop_duplicates(["p", "o"], keep="first").sort_values(["p", "role"], kind="stable")

    # budgets: log-normal around the scheme's median; the coordinator gets a larger share
    median = np.array([SCHEMES[s].median_budget for s in scheme])
    budget = np.round(median * rng.lognormal(0, 0.6, n_projects), -3)
    public = np.round(budget * np.array([SCHEMES[s].funding_rate for s in scheme]), -2)
    share_w = rng.gamma(2.0, 1.0, len(part)) * np.where(part["role"] == "coordinator", 2.0, 1.0)
    totals = np.bincount(part["p"], weights=share_w, minlength=n_projects)
    part["public_contribution"] = np.round(public[part["p"]] * share_w / totals[part["p"]], 2)

    ext = np.array([f"synthetic:project:{i + 1:06d}" for i in range(n_projects)], dtype=object)
    titles, acronyms, descriptions = _project_texts(rng, orgs, lead, scheme)
    projects = pd.DataFrame({
        "external_id": ext, "acronym": acronyms, "title": titles, "description": descriptions,
        "programme": [SCHEMES[s].programme for s in scheme],
        "funding_scheme": [SCHEMES[s].key for s in scheme],
        "status": np.where(end.dt.year.to_numpy() <= years[1], "CLOSED", "SIGNED"),
        "start_date": start.dt.date.to_numpy(), "end_date": end.dt.date.to_numpy(),
        "budget": budget, "public_funding": public, "source": SOURCE,
        "source_row": np.arange(1, n_projects + 1),
    })  # fmt: skip
    project_fields = ["acronym", "title", "description", "programme", "funding_scheme", "status",
                      "start_date", "end_date", "budget", "public_funding"]  # fmt: skip
    projects["synthetic_fields"] = [list(project_fields) for _ in range(n_projects)]
    org_ext = orgs["external_id"].to_numpy()
    p_ext, o_ext = ext[part["p"].to_numpy()], org_ext[part["o"].to_numpy()]
    parts = pd.DataFrame({
        "external_id": [f"synthetic:part:{a.rsplit(':', 1)[1]}:{b.split(':', 1)[1]}" for a, b in zip(p_ext, o_ext, strict=True)],
        "project_external_id": p_ext, "org_external_id": o_ext, "role": part["role"].to_numpy(),
        "public_contribution": part["public_contribution"].to_numpy(),
        "net_public_contribution": part["public_contribution"].to_numpy(),
        "source": SOURCE, "source_row": np.arange(1, len(part) + 1),
    })  # fmt: skip
    parts["synthetic_fields"] = [["role", "public_contribution", "net_public_contribution"] for _ in range(len(parts))]
    return projects, parts


_ADJECTIVES = ("Smart", "Adaptive", "Sustainable", "Integrated", "Next-generation", "Low-cost", "Modular",
               "Autonomous", "Resilient", "High-precision")  # fmt: skip
_APPLICATIONS = ("SME production lines", "regional supply chains", "small-batch manufacturing",
                 "energy-intensive industries", "medical production", "food manufacturers",
                 "the automotive supply chain", "machine builders", "process industries",
                 "electronics assembly")  # fmt: skip


def _project_texts(rng, orgs: pd.DataFrame, lead: np.ndarray, scheme: np.ndarray):
    n = len(lead)
    attrs = orgs["attributes"].to_numpy()
    adj = rng.integers(0, len(_ADJECTIVES), n)
    app = rng.integers(0, len(_APPLICATIONS), n)
    terms = rng.integers(0, 10, (n, 3))
    titles, acronyms, descriptions = [], [], []
    for i in range(n):
        a = attrs[lead[i]]
        topic = TOPICS.get(a.get("topic"), TOPICS[TOPIC_NAMES[i % len(TOPIC_NAMES)]])
        t1, t2, t3 = (topic[j] for j in terms[i])
        titles.append(f"{_ADJECTIVES[adj[i]]} {t1} for {_APPLICATIONS[app[i]]}")
        acronyms.append(("".join(w[0] for w in f"{_ADJECTIVES[adj[i]]} {t1}".split()).upper()
                         + f"-{i + 1}")[:255])  # fmt: skip
        descriptions.append(f"The consortium develops {t1} and {t2}, combined with {t3}, "
                            f"and demonstrates them in {_APPLICATIONS[app[i]]} "
                            f"({SCHEMES[scheme[i]].key.replace('_', ' ')}).")  # fmt: skip
    return titles, acronyms, descriptions


_ORG_VALUE_FIELDS = ("name", "short_name", "country", "region_code", "region_level", "city",
                     "latitude", "longitude", "sector_codes", "capabilities", "offers", "needs",
                     "keywords", "cluster", "sme_flag", "attributes.topic", "attributes.second_topic",
                     "attributes.level")  # fmt: skip


def _flag_all(orgs: pd.DataFrame) -> None:
    """Every value of a synthetic organisation is synthetic: name the populated fields too."""
    attrs = orgs["attributes"].tolist()
    drawn = {}
    for field in _ORG_VALUE_FIELDS:
        if field.startswith("attributes."):
            key = field.split(".", 1)[1]
            drawn[field] = np.array([key in a for a in attrs], dtype=bool)
        else:
            drawn[field] = orgs[field].notna().to_numpy()
    mark_synthetic(orgs, orgs.index, drawn)
