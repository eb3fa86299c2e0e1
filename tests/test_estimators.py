"""Every analysis object follows one settings protocol (``innoweave.estimator.Estimator``):
``get_params`` gives the ``__init__`` settings, ``set_params`` changes them and refuses a name
there is not, ``sklearn.base.clone`` copies an unfitted object, and the repr names the
settings that differ from the defaults. ``clone`` failed on every one of them before
(``get_params`` missing, or without ``deep``)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from sklearn.base import clone

import innoweave
from innoweave.diagnosis.composite import CompositeIndex
from innoweave.diagnosis.sme import sme_hierarchy
from innoweave.diagnosis.uncertainty import UncertaintyAnalysis
from innoweave.estimator import Estimator


def _analysis_classes() -> list[type]:
    """Every class of the package with a ``fit`` (the CLI aside)."""
    found = []
    for info in pkgutil.walk_packages(innoweave.__path__, "innoweave."):
        if info.name.startswith("innoweave.cli") or info.name == "innoweave.__main__":
            continue
        module = importlib.import_module(info.name)
        found += [c for _, c in inspect.getmembers(module, inspect.isclass)
                  if c.__module__ == info.name and callable(getattr(c, "fit", None))]  # fmt: skip
    return sorted(set(found), key=lambda c: c.__qualname__)


def _instance(cls: type):
    if cls is CompositeIndex:
        return CompositeIndex(sme_hierarchy(), scale=(1, 100))
    if cls is UncertaintyAnalysis:
        return UncertaintyAnalysis(CompositeIndex(sme_hierarchy()), {"scale": [{"scale": (1, 100)}]}, n_draws=5)
    return cls()


CLASSES = _analysis_classes()


def test_every_analysis_object_is_found_and_shares_the_protocol():
    names = {c.__name__ for c in CLASSES}
    assert {"PartnerRecommender", "SMEDiagnoser", "LocationQuotients", "CollaborationCommunities",
            "Calibration", "StylisedFacts", "AttributeModel", "LearnedRanker"} <= names  # fmt: skip
    assert [c.__name__ for c in CLASSES if not issubclass(c, Estimator)] == []


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_settings_protocol(cls):
    est = _instance(cls)
    names = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    assert list(est.get_params(deep=False)) == names
    copy = clone(est)  # sklearn checks that every setting is passed on unchanged
    assert type(copy) is cls and copy is not est
    assert copy.get_params(deep=False).keys() == est.get_params(deep=False).keys()
    with pytest.raises(ValueError, match=rf"{cls.__name__} has no setting 'nope'; settings: {names[0]}"):
        est.set_params(nope=1)
    assert repr(est).startswith(f"{cls.__name__}(")


def test_set_params_repr_and_nested_settings():
    from innoweave.matching import PartnerRecommender

    rec = PartnerRecommender()
    assert repr(rec) == "PartnerRecommender()"
    assert rec.set_params(seed=3, ranker="logistic") is rec and rec.seed == 3
    assert repr(rec) == "PartnerRecommender(ranker='logistic', seed=3)"
    assert clone(rec).get_params()["ranker"] == "logistic"
    sweep = UncertaintyAnalysis(CompositeIndex(sme_hierarchy()), {}, n_draws=5)
    params = sweep.get_params()
    assert params["base__scale"] == sweep.base.scale and "base__scale" not in sweep.get_params(deep=False)
    sweep.set_params(base__scale=(1, 100), n_draws=7)
    assert sweep.base.scale == (1, 100) and sweep.n_draws == 7
    with pytest.raises(ValueError, match="UncertaintyAnalysis.n_draws holds no settings of its own"):
        sweep.set_params(n_draws__x=1)
