import numpy as np
import pandas as pd
import pytest

from innoweave.matching import PartnerRecommender, UnknownOrganisation
from innoweave.matching.history import build_history
from innoweave.matching.scoring import DEFAULT_WEIGHTS


def test_history_links_skip_large_projects_but_count_activity(registry):
    h = build_history(registry, registry.projects["external_id"], max_project_size=40)
    big_members = registry.participations.loc[
        registry.participations["project_external_id"] == "t:project:big", "org_external_id"]
    in_big = h.index[big_members.iloc[0]]
    small = registry.participations[registry.participations["project_external_id"] != "t:project:big"]
    own = small[small["org_external_id"] == big_members.iloc[0]]["project_external_id"]
    assert h.activity[in_big] == len(own) + 1  # the clique still counts as activity
    partners = set(small[small["project_external_id"].isin(own)]["org_external_id"]) - {big_members.iloc[0]}
    assert h.degree[in_big] == len(partners)  # but adds no links
    assert h.region[in_big] is not None and len(h.region[in_big]) == 4


def test_recommend_returns_new_partners_of_the_mode_with_explanations(fitted, registry):
    h = fitted.history_
    sme = next(o for o, d, k in zip(h.org_ids, h.degree, h.kinds, strict=True) if k == "sme" and d >= 3)
    table = fitted.recommend(sme, mode="research", k=5)
    assert len(table) == 5 and list(table["rank"]) == [1, 2, 3, 4, 5]
    assert set(table["kind"]) <= {"university", "research_institute"}
    assert table["score"].is_monotonic_decreasing
    known = set(h.org_ids[h.adjacency[h.index[sme]].indices])
    assert not known & set(table["partner_id"])
    where = registry.organisations.set_index("external_id")[["latitude", "longitude"]]
    for row in table.itertuples():
        assert "research mode" in row.explanation and "capacity" in row.explanation
        # the great-circle distance between the registry's coordinates, by the spherical law
        # of cosines (not the haversine form the code uses), shown to 0.1 km
        lat1, lon1, lat2, lon2 = np.radians([*where.loc[sme], *where.loc[row.partner_id]])
        km = 6371.0 * np.arccos(np.sin(lat1) * np.sin(lat2) + np.cos(lat1) * np.cos(lat2) * np.cos(lon2 - lon1))
        assert row.distance_km == pytest.approx(km, abs=0.06 + 1e-5 * km), row.partner_id
        assert f"{km:.0f} km away" in row.explanation or f"{row.distance_km:.0f} km away" in row.explanation
    assert any(row.common_partners or row.shared_keywords for row in table.itertuples())
    common = table["common_partners"].explode().dropna()
    assert set(common) <= set(h.names)
    alliance = fitted.recommend(sme, mode="alliance", k=3)
    assert set(alliance["kind"]) <= {"sme", "large_firm", "company"} and sme not in set(alliance["partner_id"])
    assert set(fitted.recommend(sme, mode="intermediary", k=2)["kind"]) == {"intermediary"}
    assert "learned ranker" in fitted.fit_notes_["research"]


def test_cold_start_says_so_and_still_ranks(fitted):
    table = fitted.recommend("t:sme:cold0", mode="research", k=3)
    assert len(table) == 3 and table["cold_start"].all()
    assert table["explanation"].str.startswith("cold start").all()
    assert table["distance_km"].isna().all()


def test_cluster_mode(fitted):
    table = fitted.recommend("t:sme:0", mode="cluster", k=2)
    assert len(table) == 2 and table["cluster_id"].str.startswith("cluster:").all()
    assert "cluster mode" in table["explanation"].iloc[0]


