"""Bad input to `innoweave clusters ...` stops with one line naming what and where, exit 2.

Out-of-range or misspelt options, files without rows, made-up cluster types and unusable
output paths are refused before any work, and no traceback reaches the analyst.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_cluster_cli import _write_cordis
from test_cluster_relatedness import _pairs
from typer.testing import CliRunner

from innoweave.cli import app
from innoweave.clusters import (
    ClusterInputError,
    ClusterRelatedness,
    Crosswalk,
    LocationQuotients,
    SpatialClusters,
    reproduce_uscmp,
)

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["clusters", *map(str, args)])


def said(result) -> str:
    """stderr with Rich's line wrapping undone."""
    return " ".join(result.stderr.split())


def refused(result, *phrases: str) -> str:
    """Assert exit 2, one error line holding every phrase, nothing on stdout, no traceback."""
    message = said(result)
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert message.startswith("error:") and message.count("error:") == 1, message
    for phrase in phrases:
        assert phrase in message, (phrase, message)
    return message


@pytest.fixture
def pairs_file(tmp_path):
    path = tmp_path / "related.json"
    path.write_text(_pairs().to_json(orient="records"))
    return path


@pytest.fixture
def cordis(planted, tmp_path):
    folder = tmp_path / "cordis"
    _write_cordis(planted, folder)
    return folder


