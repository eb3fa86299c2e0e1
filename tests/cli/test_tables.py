"""Tables written by commands (``--out``): CSV or Excel by suffix, list cells as text."""

import pandas as pd
import pytest

from innoweave.cli.common import check_table_path, write_table


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_write_table_by_suffix_joins_list_cells(tmp_path, suffix):
    table = pd.DataFrame({"partner": ["a", "b"], "topics": [["laser", "optics"], []],
                          "km": [12.5, None]})  # fmt: skip
    path = tmp_path / "deep" / f"t{suffix}"
    write_table(table, path)
    back = pd.read_csv(path) if suffix == ".csv" else pd.read_excel(path)
    assert back["partner"].tolist() == ["a", "b"]
    assert back["topics"].iloc[0] == "laser; optics" and pd.isna(back["topics"].iloc[1])
    assert back["km"].iloc[0] == 12.5 and pd.isna(back["km"].iloc[1])
    assert table["topics"].iloc[0] == ["laser", "optics"]  # the caller's table is unchanged


def test_check_table_path_names_the_option(tmp_path, capsys):
    import typer

    check_table_path(None)
    check_table_path(tmp_path / "x.xlsx")
    check_table_path(tmp_path / "X.CSV")
    assert capsys.readouterr().err == ""
    with pytest.raises(typer.Exit) as exc:
        check_table_path(tmp_path / "x.parquet", "--plan")
    assert exc.value.exit_code == 2
    said = " ".join(capsys.readouterr().err.split())
    assert said == "error: --plan must end in .csv or .xlsx, got 'x.parquet'"
    with pytest.raises(typer.Exit):
        check_table_path(tmp_path / "x.json")
    assert "--out must end in .csv or .xlsx, got 'x.json'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing written by the checks


def test_write_table_renders_mappings_and_arrays_as_text(tmp_path):
    import numpy as np

    table = pd.DataFrame({"kinds": [{"sme": 3, "university": 1}, {}],
                          "topics": [np.array(["laser", "optics"]), ("grid",)],
                          "size": [4, 1]})  # fmt: skip
    path = tmp_path / "t.csv"
    write_table(table, path)
    back = pd.read_csv(path)
    assert back["kinds"].iloc[0] == "sme: 3; university: 1" and pd.isna(back["kinds"].iloc[1])
    assert back["topics"].tolist() == ["laser; optics", "grid"]
    assert "{" not in path.read_text() and "[" not in path.read_text()


def test_write_table_xlsx_is_readable(tmp_path):
    from openpyxl import load_workbook

    table = pd.DataFrame({"org_id": ["syn:sme:1", "syn:sme:2"],
                          "recommended": ["x" * 80, "short"],
                          "score": [0.123456789012345, 2 / 3]})  # fmt: skip
    path = tmp_path / "sme_diagnosis_of_a_rather_long_name_indeed.xlsx"
    write_table(table, path)
    book = load_workbook(path)
    assert book.sheetnames == ["sme_diagnosis_of_a_rather_long_"]  # the stem, 31 characters
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width == 11  # "syn:sme:1" + 2, at least 10
    assert sheet.column_dimensions["B"].width == 50  # capped
    assert sheet["C2"].number_format == "0.00" and sheet["C2"].value == 0.123456789012345
    write_table(table, tmp_path / "t.xlsx", sheet="diagnosis")
    assert load_workbook(tmp_path / "t.xlsx").sheetnames == ["diagnosis"]
    assert pd.read_excel(tmp_path / "t.xlsx")["score"].iloc[1] == 2 / 3


def test_write_table_xlsx_keeps_texts_as_texts(tmp_path):
    """A name with a control character (pasted from another program) stopped the Excel
    output with openpyxl's IllegalCharacterError, and a name starting with "=" became a
    formula (Excel showed its result or #NAME? instead of the name)."""
    from openpyxl import load_workbook

    table = pd.DataFrame({"name": ["=1+1 Consulting", "Berg\x0btec\x01 KG", "plain"],
                          "topics": [["=a", "b"], [], ["c"]], "score": [1.5, 2.0, 3.0]})  # fmt: skip
    path = tmp_path / "smes.xlsx"
    write_table(table, path)
    sheet = load_workbook(path).active
    assert [(c.value, c.data_type) for c in sheet["A"][1:]] == [
        ("=1+1 Consulting", "s"), ("Berg_x000B_tec_x0001_ KG", "s"), ("plain", "s")]  # fmt: skip
    assert (sheet["B2"].value, sheet["B2"].data_type) == ("=a; b", "s")
    assert sheet["C2"].value == 1.5


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_write_table_failure_leaves_the_earlier_file(tmp_path, monkeypatch, suffix):
    """A write that fails half-way (a full disk, an interrupted run) leaves the earlier file of
    that name as it was and no temporary file: the table is written under a temporary name
    and renamed when complete."""
    import innoweave.cli.common as common

    path = tmp_path / f"smes{suffix}"
    path.write_text("earlier results\n")

    def half_then_fail(self, target, *args, **kwargs):
        open(target, "w").write("org_id,na")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_fail)
    monkeypatch.setattr(common, "_write_xlsx", lambda table, target, *a: half_then_fail(table, target))
    with pytest.raises(OSError):
        write_table(pd.DataFrame({"org_id": ["a"], "name": ["b"]}), path)
    assert path.read_text() == "earlier results\n"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
