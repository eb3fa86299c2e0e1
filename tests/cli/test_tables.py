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


def test_check_table_path_names_the_option(tmp_path):
    import typer

    check_table_path(None)
    check_table_path(tmp_path / "x.xlsx")
    with pytest.raises(typer.Exit) as exc:
        check_table_path(tmp_path / "x.parquet", "--plan")
    assert exc.value.exit_code == 2
