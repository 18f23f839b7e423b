"""griffe extension for the API reference: docstrings as ``help()`` shows them, without Sphinx markup.

* A class whose docstring is built at import time (``__doc__ = f"..."``: ``core.sklearn.NetClassifier`` and
  ``NetRegressor``, the seed ensembles of ``core.ensemble``, which share their parameter documentation) gets its
  runtime ``__doc__``: the module is imported and the class's ``__doc__`` read, since static analysis cannot
  evaluate the f-string.
* Sphinx roles (``:func:`core.training.fit```, ``:class:`~core.network.Sequential```) become inline code, which
  Markdown renders; they would otherwise show as raw text.
"""
from __future__ import annotations

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
        if cls.docstring is not None or "__doc__" not in cls.members:
            return
        runtime = importlib.import_module(cls.module.path)
        for name in cls.path[len(cls.module.path) + 1:].split("."):
            runtime = getattr(runtime, name)
        doc = getattr(runtime, "__doc__", None)
        if doc:
            cls.docstring = griffe.Docstring(_plain(inspect.cleandoc(doc)), lineno=cls.lineno, parent=cls,
                                             parser="numpy")
        del cls.members["__doc__"]
