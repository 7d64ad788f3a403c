"""The languages CodePlan analyses: Python first-class, others through query files."""

from __future__ import annotations

from codeplan.graph.analyzer import LanguageAnalyzer
from codeplan.graph.python import PythonAnalyzer


def default_analyzers() -> list[LanguageAnalyzer]:
    analyzers: list[LanguageAnalyzer] = [PythonAnalyzer()]
    try:
        from codeplan.graph.generic import generic_analyzers
    except ImportError:  # pragma: no cover - while the generic analyzers are not present
        return analyzers
    return analyzers + list(generic_analyzers())
