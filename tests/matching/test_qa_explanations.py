"""Defects found by QA in the explanations and inputs of ``innoweave match`` on the CORDIS
registry (seventeenth session): each test fails without its fix.

An explanation should tell the user something about the pair: the common partners that
say most about it and the topics that set the two apart from everybody else.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from innoweave.matching import PartnerRecommender
from innoweave.matching.features import fit_text
from innoweave.matching.recommender import GENERIC_TERM_DF, GENERIC_TERM_MIN_ORGS, _specific_terms
from innoweave.registry.frames import RegistryFrames


def _frames(orgs, projects):
    """Registry frames from ``orgs`` [(id, name, kind, keywords)] and ``projects`` {id: [members]}."""
    organisations = pd.DataFrame([{"external_id": o, "name": n, "kind": k, "keywords": kw, "source": "test"}
                                  for o, n, k, kw in orgs])  # fmt: skip
    dates = pd.date_range("2015-01-01", periods=len(projects), freq="MS").date
    project_frame = pd.DataFrame({"external_id": list(projects), "title": [f"project {p}" for p in projects],
                                  "start_date": dates, "source": "test"})  # fmt: skip
    parts = pd.DataFrame([{"project_external_id": p, "org_external_id": m, "role": "participant",
                           "external_id": f"{p}:{m}", "source": "test"}
                          for p, members in projects.items() for m in members])  # fmt: skip
    return RegistryFrames(organisations=organisations, projects=project_frame, participations=parts)


# ------------------------------------------------------------------ 1. common past partners
def test_common_partners_are_listed_most_telling_first_with_the_count_of_all():
    """They were listed most connected first, so nearly every CORDIS explanation named the
    same three large institutes (Fraunhofer first in 5,895 of 16,740 that named one), and
    partners beyond the third went unmentioned."""
    orgs = [("s0", "Query SME", "sme", []), ("u0", "Candidate Uni", "university", []),
            # listed before "Alpha Small": without the tie-break by name it would come first
            ("r_b", "Beta Small", "research_institute", []), ("r_a", "Alpha Small", "research_institute", []),
            ("r_mid", "Mid Institute", "research_institute", []), ("r_med", "Medium Lab", "research_institute", []),
            ("r_big", "Zeta Giant Institute", "research_institute", [])]  # fmt: skip
    orgs += [(f"x{i}", f"Other {i}", "sme", []) for i in range(6)]
    projects = {}
    for shared, others in (("r_a", []), ("r_b", []), ("r_mid", ["x0"]), ("r_med", ["x0", "x1"]),
                           ("r_big", ["x0", "x1", "x2", "x3", "x4", "x5"])):  # fmt: skip
        projects[f"{shared}-s0"] = ["s0", shared]
        projects[f"{shared}-u0"] = ["u0", shared]
        for x in others:
            projects[f"{shared}-{x}"] = [x, shared]
    rec = PartnerRecommender(modes=("research",), ranker="none").fit(_frames(orgs, projects))
    table = rec.recommend("s0", mode="research", k=5)
    row = table.set_index("partner_id").loc["u0"]
    assert row["common_partners"] == ["Alpha Small", "Beta Small", "Mid Institute"]
    assert row["common_partners_count"] == 5
    assert "common past partners: Alpha Small; Beta Small; Mid Institute and 2 more" in row["explanation"]
    assert "Zeta Giant Institute" not in row["explanation"]


# ------------------------------------------------------------------ 2. specific shared topics
def _topic_registry():
    """200 organisations; 'european' is in 58 profiles (29 %: widespread), 'photonics' in two.
    s0 and u0 share photonics, european, training (boilerplate) and pre (a bare prefix); s0
    and u1 share only european and training."""
    orgs = [("s0", "Query SME", "sme", ["photonics", "european", "training", "pre"]),
            ("u0", "Candidate Uni", "university", ["photonics", "european", "training", "pre"]),
            ("u1", "Other Uni", "university", ["european", "training"])]  # fmt: skip
    # fillers: pairs of rare words (min_df 2 keeps them), 'european' in 55 of them
    orgs += [(f"f{i}", f"Filler {i}", "university" if i % 2 else "sme",
              [f"word{chr(97 + i // 2 % 26)}{chr(97 + i // 52)}"] + (["european"] if i < 55 else []))
             for i in range(197)]  # fmt: skip
    projects = {f"p{i}": [f"f{i}", f"f{i + 1}"] for i in range(0, 196, 2)}
    return _frames(orgs, projects)


def test_shared_topics_are_specific_terms_and_the_text_signal_is_unchanged():
    """'european', 'research', 'training', 'high', 'based', 'pre' were named as shared topics
    of most CORDIS pairs."""
    rec = PartnerRecommender(modes=("research",), ranker="none").fit(_topic_registry())
    table = rec.recommend("s0", mode="research", k=200).set_index("partner_id")
    assert table.loc["u0", "shared_keywords"] == ["photonics"]
    assert "shared topics: photonics;" in table.loc["u0", "explanation"]
    # only widespread and boilerplate words in common: said so, none named
    assert table.loc["u1", "shared_keywords"] == []
    assert "no specific shared topic" in table.loc["u1", "explanation"]
    assert "european" not in table.loc["u1", "explanation"]
    # the vectors, and so the text cosine and the ranking, are those of the fitted corpus
    vectors, vocabulary = fit_text(rec.history_)
    assert {"european", "training", "pre"} <= set(vocabulary)
    assert (rec.text_vectors_ != vectors).nnz == 0
    q, c = rec.row_of("s0"), rec.row_of("u1")
    assert rec.features([q], [c])["text_cosine"][0, 0] > 0


def test_widespread_means_more_than_5_percent_of_the_profiles_and_more_than_50():
    assert GENERIC_TERM_DF == 0.05 and GENERIC_TERM_MIN_ORGS == 50

    def mask(n_orgs, n_profiles, used_by):
        x = sp.lil_matrix((n_orgs, len(used_by) + 1))
        x[:n_profiles, len(used_by)] = 1.0  # a word of every profile (rows beyond have no text)
        for j, n in enumerate(used_by.values()):
            x[:n, j] = 1.0
        return _specific_terms(x.tocsr(), np.array([*used_by, "everywhere"]))[:-1].tolist()

    # 1,000 organisations, 900 with a profile: 'laser' in 51 (widespread by the floor: 5 % of
    # 900 is 45), 'optics' in 50; 'pre' (a bare prefix) and 'ab' (the fallback tokenizer's)
    # in 2
    assert mask(1000, 900, {"laser": 51, "optics": 50, "pre": 2, "ab": 2}) == [False, True, False, False]
    # 'laser' in 60 of 1,000 profiles (6 %) is widespread, in 60 of 1,500 (4 %) it is not
    assert mask(1000, 1000, {"laser": 60}) == [False]
    assert mask(1500, 1500, {"laser": 60}) == [True]
