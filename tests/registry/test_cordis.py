"""CORDIS import on both back-ends: every record arrives, a second import changes nothing, and
the bulk CSV layout CORDIS publishes is read like the gzip layout."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from innoweave.registry.cordis import CordisFormatError, cordis_kind, read_cordis
from innoweave.registry.db import stats
from innoweave.registry.kinds import OrgKind
from innoweave.registry.models import Organisation
from innoweave.registry.writer import write_frames


def test_kind_rules():
    assert cordis_kind("PRC", True) is OrgKind.SME
    assert cordis_kind("PRC", False) is OrgKind.LARGE_FIRM
    assert cordis_kind("PRC", None) is OrgKind.COMPANY
    assert cordis_kind("HES", True) is OrgKind.UNIVERSITY
    assert cordis_kind("REC", None) is OrgKind.RESEARCH_INSTITUTE
    assert cordis_kind("PUB", False) is OrgKind.GOVERNMENT
    assert cordis_kind("OTH", False) is OrgKind.INTERMEDIARY
    assert cordis_kind(None, None) is OrgKind.OTHER
    assert cordis_kind(" prc ", True) is OrgKind.SME


def test_import_cordis_twice(registry_engine, cordis_frames, digest):
    write_frames(registry_engine, cordis_frames)
    first = stats(registry_engine)
    assert (first["organisations"], first["projects"], first["participations"]) == (6542, 18030, 36985)
    assert first["by_kind"]["sme"] == 2486
    checksum = digest(registry_engine)
    write_frames(registry_engine, cordis_frames)
    assert stats(registry_engine) == first
    assert digest(registry_engine) == checksum  # every value of every row, not only the counts

    with Session(registry_engine) as s:
        fraunhofer = s.scalar(select(Organisation).where(Organisation.external_id == "cordis:999984059"))
        assert fraunhofer.kind == "research_institute"
        assert fraunhofer.source == "cordis" and fraunhofer.source_row > 1
        # a non-firm's SME flag is kept as an attribute
        flagged = s.scalar(select(Organisation).where(Organisation.kind == "research_institute",
                                                      Organisation.sme_flag.is_(True)))
        assert flagged is not None


ORGANIZATION_CSV = """\
projectID;projectAcronym;organisationID;vatNumber;name;shortName;SME;activityType;street;postCode;city;country;nutsCode;geolocation;organizationURL;contactForm;contentUpdateDate;rcn;order;role;ecContribution;netEcContribution;totalCost;endOfParticipation;active
101070001;LASH;999000001;DE1;"Acme Präzisionsteile GmbH";ACME;true;PRC;"Hauptstr. 1";80331;München;DE;DE212;"48.137,11.575";;;2024-01-01;1;1;coordinator;450000,50;430000;500000;false;true
101070001;LASH;999000002;;"Universität Beispiel; Fakultät 3";UB;true;HES;;01067;Dresden;DE;DED21;"51.05,13.74";;;2024-01-01;2;2;participant;300000;300000;300000;false;true
101070001;LASH;999000003;;Verband;;;OTH;;;Berlin;DE;DE300;;;;2024-01-01;3;3;partner;0;0;0;false;true
654321;OLD;999000001;DE1;"Acme Präzisionsteile GmbH";ACME;true;PRC;;80331;München;DE;DE212;"48.137,11.575";;;2020-01-01;4;1;participant;100000;100000;100000;false;true
654321;OLD;999000004;;"Große Werke AG";;false;PRC;;;Stuttgart;DE;DE111;"48.77,9.18";;;2020-01-01;5;2;coordinator;1000000;950000;1000000;false;true
654321;OLD;999000005;;Ohne Typ;;;;;;;DE;;;;;2020-01-01;6;3;thirdParty;;;;false;true
"""

PROJECT_CSV = """\
id;acronym;status;title;startDate;endDate;totalCost;ecMaxContribution;legalBasis;topics;ecSignatureDate;frameworkProgramme;masterCall;subCall;fundingScheme;nature;objective;contentUpdateDate;rcn;grantDoi
101070001;LASH;SIGNED;"Laser-welded sensor housings; a ""joint"" project";2024-01-01;2026-12-31;1200000;1125000,25;HORIZON.2.4;T1;2023-11-01;HORIZON;C1;C1;HORIZON-RIA;;"Objective text";2024-01-01;1;10.3030/101070001
654321;OLD;CLOSED;Old project;2015-03-01;2018-02-28;2000000;1100000;H2020-EU.2.1.1.;T2;2015-01-01;H2020;C2;C2;RIA;;"Objective";2019-01-01;2;
"""


@pytest.fixture
def bulk_dir(tmp_path):
    (tmp_path / "organization.csv").write_text(ORGANIZATION_CSV, encoding="utf-8")
    (tmp_path / "project.csv").write_text(PROJECT_CSV, encoding="utf-8")
    return tmp_path


def test_bulk_layout(bulk_dir):
    frames = read_cordis(bulk_dir)
    assert frames.counts() == {"organisations": 5, "projects": 2, "participations": 6}
    orgs = frames.organisations.set_index("external_id")
    assert orgs.loc["cordis:999000001", "kind"] == "sme"
    assert orgs.loc["cordis:999000002", "kind"] == "university"
    assert orgs.loc["cordis:999000002", "sme_flag"] is True  # kept for a non-firm
    assert orgs.loc["cordis:999000002", "name"] == "Universität Beispiel; Fakultät 3"
    assert orgs.loc["cordis:999000002", "postcode"] == "01067"
    assert orgs.loc["cordis:999000003", "kind"] == "intermediary"
    assert orgs.loc["cordis:999000004", "kind"] == "large_firm"
    assert orgs.loc["cordis:999000005", "kind"] == "other"
    assert orgs.loc["cordis:999000001", "region_code"] == "DE212"
    assert orgs.loc["cordis:999000001", "region_level"] == "NUTS-3"
    assert orgs.loc["cordis:999000001", "source_row"] == 2  # its first line in organization.csv
    projects = frames.projects.set_index("external_id")
    lash = projects.loc["cordis:project:101070001"]
    assert lash["title"] == 'Laser-welded sensor housings; a "joint" project'
    assert lash["programme"] == "Horizon Europe" and lash["funding_scheme"] == "HORIZON-RIA"
    assert lash["budget"] == pytest.approx(1125000.25)
    assert lash["start_date"] == dt.date(2024, 1, 1)
    assert projects.loc["cordis:project:654321", "programme"] == "Horizon 2020"
    parts = frames.participations.set_index("external_id")
    acme = parts.loc["cordis:part:101070001:999000001:coordinator:0"]
    assert acme["public_contribution"] == pytest.approx(450000.5)
    assert acme["role"] == "coordinator" and acme["source_row"] == 2


def test_bulk_layout_writes_on_both_back_ends(registry_engine, bulk_dir, digest):
    write_frames(registry_engine, read_cordis(bulk_dir))
    result = stats(registry_engine)
    assert (result["organisations"], result["projects"], result["participations"]) == (5, 2, 6)
    assert result["by_kind"] == {"intermediary": 1, "large_firm": 1, "other": 1, "sme": 1, "university": 1}
    before = digest(registry_engine)
    write_frames(registry_engine, read_cordis(bulk_dir))
    assert digest(registry_engine) == before


def test_geolocation_split(bulk_dir):
    """CORDIS writes "lat,lon"; an impossible position is dropped, not stored."""
    text = ORGANIZATION_CSV.replace('"48.77,9.18"', '"95.0,9.18"')
    (bulk_dir / "organization.csv").write_text(text, encoding="utf-8")
    orgs = read_cordis(bulk_dir).organisations.set_index("external_id")
    assert orgs.loc["cordis:999000001", ["latitude", "longitude"]].tolist() == [48.137, 11.575]
    assert orgs.loc[["cordis:999000003", "cordis:999000004"], "latitude"].isna().all()


def test_unusable_geolocations_are_left_empty_with_a_warning(bulk_dir):
    from innoweave.registry.cordis import read_cordis_checked

    text = ORGANIZATION_CSV.replace('"48.77,9.18"', '"95.0,9.18"').replace('"51.05,13.74"', '"51.05,east"')
    (bulk_dir / "organization.csv").write_text(text, encoding="utf-8")
    read = read_cordis_checked(bulk_dir)
    assert read.errors == []
    assert read.warnings == [
        "organization.csv: 2 geolocation(s) not 'latitude,longitude' on the globe, left empty "
        "(row 3: '51.05,east', row 6: '95.0,9.18')"
    ]
    orgs = read.frames.organisations.set_index("external_id")
    # a position is kept whole or not at all (a latitude without longitude would not re-import)
    assert orgs.loc[["cordis:999000002", "cordis:999000004"], ["latitude", "longitude"]].isna().all().all()


def test_bad_cordis_folders(tmp_path, bulk_dir):
    with pytest.raises(CordisFormatError, match="not a folder"):
        read_cordis(tmp_path / "absent")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CordisFormatError, match="expected organisations/projects/participations.csv.gz"):
        read_cordis(empty)
    (bulk_dir / "project.csv").write_text("id;title\n1;x\n", encoding="utf-8")
    with pytest.raises(CordisFormatError, match=r"project.csv: missing column\(s\) startDate, frameworkProgramme"):
        read_cordis(bulk_dir)
    (bulk_dir / "project.csv").write_text(PROJECT_CSV.split("654321")[0], encoding="utf-8")
    with pytest.raises(CordisFormatError, match="participation.s. name an organisation or project absent"):
        read_cordis(bulk_dir)


def test_rows_are_checked_like_import_file(bulk_dir):
    """A reversed or unreadable date, an amount that is no number: reported with file, row and
    column; the row and the participations of a left-out project are left out."""
    from innoweave.registry.cordis import CordisRowErrors, read_cordis_checked

    text = PROJECT_CSV.replace("2015-03-01;2018-02-28", "2018-03-01;2015-02-28")
    text = text.replace("2024-01-01;2026-12-31", "2024-13-01;2026-12-31")
    (bulk_dir / "project.csv").write_text(text, encoding="utf-8")
    orgs = ORGANIZATION_CSV.replace("450000,50;430000", "viel;430000")
    (bulk_dir / "organization.csv").write_text(orgs, encoding="utf-8")
    read = read_cordis_checked(bulk_dir)
    assert [str(e) for e in read.errors] == [
        "organization.csv, row 2, column ecContribution: expected a number, got 'viel'",
        "organization.csv, row 3, column projectID: its project '101070001' was left out (see its row)",
        "organization.csv, row 4, column projectID: its project '101070001' was left out (see its row)",
        "organization.csv, row 5, column projectID: its project '654321' was left out (see its row)",
        "organization.csv, row 6, column projectID: its project '654321' was left out (see its row)",
        "organization.csv, row 7, column projectID: its project '654321' was left out (see its row)",
        "project.csv, row 2, column startDate: expected a date YYYY-MM-DD, got '2024-13-01'",
        "project.csv, row 3, column endDate: end 2015-02-28 is before start 2018-03-01",
    ]
    assert read.rejected == {"organization.csv": 6, "project.csv": 2}
    assert read.frames.counts() == {"organisations": 5, "projects": 0, "participations": 0}
    with pytest.raises(CordisRowErrors, match=r"8 problem\(s\) in 8 row\(s\); first: organization.csv, row 2"):
        read_cordis(bulk_dir)


def test_gzip_layout_checks_ids_amounts_and_lengths(tmp_path):
    import gzip

    from innoweave.registry.cordis import read_cordis_checked

    files = {
        "organisations": "organisationID,name,SME,activityType\n1,A,true,PRC\n1,A again,true,PRC\n2,B,maybe,HES\n"
                         f"3,{'x' * 600},false,PRC\n",
        "projects": "projectID,acronym,title,programme,startDate,endDate,ecMaxContribution\n"
                    "10,P,T,H,2024-01-01,2025-01-01,-5\n11,Q,U,H,2024-01-01,,1000\n",
        "participations": "projectID,organisationID,role,ecContribution,netEcContribution\n"
                          "11,1,coordinator,1e999,0\n11,2,participant,,\n",
    }  # fmt: skip
    for name, text in files.items():
        with gzip.open(tmp_path / f"{name}.csv.gz", "wt", encoding="utf-8") as fh:
            fh.write(text)
    read = read_cordis_checked(tmp_path)
    found = [str(e) for e in read.errors]
    assert found == [
        "organisations.csv.gz, row 3, column organisationID: duplicate organisationID '1' (first at row 2)",
        "organisations.csv.gz, row 4, column SME: expected true or false, got 'maybe'",
        "organisations.csv.gz, row 5, column name: longer than 512 characters (600)",
        "participations.csv.gz, row 2, column ecContribution: expected a number, got '1e999'",
        "participations.csv.gz, row 3, column organisationID: its organisation '2' was left out (see its row)",
        "projects.csv.gz, row 2, column ecMaxContribution: -5 is out of range 0..",
    ]
    assert list(read.frames.organisations["name"]) == ["A"]  # a repeated id's first row stays


def test_real_cordis_rows_are_all_valid(cordis_dir):
    from innoweave.registry.cordis import read_cordis_checked

    read = read_cordis_checked(cordis_dir)
    assert read.errors == [] and read.warnings == []
    assert read.frames.counts() == {"organisations": 6542, "projects": 18030, "participations": 36985}
