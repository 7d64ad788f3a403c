"""The languages CodePlan analyses: Python first-class, others through query files."""

from __future__ import annotations

from codeplan.graph.analyzer import LanguageAnalyzer
from codeplan.graph.generic import generic_analyzers
from codeplan.graph.python import PythonAnalyzer


def default_analyzers() -> list[LanguageAnalyzer]:
    return [PythonAnalyzer(), *generic_analyzers()]
