"""The public namespace exports what it declares."""

import innoweave


def test_all_names_resolve():
    for name in innoweave.__all__:
        assert getattr(innoweave, name) is not None, name
    assert innoweave.__version__
