"""The settings protocol every analysis object shares.

Analysis objects are estimator-style (the project's style guide, after scikit-learn): settings in
``__init__``, stored as given under the same names; work in ``fit`` returning ``self``;
learned state in attributes ending in ``_``. :class:`Estimator` adds the settings protocol
scikit-learn's tools rely on — ``get_params(deep=True)``, ``set_params(**settings)`` and a
``repr`` naming the settings that differ from the defaults — so that
``sklearn.base.clone`` copies an unfitted object and a sweep can change one setting at a
time. Nested settings (an estimator held as a setting) read and write as
``setting__subsetting``.
"""

from __future__ import annotations

import inspect
from typing import Any


class Estimator:
    """Mixin: the settings of an analysis object are the parameters of its ``__init__``."""

    @classmethod
    def _setting_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        names = []
        for p in signature.parameters.values():
            if p.name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ takes *{p.name}: its settings must be named")
            names.append(p.name)
        return names

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The settings as given to ``__init__`` (or :meth:`set_params`); with ``deep``, those
        of an estimator held as a setting too, as ``setting__subsetting``."""
        out: dict[str, Any] = {}
        for name in self._setting_names():
            value = getattr(self, name)
            out[name] = value
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params(deep=True).items())
        return out

    def set_params(self, **settings: Any) -> Estimator:
        """Change settings (checked, as the others, when ``fit`` runs); an unknown name raises
        ``ValueError`` naming the settings there are. Returns ``self``."""
        names = self._setting_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in settings.items():
            name, _, sub = key.partition("__")
            if name not in names:
                raise ValueError(f"{type(self).__name__} has no setting {name!r}; settings: {', '.join(names)}")
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_settings in nested.items():
            held = getattr(self, name)
            if not hasattr(held, "set_params"):
                raise ValueError(f"{type(self).__name__}.{name} holds no settings of its own to set "
                                 f"({', '.join(sub_settings)})")  # fmt: skip
            held.set_params(**sub_settings)
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        shown = []
        for name in self._setting_names():
            value = getattr(self, name, None)
            default = defaults.get(name, inspect.Parameter.empty)
            try:
                same = default is not inspect.Parameter.empty and bool(value == default)
            except (TypeError, ValueError):  # arrays, frames: show them by type
                same = False
            if not same:
                text = repr(value)
                shown.append(f"{name}={text if len(text) <= 60 else f'<{type(value).__name__}>'}")
        return f"{type(self).__name__}({', '.join(shown)})"
