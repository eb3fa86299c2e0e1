"""Spatial clusters of SMEs: firms close together that also work on similar things.

Part of the analyses layer (registry → analyses → simulation → interfaces). Industrial
clusters are places, but two neighbouring firms in unrelated trades are not a cluster. This
module finds density-based clusters (DBSCAN) on great-circle distance, where two SMEs count as
neighbours only if they are within ``eps_km`` of each other *and* their topic profiles
(TF-IDF of the titles of their projects plus their registry keywords and capabilities) have a
cosine similarity of at least ``min_similarity``. Organisations without coordinates are
reported, not dropped silently. Results export as GeoJSON (RFC 7946: longitude before
latitude, one FeatureCollection holding the organisations as points and each cluster's
convex hull as a polygon, counter-clockwise).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

import innoweave
from innoweave.arguments import real_number, whole_number
from innoweave.clusters.inputs import InputReport
from innoweave.clusters.topics import top_words, topic_vectoriser
from innoweave.estimator import Estimator
from innoweave.registry.frames import RegistryFrames, require_frames
from innoweave.registry.geography import EARTH_RADIUS_KM, haversine_km
from innoweave.registry.kinds import OrgKind, check_kinds


def organisation_texts(frames: RegistryFrames) -> pd.Series:
    """Each organisation's text profile: its project titles, keywords and capabilities."""
    orgs = frames.organisations
    ids = orgs["external_id"].astype(str)
    titles = (
        frames.projects.set_index(frames.projects["external_id"].astype(str))["title"]
        .fillna("")
        .astype(str)
    )
    titles = titles[~titles.index.duplicated()]
    parts = frames.participations
    per_org = pd.Series(
        parts["project_external_id"].astype(str).map(titles).to_numpy(),
        index=parts["org_external_id"].astype(str),
    )
    project_text = per_org.dropna().groupby(level=0).apply(" ".join)
    own = [
        " ".join(
            filter(
                None,
                [
                    " ".join(map(str, kw)) if isinstance(kw, list | tuple) else "",
                    cap if isinstance(cap, str) else "",
                ],
            )
        )
        for kw, cap in zip(orgs["keywords"], orgs["capabilities"], strict=True)
    ]
    text = pd.Series(own, index=ids.to_numpy())
    return (text + " " + project_text.reindex(ids.to_numpy()).fillna("").to_numpy()).str.strip()


