"""The environment variables that hold credentials: their values are never written to
logs, states, prompts or caches, and the code under test never sees them."""

from __future__ import annotations

import os
from collections.abc import Mapping

SECRET_NAMES = (
    "OPENAI_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "INPUT_API-KEY",
    "INPUT_GITHUB-TOKEN",
)


def environment_secrets(env: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    """Values that must never be written anywhere."""
    return tuple(env[n] for n in SECRET_NAMES if env.get(n))


def without_secrets(env: Mapping[str, str]) -> dict[str, str]:
    """`env` for a subprocess running the repository's own code (its tests, its type
    checker): an edit or a test must not be able to read the user's credentials."""
    return {k: v for k, v in env.items() if k not in SECRET_NAMES}
