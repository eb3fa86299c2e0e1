"""write_frames refuses, before writing anything, what the file import refuses: frames built
by hand used to be written as given (SQLite stored "many" in a number column)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from innoweave.registry.files import FileFormatError, import_files
from innoweave.registry.frames import RegistryFrames, load_frames
from innoweave.registry.writer import write_frames

ORG = {"external_id": "o:1", "name": "Acme", "kind": "sme", "source": "test"}


@pytest.mark.parametrize(("column", "value", "message"), [
    ("employees", np.inf, "column 'employees': 1 value(s) infinite: 'o:1' (inf)"),
    ("employees", -3, "column 'employees': 1 value(s) below 0: 'o:1' (-3.0)"),
    ("employees", "many", "column 'employees': 1 value(s) not a number: 'o:1' ('many')"),
    ("employees", True, "column 'employees': 1 value(s) not a number"),
    ("latitude", 95.0, "column 'latitude': 1 value(s) above 90"),
    ("founding_year", 1998.5, "column 'founding_year': 1 value(s) not a whole number"),
    ("kind", "spaceship", "column 'kind': 1 value(s) not one of sme, large_firm"),
    ("name", None, "column 'name': 1 value(s) missing (required)"),
    ("name", "  ", "column 'name': 1 value(s) missing (required)"),
    ("keywords", "a;b", "column 'keywords': 1 value(s) not a list: 'o:1' ('a;b')"),
    ("attributes", "x", "column 'attributes': 1 value(s) not a dict"),
    ("sme_flag", "yes", "column 'sme_flag': 1 value(s) not true or false"),
])  # fmt: skip
def test_values_the_import_refuses_are_refused_and_nothing_is_written(registry_engine, column, value, message):
    good = {**ORG, "external_id": "o:0"}
    with pytest.raises(ValueError, match="^" + re.escape(f"organisations, {message}")):
        write_frames(registry_engine, RegistryFrames(pd.DataFrame([good, {**ORG, column: value}])))
    assert load_frames(registry_engine).organisations.empty


def test_missing_numbers_and_numpy_values_are_fine(registry_engine):
    orgs = pd.DataFrame([{**ORG, "employees": np.nan, "patents": np.int64(3), "latitude": np.float32(51.5),
                          "sme_flag": np.True_}])  # fmt: skip
    assert write_frames(registry_engine, RegistryFrames(orgs))["organisations"] == 1


def test_projects_and_participations_are_checked_too(registry_engine):
    project = {"external_id": "p:1", "title": "T", "source": "test", "budget": -1.0}
    with pytest.raises(ValueError, match=r"^projects, column 'budget': 1 value\(s\) below 0: 'p:1'"):
        write_frames(registry_engine, RegistryFrames(pd.DataFrame([ORG]), pd.DataFrame([project])))
    part = {"external_id": "x:1", "project_external_id": "p:1", "org_external_id": "o:1", "source": "test",
            "public_contribution": np.inf}  # fmt: skip
    with pytest.raises(ValueError, match=r"^participations, column 'public_contribution': 1 value\(s\) infinite"):
        write_frames(registry_engine, RegistryFrames(pd.DataFrame([ORG]), pd.DataFrame([{**project, "budget": 1.0}]),
                                                     pd.DataFrame([part])))  # fmt: skip


def test_a_participation_naming_an_unknown_project_says_which(registry_engine):
    part = {"external_id": "x:1", "project_external_id": "p:404", "org_external_id": "o:1", "source": "test"}
    with pytest.raises(KeyError, match="participation 'x:1' names project 'p:404', which is neither in the registry"):
        write_frames(registry_engine, RegistryFrames(pd.DataFrame([ORG]), pd.DataFrame(), pd.DataFrame([part])))
    assert load_frames(registry_engine).organisations.empty


def test_write_frames_takes_registry_frames(registry_engine):
    with pytest.raises(TypeError, match="write_frames takes RegistryFrames .* not DataFrame"):
        write_frames(registry_engine, pd.DataFrame([ORG]))


def test_import_files_takes_one_path_as_one_path(tmp_path, registry_engine):
    path = tmp_path / "orgs.csv"
    path.write_text("external_id,name,kind\no:1,Acme,sme\n", encoding="utf-8")
    assert import_files(str(path), engine=registry_engine).written["organisations"] == 1
    with pytest.raises(FileFormatError, match="absent.csv: no such file"):
        import_files(str(tmp_path / "absent.csv"), engine=registry_engine)  # not '/': the first character