class SpatialClusters(Estimator):
    """Density-based clusters of organisations by great-circle distance and topic similarity.

    Parameters
    ----------
    eps_km
        Neighbourhood radius in kilometres.
    min_samples
        Organisations (itself included) an organisation needs within reach to be a core.
    min_similarity
        Lowest cosine similarity of topic profiles for two organisations to be neighbours
        (0 disables the topic condition). Pairs where either has no text are judged on
        distance alone (their count is reported).
    kinds
        Organisation kinds clustered (SMEs by default; ``None`` for all). Each must be an
        :class:`~innoweave.registry.kinds.OrgKind` value (any case); an unknown kind raises
        ``ValueError`` listing the valid ones.
    topic_words
        Words per cluster label.
    placeholder_min
        A point shared by at least this many organisations that come from three or more
        regions, or at least half of which have no region, is taken for a geocoder's
        placeholder (CORDIS puts unlocated German organisations at the country's centre).
        Placeholders are found among all organisations of the registry, whatever ``kinds``;
        the organisations of the chosen kinds on them are reported and not placed.

    Attributes
    ----------
    points_ : DataFrame  the organisations clustered: ``external_id, name, kind, region,
        latitude, longitude, cluster`` (``-1`` = noise)
    clusters_ : DataFrame  one row per cluster: size, centre, radius, dominant region, top words
    report_ : InputReport  organisations without coordinates, without text
    settings_ : dict
    """

    def __init__(
        self,
        *,
        eps_km: float = 15.0,
        min_samples: int = 5,
        min_similarity: float = 0.05,
        kinds: tuple[str, ...] | None = (OrgKind.SME.value,),
        topic_words: int = 5,
        placeholder_min: int = 20,
    ):
        self.eps_km = eps_km
        self.min_samples = min_samples
        self.min_similarity = min_similarity
        self.kinds = kinds
        self.topic_words = topic_words
        self.placeholder_min = placeholder_min

    def fit(self, frames: RegistryFrames) -> SpatialClusters:
        """Cluster the located organisations of the chosen ``kinds`` in ``frames`` by distance and
        topic similarity, leaving out geocoder placeholders. Returns ``self``."""
        from sklearn.cluster import DBSCAN
        from sklearn.neighbors import BallTree

        require_frames(frames, "SpatialClusters.fit")
        real_number("eps_km (a positive distance)", self.eps_km, low=0, above_low=True)
        real_number("min_similarity (a cosine similarity)", self.min_similarity, low=0, high=1)
        for name in ("min_samples", "topic_words", "placeholder_min"):
            whole_number(name, getattr(self, name), least=1)
        kinds = check_kinds(self.kinds)
        report = InputReport()
        orgs = frames.organisations.drop_duplicates("external_id")
        lat = pd.to_numeric(orgs["latitude"], errors="coerce").astype(float)
        lon = pd.to_numeric(orgs["longitude"], errors="coerce").astype(float)
        located = (lat.between(-90, 90) & lon.between(-180, 180)).fillna(False).astype(bool)
        # Placeholders are recognised over the whole registry, before the kind filter: which
        # kinds are clustered must not decide whether a point is a geocoder's placeholder.
        placeholder = located & _placeholder_points(
            lat, lon, orgs["region_code"], self.placeholder_min
        )
        if kinds is not None:
            chosen = orgs["kind"].astype(str).isin(kinds).to_numpy()
            orgs, lat, lon = orgs[chosen], lat[chosen], lon[chosen]
            located, placeholder = located[chosen], placeholder[chosen]
            report.add(
                "no_organisations_of_kinds",
                int(orgs.empty),
                note=f"no organisation of kind {', '.join(kinds)} in the registry: nothing placed"
                if orgs.empty
                else None,
            )
        report.add(
            "organisations_without_coordinates",
            int((~located).sum()),
            orgs.loc[~located, "external_id"].tolist(),
            note=f"{int((~located).sum())} organisation(s) without usable coordinates are not placed"
            if (~located).any()
            else None,
        )
        report.add(
            "organisations_at_placeholder_point",
            int(placeholder.sum()),
            orgs.loc[placeholder, "external_id"].tolist(),
            note=f"{int(placeholder.sum())} organisation(s) sit on a geocoding placeholder (a "
            f"point shared by {self.placeholder_min} or more organisations from three or more "
            "regions or mostly without a region) and are not placed"
            if placeholder.any()
            else None,
        )
        located &= ~placeholder
        orgs, lat, lon = orgs[located], lat[located].to_numpy(), lon[located].to_numpy()
        texts = (
            organisation_texts(frames)
            .reindex(orgs["external_id"].astype(str).to_numpy())
            .fillna("")
        )
        has_text = (texts.str.len() > 0).to_numpy()
        report.add(
            "organisations_without_text",
            int((~has_text).sum()),
            note=f"{int((~has_text).sum())} located organisation(s) without text are grouped by distance alone"
            if (~has_text).any()
            else None,
        )

        n = len(orgs)
        labels = np.full(n, -1, dtype=np.int64)
        vectors, vocabulary = None, np.array([], dtype=str)
        if n:
            tree = BallTree(np.radians(np.column_stack([lat, lon])), metric="haversine")
            neighbours, distances = tree.query_radius(
                np.radians(np.column_stack([lat, lon])),
                r=self.eps_km / EARTH_RADIUS_KM,
                return_distance=True,
            )
            rows = np.repeat(np.arange(n), [len(x) for x in neighbours])
            cols = np.concatenate(neighbours) if n else np.zeros(0, dtype=int)
            dist = np.concatenate(distances) * EARTH_RADIUS_KM / self.eps_km
            if has_text.any():
                vectoriser = topic_vectoriser()
                try:
                    vectoriser.fit(texts[has_text])
                except ValueError:  # no text has a word the vectoriser keeps (only stop words)
                    report.add("no_topic_words", 1, note="no organisation text has a topic word "
                               "(only stop words or short words): grouped by distance alone")
                else:
                    vectors, vocabulary = (
                        vectoriser.transform(texts),
                        vectoriser.get_feature_names_out(),
                    )
            if self.min_similarity > 0 and vectors is not None:
                similarity = np.asarray(vectors[rows].multiply(vectors[cols]).sum(axis=1)).ravel()
                textless = ~has_text[rows] | ~has_text[cols]
                keep = (similarity >= self.min_similarity) | textless | (rows == cols)
                rows, cols, dist = rows[keep], cols[keep], dist[keep]
            # Scaled distances: neighbours lie within 1; stored zeros still count as neighbours.
            graph = sp.csr_matrix((dist, (rows, cols)), shape=(n, n))
            labels = (
                DBSCAN(eps=1.0, min_samples=self.min_samples, metric="precomputed")
                .fit(graph)
                .labels_
            )
            labels = _renumber_by_size(labels)
        self.points_ = pd.DataFrame(
            {
                "external_id": orgs["external_id"].astype(str).to_numpy(),
                "name": orgs["name"].to_numpy(),
                "kind": orgs["kind"].astype(str).to_numpy(),
                "region": orgs["region_code"].to_numpy(),
                "latitude": lat,
                "longitude": lon,
                "cluster": labels,
            }
        )
        self.clusters_ = self._describe(vectors, vocabulary)
        self.report_ = report
        self.settings_ = {
            "eps_km": self.eps_km,
            "min_samples": self.min_samples,
            "min_similarity": self.min_similarity,
            "kinds": list(kinds) if kinds is not None else None,
            "version": innoweave.__version__,
        }
        return self

    def _describe(self, vectors, vocabulary: np.ndarray) -> pd.DataFrame:
        rows = []
        for cluster, group in self.points_[self.points_["cluster"] >= 0].groupby("cluster"):
            lat_c, lon_c = _spherical_centre(
                group["latitude"].to_numpy(), group["longitude"].to_numpy()
            )
            radius = haversine_km(lat_c, lon_c, group["latitude"], group["longitude"]).max()
            words: list[str] = []
            if vectors is not None:
                mean = np.asarray(vectors[group.index.to_numpy()].mean(axis=0)).ravel()
                words = top_words(mean, vocabulary, self.topic_words)
            regions = group["region"].dropna().astype(str).value_counts()
            rows.append(
                {
                    "cluster": int(cluster),
                    "size": len(group),
                    "latitude": lat_c,
                    "longitude": lon_c,
                    "radius_km": float(radius),
                    "dominant_region": regions.index[0] if len(regions) else None,
                    "topics": words,
                }
            )
        return pd.DataFrame(
            rows,
            columns=[
                "cluster",
                "size",
                "latitude",
                "longitude",
                "radius_km",
                "dominant_region",
                "topics",
            ],
        )

    def to_geojson(self, *, include_noise: bool = True) -> dict:
        """A GeoJSON FeatureCollection (RFC 7946): points, then one outline per cluster."""
        if not hasattr(self, "points_"):
            raise RuntimeError("call fit() first")
        features = []
        for row in self.points_.itertuples(index=False):
            if row.cluster < 0 and not include_noise:
                continue
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "Point",
                        "coordinates": [
                            round(float(row.longitude), 6),
                            round(float(row.latitude), 6),
                        ],
                    },
                    "properties": {
                        "feature": "organisation",
                        "external_id": row.external_id,
                        "name": str(row.name),
                        "kind": row.kind,
                        "region": row.region,
                        "cluster": int(row.cluster),
                    },
                }
            )
        for cluster in self.clusters_.itertuples(index=False):
            members = self.points_[self.points_["cluster"] == cluster.cluster]
            features.append(
                {
                    "type": "Feature",
                    "geometry": outline_geometry(
                        members["longitude"].to_numpy(), members["latitude"].to_numpy()
                    ),
                    "properties": {
                        "feature": "cluster_outline",
                        "cluster": int(cluster.cluster),
                        "size": int(cluster.size),
                        "radius_km": round(float(cluster.radius_km), 3),
                        "dominant_region": cluster.dominant_region,
                        "topics": list(cluster.topics),
                    },
                }
            )
        return {"type": "FeatureCollection", "features": features}


