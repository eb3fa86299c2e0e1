"""The public namespace exports what it declares."""

import innoweave


def test_all_names_resolve():
    for name in innoweave.__all__:
        assert getattr(innoweave, name) is not None, name
    assert innoweave.__version__


def test_settings_objects_take_their_options_by_keyword_only():
    """Thresholds and model parameters are many numbers of one type: a positional call would
    silently bind them in the wrong order, so it is refused."""
    import dataclasses

    import pytest

    from innoweave.simulation.params import KnowledgeParams, Mechanisms

    with pytest.raises(TypeError):
        innoweave.StageRules(3.0, 50.0)
    with pytest.raises(TypeError):
        innoweave.ModelParams(KnowledgeParams())
    with pytest.raises(TypeError):
        Mechanisms(True)
    rules = innoweave.StageRules(startup_max_age=4.0)
    assert rules.startup_max_age == 4.0
    assert dataclasses.replace(rules, startup_max_age=6.0).startup_max_age == 6.0
    for cls in (innoweave.StageRules, innoweave.ModelParams):
        assert all(f.kw_only for f in dataclasses.fields(cls)), cls


def test_helpers_used_beside_the_estimators_are_exported():
    import numpy as np

    from innoweave import matching, simulation

    assert innoweave.gini is matching.gini
    # log p shifted so that the least likely pair has 1
    assert np.allclose(matching.assignment_quality([0.5, 0.25]), [1 + np.log(2), 1.0])
    assert innoweave.example_scenarios is simulation.example_scenarios
    assert "baseline" in simulation.example_scenarios()
    assert innoweave.plot_comparison is simulation.plot_comparison
    for module in (matching, simulation):
        for name in module.__all__:
            assert getattr(module, name) is not None, (module.__name__, name)