def test_score_pairs_of_ids(fitted):
    scores = fitted.score([("t:sme:1", "t:university:0"), ("t:sme:1", "t:intermediary:0")])
    assert scores.shape == (2,) and np.isfinite(scores).all()
    assert 0 <= scores[0] <= 1  # research: the learned ranker's probability
    # intermediary: 4 fit and 3 validation queries are too few to learn from, so the linear
    # combination scores it, and the fit notes say why
    assert fitted.rankers_["intermediary"] is None
    assert "at least 10 of each are needed" in fitted.fit_notes_["intermediary"]
    assert scores[1] == pytest.approx(fitted.score([("t:sme:1", "t:intermediary:0")], mode="intermediary")[0])


def test_bad_input(fitted, registry):
    with pytest.raises(UnknownOrganisation, match="unknown organisation id 'nope'"):
        fitted.recommend("nope", k=3)
    for k in (0, -2):
        with pytest.raises(ValueError, match=r"k must be (a whole number >= 1|at least 1)"):
            fitted.recommend("t:sme:1", k=k)
    with pytest.raises(ValueError, match="unknown mode"):
        fitted.recommend("t:sme:1", mode="romance")
    only = PartnerRecommender(modes=("research",), ranker="none").fit(registry)
    with pytest.raises(ValueError, match="was not fitted"):
        only.recommend("t:sme:1", mode="alliance")
    no_research = registry.organisations[~registry.organisations["kind"].isin(["university", "research_institute"])]
    frames = type(registry)(no_research, registry.projects,
                            registry.participations[registry.participations["org_external_id"].isin(no_research["external_id"])])  # fmt: skip
    rec = PartnerRecommender(modes=("research",)).fit(frames)
    assert "linear combination" in rec.fit_notes_["research"]
    with pytest.raises(ValueError, match="empty candidate set"):
        rec.recommend("t:sme:1", k=3)
    with pytest.raises(ValueError, match="unknown signal"):
        PartnerRecommender(signals=("astrology",)).fit(registry)


def test_degrades_without_text_or_coordinates(registry_factory):
    frames = registry_factory(seed=3, n_sme=40, n_projects=150, coordinates=False)
    frames.projects["title"] = None
    frames.organisations["keywords"] = [[] for _ in range(len(frames.organisations))]
    rec = PartnerRecommender(modes=("research",), seed=1).fit(frames, train_end="2021-01-01")
    table = rec.recommend("t:sme:2", k=4)
    assert len(table) == 4
    assert table["shared_keywords"].map(len).eq(0).all()
    assert table["explanation"].str.contains("distance unknown").all()


def test_switching_signals_off_changes_the_features(registry):
    graph_only = PartnerRecommender(modes=("research",), signals=("graph",), ranker="none").fit(registry)
    feats = graph_only.features(np.array([0]), graph_only.candidates("research"))
    assert set(feats) == {"common_neighbours", "adamic_adar", "resource_allocation", "katz", "past_partner",
                          "shared_projects"}  # fmt: skip
    # with the graph alone and no learned ranker, a pair scores proximity's weight x log(1 + Katz),
    # whatever the text, distance or popularity say; new partners come in that order
    h, cands = graph_only.history_, graph_only.candidates("research")
    q = h.index["t:sme:1"]
    katz = graph_only.features(np.array([q]), cands)["katz"][0]
    katz_of = dict(zip(h.org_ids[cands], katz, strict=True))
    known = set(h.org_ids[h.adjacency[q].indices])
    table = graph_only.recommend("t:sme:1", k=4)
    assert not known & set(table["partner_id"])
    want = [DEFAULT_WEIGHTS["proximity"] * np.log1p(katz_of[p]) for p in table["partner_id"]]
    np.testing.assert_allclose(table["score"], want, rtol=1e-5, atol=1e-7)
    new = {p: k for p, k in katz_of.items() if p not in known}
    assert table["partner_id"].iloc[0] == max(new, key=new.get) and table["score"].iloc[0] > 0