def outline_geometry(lon: np.ndarray, lat: np.ndarray) -> dict:
    """Convex hull of points as a GeoJSON geometry: a closed counter-clockwise Polygon, or a
    LineString / Point where the points are collinear or coincide."""
    from scipy.spatial import ConvexHull, QhullError

    points = np.unique(np.round(np.column_stack([lon, lat]), 6), axis=0)
    if len(points) == 1:
        return {"type": "Point", "coordinates": points[0].tolist()}
    try:
        hull = ConvexHull(points)
    except QhullError:
        ends = points[[0, -1]]  # unique() sorts, so the extremes of a line are first and last
        return {"type": "LineString", "coordinates": ends.tolist()}
    ring = points[hull.vertices]  # scipy returns 2-D hull vertices counter-clockwise
    ring = np.vstack([ring, ring[:1]])
    return {"type": "Polygon", "coordinates": [ring.tolist()]}


def _placeholder_points(
    lat: pd.Series, lon: pd.Series, region: pd.Series, min_count: int
) -> pd.Series:
    """Which organisations sit on a geocoder's placeholder point.

    A point (coordinates rounded to 5 decimals, about a metre) is a placeholder where at least
    ``min_count`` organisations share it and either they come from three or more regions, or
    at least half of them have no region (CORDIS puts unlocated German organisations, such as
    private persons, at the country's centre without a region).
    """
    region = region.astype("string").str.strip().replace("", pd.NA)
    points = pd.DataFrame(
        {
            "lat": lat.round(5),
            "lon": lon.round(5),
            "region": region,
            "no_region": region.isna().astype(int),
        }
    )
    grouped = points.groupby(["lat", "lon"], dropna=True)
    # Rows without coordinates are in no group: their transforms are missing, read as False.
    size = grouped["no_region"].transform("size").astype(float)
    regions = grouped["region"].transform("nunique").astype(float)
    without = grouped["no_region"].transform("sum").astype(float)
    crowded = (size >= min_count) & ((regions >= 3) | (2 * without >= size))
    return crowded.reindex(points.index, fill_value=False).fillna(False).astype(bool)


def _spherical_centre(lat: np.ndarray, lon: np.ndarray) -> tuple[float, float]:
    lat_r, lon_r = np.radians(lat), np.radians(lon)
    x, y, z = (
        (np.cos(lat_r) * np.cos(lon_r)).mean(),
        (np.cos(lat_r) * np.sin(lon_r)).mean(),
        np.sin(lat_r).mean(),
    )
    return float(np.degrees(np.arctan2(z, np.hypot(x, y)))), float(np.degrees(np.arctan2(y, x)))


def _renumber_by_size(labels: np.ndarray) -> np.ndarray:
    out = np.full_like(labels, -1)
    found, counts = np.unique(labels[labels >= 0], return_counts=True)
    for new, old in enumerate(found[np.lexsort((found, -counts))]):
        out[labels == old] = new
    return out
