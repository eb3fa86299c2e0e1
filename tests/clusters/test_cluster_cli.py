"""`innoweave clusters ...` end to end: files, a CORDIS folder, the registry database."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from innoweave.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["clusters", *args])


def flat(text: str) -> str:
    return " ".join(text.split())


def _write_cordis(frames, folder) -> None:
    """The planted registry in the CORDIS gzip layout (only the columns the reader needs)."""
    folder.mkdir()
    frames.participations = frames.participations[
        frames.participations["org_external_id"] != "nobody"
    ]
    kinds = {
        "sme": ("PRC", "true"),
        "large_firm": ("PRC", "false"),
        "university": ("HES", ""),
        "government": ("PUB", ""),
        "intermediary": ("OTH", ""),
    }
    orgs = frames.organisations
    pd.DataFrame(
        {
            "organisationID": orgs["external_id"],
            "name": orgs["name"],
            "shortName": "",
            "SME": [kinds[k][1] for k in orgs["kind"]],
            "activityType": [kinds[k][0] for k in orgs["kind"]],
            "city": "",
            "postCode": "",
            "nutsCode": orgs["region_code"],
            "geolocation": [
                f"{a},{b}" if pd.notna(a) else ""
                for a, b in zip(orgs["latitude"], orgs["longitude"], strict=True)
            ],
        }
    ).to_csv(folder / "organisations.csv.gz", index=False)
    projects = frames.projects
    pd.DataFrame(
        {
            "projectID": projects["external_id"],
            "acronym": projects["external_id"],
            "title": projects["title"],
            "programme": "Horizon 2020",
            "fundingScheme": "RIA",
            "status": "CLOSED",
            "startDate": "2018-01-01",
            "endDate": "2020-01-01",
            "ecMaxContribution": "1000",
        }
    ).to_csv(folder / "projects.csv.gz", index=False)
    parts = frames.participations
    pd.DataFrame(
        {
            "projectID": parts["project_external_id"],
            "organisationID": parts["org_external_id"],
            "role": "participant",
            "ecContribution": "10",
            "netEcContribution": "10",
        }
    ).to_csv(folder / "participations.csv.gz", index=False)


def test_lq_from_industry_codes_with_a_drop_in_crosswalk(tmp_path):
    crosswalk = tmp_path / "gbt4754.csv"
    pd.DataFrame(
        {
            "code": ["3670", "3610", "5211"],
            "cluster": ["A", "A", "L"],
            "name": ["Auto", "Auto", "Retail"],
            "scope": ["traded", "traded", "local"],
        }
    ).to_csv(crosswalk, index=False)
    data = tmp_path / "industry.csv"
    pd.DataFrame(
        {
            "province": ["P1", "P1", "P2", "P2", "P2"],
            "gbt": ["3670", "5211", "3610", "5211", "9999"],
            "workers": [100, 50, 20, 40, 3],
            "firms": [10, 5, 2, None, 1],
        }
    ).to_csv(data, index=False)
    out_csv = tmp_path / "lq.csv"
    result = run(
        "lq",
        "--data",
        str(data),
        "--code",
        "gbt",
        "--region",
        "province",
        "--employment",
        "workers",
        "--establishments",
        "firms",
        "--crosswalk",
        str(crosswalk),
        "--crosswalk-code",
        "code",
        "--crosswalk-cluster",
        "cluster",
        "--crosswalk-name",
        "name",
        "--crosswalk-type",
        "scope",
        "--out",
        str(out_csv),
        "--json",
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["rows"] == 4 and payload["regions"] == 2
    assert payload["input_report"]["counts"] == {
        "codes_absent_from_crosswalk": 1,
        "missing_establishments_industry_rows": 1,
        "missing_establishments": 1,
    }
    assert payload["flags"]["clusters_skipped"] == 1  # two regions are too few for percentiles
    assert set(pd.read_csv(out_csv).columns) >= {"lq", "strong", "stars", "focus"}


def test_lq_on_the_published_file(uscmp_dir):
    result = run("lq", "--data", str(uscmp_dir / "state_cluster_2016.csv"), "--top", "3", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["rows"] == 3350 and payload["flags"]["strong"] == 512
    assert payload["top"][0]["lq"] == pytest.approx(121.56, abs=0.01)


def test_lq_bad_input_exits_2(tmp_path):
    data = tmp_path / "clash.csv"
    pd.DataFrame({"region": ["A", "A"], "cluster": ["x", "x"], "employment": [1, 2]}).to_csv(
        data, index=False
    )
    result = run("lq", "--data", str(data))
    assert result.exit_code == 2 and "appear in several rows" in flat(result.stderr)
    # The way out is named as the command line spells it (it used to be Python syntax only).
    assert "use --duplicates sum or first" in flat(result.stderr)
    assert run("lq", "--data", str(data), "--duplicates", "sum", "--json").exit_code == 0


def test_network_and_spatial_from_a_cordis_folder(planted, tmp_path):
    folder = tmp_path / "cordis"
    _write_cordis(planted, folder)
    picture, tables = tmp_path / "network.html", tmp_path / "tables"
    result = run(
        "network",
        "--cordis",
        str(folder),
        "--max-consortium",
        "8",
        "--seed",
        "3",
        "--picture",
        str(picture),
        "--out",
        str(tables),
        "--json",
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["communities"] >= 2 and payload["settings"]["seed"] == 3
    assert payload["policy_targets"]["isolated_smes"] == 2
    assert (
        picture.read_text().startswith("<!doctype html>")
        and "data:image/png;base64," in picture.read_text()
    )
    assert {p.name for p in tables.iterdir()} == {
        "communities.csv",
        "centrality.csv",
        "policy_targets.csv",
    }
    communities = (tables / "communities.csv").read_text()
    assert "{'" not in communities and "['" not in communities  # no Python reprs in cells
    kinds = pd.read_csv(tables / "communities.csv")["kinds"].iloc[0]
    assert all(": " in part for part in kinds.split("; "))  # "sme: 3; university: 1"

    png = tmp_path / "map.png"
    geo = run(
        "spatial",
        "--cordis",
        str(folder),
        "--eps-km",
        "10",
        "--min-samples",
        "3",
        "--map",
        str(png),
        "--geojson",
        "--out",
        str(tmp_path / "spatial"),
    )
    assert geo.exit_code == 0, geo.output
    collection = json.loads(geo.stdout)
    assert collection["type"] == "FeatureCollection" and png.read_bytes()[:4] == b"\x89PNG"
    clusters = (tmp_path / "spatial" / "clusters.csv").read_text()
    assert "['" not in clusters and "; " in clusters  # topics joined as text
    summary = json.loads(
        run(
            "spatial", "--cordis", str(folder), "--eps-km", "10", "--min-samples", "3", "--json"
        ).stdout
    )
    assert (
        summary["clusters"] >= 2
        and summary["input_report"]["counts"]["organisations_without_coordinates"] == 1
    )


def test_network_from_the_registry(planted, tmp_path):
    from innoweave.registry.db import make_engine, upgrade
    from innoweave.registry.writer import write_frames

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    empty = run("network", "--database-url", url)
    assert empty.exit_code == 2 and "there is no registry at" in flat(empty.stderr)
    engine = make_engine(url)
    upgrade(engine)
    assert "holds no organisations" in flat(run("network", "--database-url", url).stderr)
    planted.participations = planted.participations[
        planted.participations["org_external_id"] != "nobody"
    ]
    for frame in (planted.organisations, planted.projects, planted.participations):
        frame["source"] = "test"
    write_frames(engine, planted)
    engine.dispose()
    result = run(
        "network", "--database-url", url, "--max-consortium", "8", "--method", "leiden", "--json"
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["organisations"] == len(planted.organisations) and payload["communities"] >= 2
    people = run("network", "--database-url", url, "--max-consortium", "8")
    assert people.exit_code == 0 and "policy targets" in flat(people.stderr)


def test_bad_cordis_folder_and_options(tmp_path):
    result = run("network", "--cordis", str(tmp_path / "missing"))
    assert result.exit_code == 2 and "not a folder" in flat(result.stderr)
    (tmp_path / "empty").mkdir()
    assert run("spatial", "--cordis", str(tmp_path / "empty")).exit_code == 2


def test_related_groups(uscmp_dir):
    result = run("related", "--data", str(uscmp_dir / "related_clusters.json"), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["clusters"] == 51 and payload["links"] == 128
    assert sum(len(g["clusters"]) for g in payload["groups"]) == 51


def test_network_out_writes_its_three_tables_or_none(planted, tmp_path, monkeypatch):
    """--out DIR is one set: where the third table fails (a full disk), the earlier
    communities.csv and centrality.csv stay as they were and nothing half-written is left
    (each table used to be written in place, one after the other)."""
    folder, tables = tmp_path / "cordis", tmp_path / "tables"
    _write_cordis(planted, folder)
    tables.mkdir()
    for name in ("communities.csv", "centrality.csv", "policy_targets.csv"):
        (tables / name).write_text("earlier run\n")
    real_to_csv, calls = pd.DataFrame.to_csv, []

    def third_fails(self, target=None, *args, **kwargs):
        calls.append(target)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_to_csv(self, target, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", third_fails)
    result = run("network", "--cordis", str(folder), "--max-consortium", "8", "--out", str(tables))
    assert result.exit_code != 0 and len(calls) == 3
    assert sorted(p.name for p in tables.iterdir()) == ["centrality.csv", "communities.csv",
                                                        "policy_targets.csv"]  # fmt: skip
    assert all((tables / name).read_text() == "earlier run\n" for name in
               ("communities.csv", "centrality.csv", "policy_targets.csv"))  # fmt: skip
