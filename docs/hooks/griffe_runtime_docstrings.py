"""griffe extension for the API reference: docstrings as ``help()`` shows them, without Sphinx markup.

* A class whose docstring is built at import time (``__doc__ = f"..."``: ``core.sklearn.NetClassifier`` and
  ``NetRegressor``, the seed ensembles of ``core.ensemble``, which share their parameter documentation) gets its
  runtime ``__doc__``: the module is imported and the class's ``__doc__`` read, since static analysis cannot
  evaluate the f-string.
* A config schema (a dataclass of :mod:`physics.app.schema` whose fields are made by ``param``) gets a Parameters
  section built from its fields: type, default, the ``help`` text and the allowed values, the same words that
  ``--help`` prints (one source of truth: nothing is written twice).
* Sphinx roles (``:func:`core.training.fit```, ``:class:`~core.network.Sequential```) become inline code, which
  Markdown renders; they would otherwise show as raw text.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:mod|func|class|meth|data|attr|obj|exc|const|ref):`~?([^`]+)`")


def _plain(text: str) -> str:
    return ROLE.sub(r"`\1`", text)


class RuntimeDocstrings(griffe.Extension):
    """See the module docstring."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _plain(obj.docstring.value)

    def on_class_members(self, *, cls: griffe.Class, **kwargs) -> None:
        if cls.path.startswith("physics.app.") and cls.docstring is not None \
                and "Parameters\n---" not in cls.docstring.value:
            fields = _schema_fields(_runtime(cls))
            if fields:
                cls.docstring = griffe.Docstring(f"{cls.docstring.value}\n\nParameters\n----------\n{fields}",
                                                 lineno=cls.docstring.lineno, parent=cls, parser="numpy")
        if cls.docstring is not None or "__doc__" not in cls.members:
            return
        runtime = _runtime(cls)
        doc = getattr(runtime, "__doc__", None)
        if doc:
            cls.docstring = griffe.Docstring(_plain(inspect.cleandoc(doc)), lineno=cls.lineno, parent=cls,
                                             parser="numpy")
        del cls.members["__doc__"]


def _runtime(cls: griffe.Class):
    """The class object that ``cls`` describes (its module imported)."""
    runtime = importlib.import_module(cls.module.path)
    for name in cls.path[len(cls.module.path) + 1:].split("."):
        runtime = getattr(runtime, name)
    return runtime


def _schema_fields(runtime) -> str:
    """numpydoc Parameters entries of a config schema's fields ("" for anything else)."""
    from physics.app.schema import Schema, allowed_values, interval

    if not (inspect.isclass(runtime) and issubclass(runtime, Schema) and dataclasses.is_dataclass(runtime)):
        return ""
    entries = []
    for spec in dataclasses.fields(runtime):
        if "help" not in spec.metadata:
            continue
        if spec.default is not dataclasses.MISSING:
            default = f", default {spec.default!r}"
        elif spec.default_factory is not dataclasses.MISSING:
            default = f", default {spec.default_factory()!r}"
        else:
            default = ""
        kind = getattr(spec.type, "__name__", None) or str(spec.type).replace("typing.", "")
        choices, bounds = allowed_values(spec), interval(spec)
        allowed = f" One of: {', '.join(map(str, choices))}." if choices else f" {str(bounds).capitalize()}." \
            if bounds else ""
        entries.append(f"{spec.name} : {kind}{default}\n    {_plain(spec.metadata['help'])}.{allowed}")
    return "\n".join(entries)