def _csv(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


# 1. related: the percentile's range, and a graph without links


@pytest.mark.parametrize("percentile", ["150", "-5", "100.5", "nan"])
def test_related_percentile_outside_0_to_100_is_refused(pairs_file, percentile):
    refused(
        run("related", "--data", pairs_file, "--percentile", percentile, "--json"),
        "--percentile must lie between 0 and 100",
    )
    with pytest.raises(ValueError, match="percentile must lie between 0 and 100"):
        ClusterRelatedness(percentile=float(percentile)).fit(_pairs())


def test_related_without_links_has_no_modularity_and_says_why(pairs_file):
    model = ClusterRelatedness(percentile=100, seed=0).fit(_pairs())
    assert model.graph_.number_of_edges() == 0 and model.modularity_ is None
    assert model.groups_["group"].nunique() == 6  # every cluster its own group
    assert "no pair of clusters reaches percentile 100" in model.report_.notes[0]

    result = run("related", "--data", pairs_file, "--percentile", "100", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["links"] == 0 and payload["modularity"] is None
    assert len(payload["groups"]) == 6 and "modularity is undefined" in payload["notes"][0]
    assert "note: no pair of clusters reaches percentile 100" in said(result)
    people = run("related", "--data", pairs_file, "--percentile", "100")
    assert people.exit_code == 0 and "6 cluster(s) without related clusters" in said(people)
    # the ends of the range are accepted: 0 links every pair
    assert (
        json.loads(run("related", "--data", pairs_file, "--percentile", "0", "--json").stdout)[
            "links"
        ]
        == 15
    )


def test_related_measure_and_resolution_are_checked(pairs_file):
    refused(
        run("related", "--data", pairs_file, "--measure", "cr_alll"),
        "--measure must be cr_all, cr_lc",
        "'cr_alll'",
    )
    refused(
        run("related", "--data", pairs_file, "--resolution", "0"), "--resolution must be positive"
    )
    with pytest.raises(
        ClusterInputError, match="no measure column 'cr_io'; measures present: cr_all"
    ):
        ClusterRelatedness(measure="cr_io").fit(_pairs())


def test_related_file_that_is_not_a_list_of_pairs(tmp_path):
    refused(run("related", "--data", _csv(tmp_path, "d.json", '{"a": 1}')), "d.json", "JSON list")
    refused(run("related", "--data", _csv(tmp_path, "e.json", "[]")), "e.json", "no cluster pairs")


# 2. kinds


def test_spatial_misspelt_kind_is_refused_naming_it_and_the_valid_ones(cordis):
    message = refused(
        run("spatial", "--cordis", cordis, "--kinds", "smes", "--json"),
        "--kinds: unknown kind(s) 'smes'",
        "valid kinds: sme, large_firm, company, university, research_institute, government, "
        "intermediary, other",
    )
    assert "(or all)" in message
    refused(run("spatial", "--cordis", cordis, "--kinds", "sme,univ"), "'univ'")
    refused(run("spatial", "--cordis", cordis, "--kinds", " , "), "no kind given")
    refused(run("spatial", "--cordis", cordis, "--kinds", "all,sme"), "'all' stands alone")
    with pytest.raises(ValueError, match="unknown kind.*'smes'.*valid kinds: sme"):
        SpatialClusters(kinds=("smes",)).fit(_frames_of(cordis))


def _frames_of(folder):
    from innoweave.registry.cordis import read_cordis

    return read_cordis(folder)


def test_spatial_kinds_in_any_case_and_a_kind_nobody_has(cordis):
    default = json.loads(run("spatial", "--cordis", cordis, "--json").stdout)
    upper = run("spatial", "--cordis", cordis, "--kinds", " SME ", "--json")
    assert upper.exit_code == 0, upper.output
    assert json.loads(upper.stdout)["organisations_placed"] == default["organisations_placed"] > 0
    everyone = json.loads(run("spatial", "--cordis", cordis, "--kinds", "all", "--json").stdout)
    assert everyone["organisations_placed"] > default["organisations_placed"]
    assert everyone["settings"]["kinds"] is None
    nobody = run("spatial", "--cordis", cordis, "--kinds", "other", "--json")
    assert nobody.exit_code == 0, nobody.output
    payload = json.loads(nobody.stdout)
    assert payload["organisations_placed"] == 0
    assert payload["input_report"]["counts"]["no_organisations_of_kinds"] == 1
    assert "no organisation of kind other" in said(nobody)


# 3. files without rows, made-up types


def test_lq_and_reproduce_refuse_a_file_without_rows(tmp_path):
    header = _csv(tmp_path, "header.csv", "region,cluster,type,employment\n")
    refused(run("lq", "--data", header, "--json"), "header.csv: no rows")
    empty = _csv(tmp_path, "empty.csv", "")
    refused(run("lq", "--data", empty, "--json"), "empty.csv: the file is empty")
    refused(run("reproduce-uscmp", "--data", empty, "--json"), "empty.csv: the file is empty")
    published = _csv(
        tmp_path, "uscmp.csv", "region_code_t,cluster_code_t,cluster_type,emp_tl,est_tl,lq_tf\n"
    )
    refused(run("reproduce-uscmp", "--data", published, "--json"), "uscmp.csv: no rows")
    with pytest.raises(ClusterInputError, match="no rows"):
        LocationQuotients().fit(pd.DataFrame(columns=["region", "cluster", "employment"]))


def test_lq_refuses_made_up_types_naming_file_line_and_value(tmp_path):
    data = _csv(
        tmp_path,
        "types.csv",
        "region,cluster,type,employment\nA,c1,Traded,100\nB,c1,traded,50\n"
        "A,c2,foo,10\nB,c2,foo,30\nA,c3,bar,5\n",
    )
    refused(
        run("lq", "--data", data, "--json"),
        "types.csv",
        "column 'type' has 3 value(s) other than traded or local",
        "'foo' (file lines 4, 5); 'bar' (file line 6)",
    )
    blank = _csv(tmp_path, "blank.csv", "region,cluster,type,employment\nA,c1, ,100\n")
    refused(
        run("lq", "--data", blank), "blank.csv", "column 'type' is empty in 1 row(s) (file lines 2)"
    )
    fine = run("lq", "--data", _csv(tmp_path, "ok.csv", data.read_text().replace("foo", "local")
                                    .replace("bar", "LOCAL")), "--json")  # fmt: skip
    assert fine.exit_code == 0, fine.output


def test_lq_reads_a_workbook_and_names_semicolons_encodings_and_damaged_books(tmp_path):
    """Analysts keep such tables in Excel: the first sheet of an .xlsx gives the same figures
    as the CSV, and a file's line numbers stay those of the sheet's rows."""
    text = "region,cluster,type,employment\nA,c1,traded,100\nB,c1,traded,50\nA,c2,traded,10\nB,c2,traded,30\n"
    data = _csv(tmp_path, "lq.csv", text)
    book = tmp_path / "lq.xlsx"
    pd.read_csv(data).to_excel(book, index=False)
    from_csv, from_book = run("lq", "--data", data, "--json"), run("lq", "--data", book, "--json")
    assert from_csv.exit_code == 0 and from_book.exit_code == 0, from_book.output
    same = ("rows", "regions", "clusters", "flags", "stars", "top")
    assert {k: json.loads(from_book.stdout)[k] for k in same} == {k: json.loads(from_csv.stdout)[k] for k in same}
    pd.read_csv(_csv(tmp_path, "t.csv", text.replace("c2,traded,30", "c2,foo,30"))).to_excel(
        tmp_path / "types.xlsx", index=False)
    refused(run("lq", "--data", tmp_path / "types.xlsx"), "types.xlsx", "'foo' (file line 5)")
    # semicolons, UTF-16 and (given --encoding) cp1252 read as `import file` reads them
    semi = run("lq", "--data", _csv(tmp_path, "semi.csv", text.replace(",", ";")), "--json")
    wide = tmp_path / "wide.csv"
    wide.write_bytes(text.encode("utf-16"))
    for other in (semi, run("lq", "--data", wide, "--json")):
        assert other.exit_code == 0, other.output
        assert {k: json.loads(other.stdout)[k] for k in same} == {k: json.loads(from_csv.stdout)[k] for k in same}
    latin = tmp_path / "latin.csv"
    latin.write_bytes(text.replace("B,c1", "Köln,c1").encode("cp1252"))
    refused(run("lq", "--data", latin), "latin.csv: not UTF-8 text (line 3): 'Köln' if read as Western European "
                                        "(cp1252)", "give --encoding cp1252")  # fmt: skip
    assert run("lq", "--data", latin, "--encoding", "cp1252").exit_code == 0
    refused(run("lq", "--data", _csv(tmp_path, "bad.xlsx", "not a workbook")),
            "bad.xlsx: not a readable Excel workbook")  # fmt: skip


def test_reproduce_refuses_made_up_types_with_the_files_own_lines():
    rows = pd.DataFrame(
        {
            "year_t": [2015, 2015, 2016, 2016],
            "region_code_t": ["01", "02", "01", "02"],
            "cluster_code_t": ["1", "1", "1", "1"],
            "cluster_type": ["traded", "traded", "traded", "tradd"],
            "emp_tl": [10, 20, 10, 20],
            "lq_tf": [1.0, 1.0, 1.0, 1.0],
        }
    )
    with pytest.raises(ClusterInputError, match=r"x\.csv: .*'tradd' \(file line 5\)"):
        reproduce_uscmp(rows, source="x.csv")
    flags = rows.drop(columns="cluster_type").assign(traded_b=["TRUE", "FALSE", "yes", "1"])
    with pytest.raises(ClusterInputError, match=r"'traded_b'.*file lines 4"):
        reproduce_uscmp(flags)


def test_crosswalk_types_are_checked_with_file_lines(tmp_path):
    walk = _csv(
        tmp_path,
        "walk.csv",
        "code,cluster,name,scope\n3670,A,Auto,traded\n5211,L,Retail,locl\n9999,NA,None,\n",
    )
    with pytest.raises(
        ClusterInputError, match=r"walk\.csv: column 'scope' .*'locl' \(file line 3\)"
    ):
        Crosswalk.from_csv(walk, code="code", cluster="cluster", cluster_name="name", type="scope")
    data = _csv(tmp_path, "industry.csv", "region,code,employment\nP1,3670,10\n")
    refused(
        run(
            "lq",
            "--data",
            data,
            "--code",
            "code",
            "--crosswalk",
            walk,
            "--crosswalk-code",
            "code",
            "--crosswalk-cluster",
            "cluster",
            "--crosswalk-name",
            "name",
            "--crosswalk-type",
            "scope",
        ),  # fmt: skip
        "walk.csv",
        "'locl' (file line 3)",
    )


def test_industry_rows_without_region_or_without_any_cluster(tmp_path):
    walk = Crosswalk(
        pd.DataFrame({"code": ["1"], "cluster": ["A"], "cluster_name": ["a"], "type": ["traded"]})
    )
    rows = pd.DataFrame({"region": ["P1", None], "code": ["1", "1"], "employment": [1, 2]})
    with pytest.raises(ClusterInputError, match=r"in\.csv: column 'region' is empty .*lines 3"):
        walk.aggregate(rows, source="in.csv")
    unknown = pd.DataFrame({"region": ["P1"], "code": ["9"], "employment": [1]})
    with pytest.raises(ClusterInputError, match="none of its 1 industry code"):
        walk.aggregate(unknown)


# 4. output paths, checked before any work


def test_output_paths_are_checked_before_any_work(tmp_path):
    missing = tmp_path / "no-such-input"  # the work would fail on this; the path check is first
    a_file = _csv(tmp_path, "a_file", "")
    a_folder = tmp_path / "folder.csv"
    a_folder.mkdir()
    refused(run("lq", "--data", missing, "--out", a_folder), "--out", "is a folder")
    refused(run("lq", "--data", missing, "--out", tmp_path / "t.txt"), "--out must end in .csv")
    refused(run("lq", "--data", missing, "--out", a_file / "t.csv"), "--out", "is a file")
    for command in ("network", "spatial"):
        refused(run(command, "--cordis", missing, "--out", a_file), "--out", "is a file")
    refused(run("network", "--cordis", missing, "--picture", a_folder), "--picture must end in")
    folder_png = tmp_path / "pic.png"
    folder_png.mkdir()
    refused(
        run("network", "--cordis", missing, "--picture", folder_png), "--picture", "is a folder"
    )
    refused(run("spatial", "--cordis", missing, "--map", tmp_path / "m.gif"), "--map must end in")
    refused(run("spatial", "--cordis", missing, "--map", a_file / "m.png"), "--map", "is a file")
    refused(
        run("network", "--cordis", missing, "--method", "leidn"),
        "--method must be louvain or leiden",
    )
    refused(
        run("network", "--cordis", missing, "--weighting", "x"),
        "--weighting must be inverse or count",
    )
    refused(
        run("network", "--cordis", missing, "--resolution", "-1"), "--resolution must be positive"
    )
    refused(
        run("lq", "--data", missing, "--duplicates", "add"),
        "--duplicates must be error, sum or first",
    )
    refused(run("reproduce-uscmp", "--data", missing, "--duplicates", "x"), "--duplicates must be")
    assert not any(p.name.endswith((".csv", ".png")) and p.is_file() for p in tmp_path.rglob("*"))


def test_lq_out_as_excel(tmp_path):
    data = _csv(
        tmp_path, "ok.csv", "region,cluster,type,employment\nA,c1,traded,1\nB,c1,traded,2\n"
    )
    out = tmp_path / "tables" / "lq.XLSX"
    result = run("lq", "--data", data, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    assert len(pd.read_excel(out)) == 2


def test_pictures_refuse_other_suffixes(planted, tmp_path):
    from innoweave.clusters.pictures import save_map

    model = SpatialClusters(min_samples=2).fit(planted)
    with pytest.raises(ValueError, match=r"must end in \.png, \.svg, \.pdf or \.html"):
        save_map(model, tmp_path / "map.gif")
    assert not (tmp_path / "map.gif").exists()
    assert save_map(model, tmp_path / "map.svg").read_text().lstrip().startswith("<?xml")


# 5. --geojson with --json


def test_spatial_geojson_and_json_together_are_refused(cordis, tmp_path):
    refused(
        run("spatial", "--cordis", cordis, "--geojson", "--json"),
        "--geojson and --json both print on stdout",
        "--out DIR",
    )
    both = run("spatial", "--cordis", cordis, "--json", "--out", tmp_path / "spatial")
    assert both.exit_code == 0, both.output
    summary = json.loads(both.stdout)
    collection = json.loads((tmp_path / "spatial" / "clusters.geojson").read_text())
    assert collection["type"] == "FeatureCollection"
    points = [f for f in collection["features"] if f["properties"]["feature"] == "organisation"]
    assert len(points) == summary["organisations_placed"]
    alone = run("spatial", "--cordis", cordis, "--geojson")
    assert alone.exit_code == 0 and json.loads(alone.stdout) == collection


# 6. a read-only command creates no database


@pytest.mark.parametrize("command", ["network", "spatial"])
def test_without_a_registry_no_empty_database_is_made(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INNOWEAVE_DATABASE_URL", raising=False)
    refused(run(command), "there is no registry at sqlite:///innoweave.db")
    assert not (tmp_path / "innoweave.db").exists() and list(tmp_path.iterdir()) == []


def test_network_without_links_says_so(planted, tmp_path):
    parts = planted.participations
    planted.participations = parts[parts["project_external_id"].isin(["psolo", "pgiant"])]
    folder = tmp_path / "unlinked"
    _write_cordis(planted, folder)
    for method in ("louvain", "leiden"):
        result = run("network", "--cordis", folder, "--max-consortium", "8", "--method", method,
                     "--json")  # fmt: skip
        assert result.exit_code == 0, result.output
        payload = json.loads(result.stdout)
        assert payload["links"] == 0 and payload["communities"] == 0
        assert payload["modularity"] == 0
        assert "no two organisations share a linked project" in said(result)
    people = run("network", "--cordis", folder, "--max-consortium", "8", "--picture",
                 tmp_path / "net.png")  # fmt: skip
    assert people.exit_code == 0, people.output
    assert "0 communities" in said(people) and (tmp_path / "net.png").exists()


def test_estimator_settings_out_of_range_are_refused(planted):
    """Settings that ran and gave meaningless results (modularity 2.0 at resolution -1, NaN
    betweenness with 0 samples, nothing placed at eps_km NaN)."""
    from innoweave.clusters import CollaborationCommunities, SpatialClusters

    for options, message in [({"resolution": 0}, "resolution must be a finite number above 0, got 0"),
                             ({"resolution": float("nan")}, "resolution must be a finite number above 0"),
                             ({"resolution": float("inf")}, "resolution must be a finite number above 0"),
                             ({"resolution": True}, "resolution must be a number, got True"),
                             ({"resolution": "1"}, "resolution must be a number, got '1'"),
                             ({"betweenness_samples": 0}, "betweenness_samples must be at least 1"),
                             ({"betweenness_samples": 2.5}, "betweenness_samples must be a whole number >= 1"),
                             ({"max_consortium": -1}, "max_consortium must be at least 2"),
                             ({"region_prefix": 0}, "region_prefix must be at least 1"),
                             ({"region_prefix": 2.5}, "region_prefix must be a whole number >= 1 or None"),
                             ({"topic_words": 0}, "topic_words must be at least 1"),
                             ({"structural_holes": "no"}, "structural_holes must be True or False"),
                             ({"seed": -1}, "seed must be a whole number >= 0")]:  # fmt: skip
        with pytest.raises(ValueError, match=message):
            CollaborationCommunities(**{"seed": 0, **options}).fit(planted)
    for options, message in [({"eps_km": float("nan")}, r"eps_km \(a positive distance\) must be a finite number above 0"),
                             ({"eps_km": "15"}, r"eps_km \(a positive distance\) must be a number, got '15'"),
                             ({"min_similarity": 2}, r"min_similarity \(a cosine similarity\) must be a finite number at least 0 and at most 1"),
                             ({"min_samples": 0}, "min_samples must be at least 1, got 0"),
                             ({"min_samples": 2.5}, "min_samples must be a whole number >= 1, got 2.5"),
                             ({"min_samples": True}, "min_samples must be a whole number >= 1, got True"),
                             ({"topic_words": -1}, "topic_words must be at least 1"),
                             ({"placeholder_min": 0}, "placeholder_min must be at least 1")]:  # fmt: skip
        with pytest.raises(ValueError, match=message):
            SpatialClusters(**options).fit(planted)


def test_estimators_take_registry_frames_and_say_when_unfitted(planted):
    from innoweave.clusters import CollaborationCommunities, SpatialClusters

    for model in (CollaborationCommunities(seed=0), SpatialClusters()):
        with pytest.raises(TypeError, match=r"\.fit takes RegistryFrames .*not DataFrame"):
            model.fit(planted.organisations)
    with pytest.raises(RuntimeError, match=r"call fit\(\) first"):
        CollaborationCommunities().summary()
    with pytest.raises(RuntimeError, match=r"call fit\(\) first"):
        SpatialClusters().to_geojson()
    fitted = CollaborationCommunities(seed=0).fit(planted)
    for top, message in ((0, "top must be at least 1"), (2.5, "top must be a whole number"), (True, "top must be a whole")):
        with pytest.raises(ValueError, match=message):
            fitted.summary(top=top)
    assert len(fitted.summary(top=None)["community_table"]) == len(fitted.communities_)
    # NumPy whole numbers are whole numbers
    assert CollaborationCommunities(seed=0, max_consortium=np.int64(40)).fit(planted).settings_["max_consortium"] == 40


def test_network_of_no_organisations_is_refused_in_words(planted):
    from innoweave.clusters import ClusterInputError, CollaborationCommunities
    from innoweave.registry.frames import RegistryFrames

    with pytest.raises(ClusterInputError, match="no organisations"):
        CollaborationCommunities(seed=0).fit(RegistryFrames(planted.organisations.iloc[:0]))


def test_spatial_texts_of_stop_words_only_group_by_distance(planted):
    """Texts with no word the topic vectoriser keeps raised scikit-learn's 'empty vocabulary'."""
    from innoweave.clusters import SpatialClusters
    from innoweave.registry.frames import RegistryFrames

    orgs = planted.organisations.assign(keywords=[["the project"]] * len(planted.organisations),
                                        capabilities=None)  # fmt: skip
    frames = RegistryFrames(orgs)
    model = SpatialClusters(kinds=None).fit(frames)
    assert model.report_.counts["no_topic_words"] == 1
    assert (model.clusters_["topics"].str.len() == 0).all()
    alone = SpatialClusters(kinds=None, min_similarity=0).fit(frames)
    assert model.points_["cluster"].tolist() == alone.points_["cluster"].tolist()


def test_lq_reads_german_numbers_as_the_registry_import_does(tmp_path):
    """A semicolon file of German Excel: decimal commas, and 1.250 employees read as 1250
    where the file's decimal commas show it; refused where nothing shows which."""
    text = ("region;cluster;type;employment;establishments\nA;c1;traded;1.250;12\nB;c1;traded;50,5;3\n"
            "A;c2;traded;10;2\nB;c2;traded;30;4\n")  # fmt: skip
    german = run("lq", "--data", _csv(tmp_path, "de.csv", text), "--json")
    english = run("lq", "--data", _csv(tmp_path, "en.csv", text.replace("1.250", "1250").replace("50,5", "50.5")
                                       .replace(";", ",")), "--json")  # fmt: skip
    assert german.exit_code == 0 and english.exit_code == 0, german.output
    same = ("rows", "regions", "clusters", "top")
    assert {k: json.loads(german.stdout)[k] for k in same} == {k: json.loads(english.stdout)[k] for k in same}
    refused(run("lq", "--data", _csv(tmp_path, "amb.csv", text.replace("50,5", "50"))),
            "amb.csv: column 'employment', file line 2: '1.250' is ambiguous: 1250 if '.' separates thousands",
            "write 1250, or 1.25 if you mean a decimal", "(1 such value(s): file lines 2)")  # fmt: skip


def test_lq_names_expected_and_found_columns(tmp_path):
    data = _csv(tmp_path, "cols.csv", "Region;Cluster;Beschäftigte\nA;c1;100\n")
    refused(run("lq", "--data", data), "missing column(s) region, cluster, employment; expected region, "
                                       "cluster, employment (names match exactly); found Region, Cluster, Beschäftigte")  # fmt: skip


def test_lq_writes_whole_counts_as_integers(tmp_path):
    """Counts are 1200 in the workbook and the CSV, not 1200.00 / 1200.0; LQs keep decimals,
    a missing count stays empty and counts with fractions (FTE) stay numbers."""
    from openpyxl import load_workbook

    text = ("region,cluster,type,employment,establishments\nA,c1,traded,1200,3\nB,c1,traded,50,\n"
            "A,c2,traded,10,2\nB,c2,traded,30,4\n")  # fmt: skip
    data = _csv(tmp_path, "lq.csv", text)
    for name in ("out.xlsx", "out.csv"):
        assert run("lq", "--data", data, "--out", tmp_path / name).exit_code == 0
    sheet = load_workbook(tmp_path / "out.xlsx").active
    header = [c.value for c in sheet[1]]
    row = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert row["employment"].value == 1200 and isinstance(row["employment"].value, int)
    assert row["employment"].number_format != "0.00" and row["national_employment"].value == 1250
    assert row["lq"].number_format == "0.00"
    assert [r[header.index("establishments")].value for r in sheet.iter_rows(min_row=2)] == [3, None, 2, 4]
    assert "A,c1,traded,1200,3," in (tmp_path / "out.csv").read_text()
    fte = _csv(tmp_path, "fte.csv", text.replace("1200,3", "1200.5,3"))
    assert run("lq", "--data", fte, "--out", tmp_path / "fte.xlsx").exit_code == 0
    sheet = load_workbook(tmp_path / "fte.xlsx").active
    assert sheet["D2"].value == 1200.5
