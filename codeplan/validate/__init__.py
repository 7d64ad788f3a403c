"""Validating an edited tree: the oracle interface and the local (no Docker) oracle."""

from codeplan.validate.local import LocalOracle
from codeplan.validate.model import (
    CheckResult,
    Diagnostic,
    Location,
    Oracle,
    ValidationReport,
)
from codeplan.validate.settings import LocalOracleSettings, oracle_settings

__all__ = [
    "CheckResult",
    "Diagnostic",
    "LocalOracle",
    "LocalOracleSettings",
    "Location",
    "Oracle",
    "ValidationReport",
    "oracle_settings",
]