def test_recency_features_are_bounded_and_zero_for_never(registry):
    from innoweave.matching.features import pair_features, recency_decay

    assert recency_decay(np.array([0.0, 2.0, 4.0, np.nan, -1.0])).tolist() == [1.0, 0.5, 0.25, 0.0, 1.0]
    h = build_history(registry, registry.projects["external_id"])
    cands = np.flatnonzero(np.isin(h.kinds, ["university", "research_institute"]))
    queries = np.flatnonzero(h.kinds == "sme")[:20]
    f = pair_features(h, queries, cands, families=("recency",))
    for name in ("cand_active_recency", "shared_recency"):
        assert ((f[name] >= 0) & (f[name] <= 1)).all(), name
    never = ~np.isfinite(h.last_active[cands])
    assert (f["cand_active_recency"][:, never] == 0).all()
    shared = np.asarray(h.shared[queries][:, cands].todense()) > 0
    assert (f["shared_recency"][~shared] == 0).all() and (f["shared_recency"][shared] > 0).all()


def test_a_partner_without_projects_does_not_crowd_out_the_active_ones():
    """Regression: an institute registered without projects once ranked first for 391 of 400
    synthetic SMEs ("years inactive" stood at 99 and the ranker gave the years a positive
    weight); its explanation said "capacity: up to 0 new projects a year"."""
    import innoweave

    frames = innoweave.synthesize(n_smes=400, seed=0, n_universities=4, n_institutes=8)
    parts = set(frames.participations["org_external_id"])
    orgs = frames.organisations
    research = orgs[orgs["kind"].isin(["university", "research_institute"])]["external_id"]
    newcomers = set(research) - parts
    assert newcomers, "the seed no longer yields a research organisation without projects"
    rec = PartnerRecommender(modes=("research",), seed=0).fit(frames)
    smes = orgs.loc[orgs["kind"] == "sme", "external_id"].tolist()[:120]
    top = pd.concat([rec.recommend(s, mode="research", k=3) for s in smes])
    first = top[top["rank"] == 1]
    assert first["partner_id"].isin(newcomers).mean() < 0.25
    assert first["partner_id"].nunique() >= 3
    shown = top[top["partner_id"].isin(newcomers)]
    assert shown["partner_newcomer"].all() and (~top.loc[~top["partner_id"].isin(newcomers), "partner_newcomer"]).all()
    assert shown["explanation"].str.contains("no projects on record yet").all()
    assert not shown["explanation"].str.contains("up to 0 new").any()


def test_recommend_many_equals_one_by_one(fitted):
    h = fitted.history_
    smes = [o for o, kind in zip(h.org_ids, h.kinds, strict=True) if kind == "sme"][:12] + ["t:sme:cold0"]
    for mode in ("research", "alliance", "cluster"):
        many = fitted.recommend_many(smes, mode=mode, k=4)
        assert list(many.columns[:2]) == ["query_id", "query_name"]
        assert list(dict.fromkeys(many["query_id"])) == [s for s in smes if s in set(many["query_id"])]
        for sme in smes:
            one = fitted.recommend(sme, mode=mode, k=4)
            mine = many[many["query_id"] == sme].drop(columns=["query_id", "query_name"]).reset_index(drop=True)
            # (a cold start's unknown distances: None alone, NaN beside other SMEs' numbers)
            pd.testing.assert_frame_equal(mine.astype(object).where(mine.notna(), None),
                                          one.astype(object).where(one.notna(), None))
            assert (many.loc[many["query_id"] == sme, "query_name"] == h.names[h.index[sme]]).all()
    empty = fitted.recommend_many([], mode="research", k=3)
    assert empty.empty
    assert list(empty.columns) == list(fitted.recommend_many(smes[:1], mode="research", k=3).columns)


def test_recommend_many_checks_every_id_first(fitted):
    with pytest.raises(UnknownOrganisation, match="nope"):
        fitted.recommend_many(["t:sme:1", "nope"], mode="research", k=3)
    with pytest.raises(ValueError, match="a list of organisation ids"):
        fitted.recommend_many("t:sme:1", mode="research", k=3)
    with pytest.raises(ValueError, match="k"):
        fitted.recommend_many(["t:sme:1"], mode="research", k=0)
