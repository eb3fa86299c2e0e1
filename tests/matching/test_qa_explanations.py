"""Defects found by QA in the explanations and inputs of ``innoweave match`` on the CORDIS
registry (seventeenth session): each test fails without its fix.

An explanation should tell the user something about the pair: the common partners that
say most about it and the topics that set the two apart from everybody else.
"""

import pandas as pd

from innoweave.matching import PartnerRecommender
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
