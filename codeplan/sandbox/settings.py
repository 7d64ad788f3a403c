"""The sandbox's settings, from the `[sandbox]` configuration section and the environment.

[sandbox]
backend = "docker"                  # or "local" (a virtualenv in a temporary copy)
base_image = "python:3.12-slim"     # else chosen from the detected Python
cpus = 2.0
memory_mb = 2048
pids = 512
timeout_seconds = 900
index_url = "https://pypi.example/simple"         # else $PIP_INDEX_URL
ca_bundle = "/etc/ssl/corp.pem"     # else $PIP_CERT, $REQUESTS_CA_BUNDLE, $SSL_CERT_FILE, pip.conf
proxies = { https = "http://proxy:3128", no_proxy = "localhost" }  # else $HTTPS_PROXY...

python, install, setup, test and env are the detection's (codeplan.sandbox.detect).
"""

from __future__ import annotations

import configparser
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeplan.errors import ConfigError
from codeplan.sandbox.detect import dependency_digest, detect_environment, sandbox_section
from codeplan.sandbox.model import Limits, NetworkAccess, SandboxSpec

BACKENDS = ("docker", "local")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")
# pip's global configuration files, in the order pip reads them (a later one wins)
SYSTEM_PIP_CONFIGS = (Path("/etc/xdg/pip/pip.conf"), Path("/etc/pip.conf"))
_DETECTION_KEYS = ("python", "install", "setup", "test", "env")
_KEYS = (
    "backend",
    "base_image",
    "cpus",
    "memory_mb",
    "pids",
    "timeout_seconds",
    "index_url",
    "ca_bundle",
    "proxies",
    *_DETECTION_KEYS,
)


@dataclass(frozen=True)
class SandboxSettings:
    base_image: str | None = None  # None: chosen from the detected Python when building
    limits: Limits = field(default_factory=Limits)
    network: NetworkAccess = field(default_factory=NetworkAccess)
    backend: str = "docker"


def sandbox_settings(
    config: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    system_pip_configs: Sequence[Path] = SYSTEM_PIP_CONFIGS,
) -> SandboxSettings:
    """The `[sandbox]` settings, with the network's defaults taken from `env` (the caller's
    environment: a proxy or CA bundle the host needs, the build needs too)."""
    section = sandbox_section(config)
    unknown = sorted(set(section) - set(_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key(s) in [sandbox]: {', '.join(unknown)} (known: {', '.join(_KEYS)})"
        )
    defaults = Limits()
    limits = Limits(
        cpus=_positive(section, "cpus", defaults.cpus),
        memory_mb=int(_positive(section, "memory_mb", defaults.memory_mb, integer=True)),
        pids=int(_positive(section, "pids", defaults.pids, integer=True)),
        timeout_seconds=_positive(section, "timeout_seconds", defaults.timeout_seconds),
    )
    backend = section.get("backend", "docker")
    if backend not in BACKENDS:
        raise ConfigError(
            f"[sandbox] backend must be one of {', '.join(BACKENDS)}, not {backend!r}"
        )
    network = NetworkAccess(
        proxies=_proxies(section, env),
        index_url=_string(section, "index_url") or env.get("PIP_INDEX_URL") or None,
        ca_bundle=_ca_bundle(section, env, system_pip_configs),
    )
    return SandboxSettings(_string(section, "base_image"), limits, network, str(backend))


def make_spec(
    root: Path, config: Mapping[str, Any], env: Mapping[str, str], base_image: str
) -> SandboxSpec:
    """The repository's sandbox over `base_image`: detection, settings and the digest of the
    dependency files, which together key the environment image."""
    settings = sandbox_settings(config, env)
    environment = detect_environment(root, config)
    return SandboxSpec(
        base_image=base_image,
        environment=environment,
        dependency_digest=dependency_digest(root, environment.dependency_files),
        limits=settings.limits,
        network=settings.network,
    )


def _positive(section: Mapping[str, Any], key: str, default: float, integer: bool = False) -> float:
    value = section.get(key, default)
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not value > 0:
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"[sandbox] {key} must be {kind} above 0, not {value!r}")
    return float(value)


def _string(section: Mapping[str, Any], key: str) -> str | None:
    value = section.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"[sandbox] {key} must be a non-empty string, not {value!r}")
    return value.strip()


def _proxies(section: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    proxies: dict[str, str] = {}
    for variable in PROXY_VARIABLES:
        # the lower-case spelling wins, as in curl and Python's urllib
        value = env.get(variable.lower()) or env.get(variable)
        if value:
            proxies[variable] = value
    configured = section.get("proxies", {})
    if not isinstance(configured, Mapping):
        raise ConfigError("[sandbox] proxies must be a table, like { https = 'http://proxy:3128' }")
    for name, value in configured.items():
        variable = str(name).upper()
        variable = variable if variable.endswith("_PROXY") else f"{variable}_PROXY"
        if variable not in PROXY_VARIABLES:
            raise ConfigError(
                f"[sandbox] proxies.{name} is not a proxy setting (http, https or no_proxy)"
            )
        if not isinstance(value, str):
            raise ConfigError(f"[sandbox] proxies.{name} must be a string, not {value!r}")
        if value:
            proxies[variable] = value
        else:  # an empty string turns off the one inherited from the environment
            proxies.pop(variable, None)
    return proxies


def _ca_bundle(
    section: Mapping[str, Any], env: Mapping[str, str], system_pip_configs: Sequence[Path]
) -> str | None:
    configured = _string(section, "ca_bundle")
    if configured is not None:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise ConfigError(f"[sandbox] ca_bundle: no such file {configured!r}")
        return str(path)
    candidates = [env.get(name) for name in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")]
    candidates.append(_pip_config_cert(env, system_pip_configs))
    for candidate in candidates:
        # a stale variable pointing nowhere is skipped, not passed on to fail the build
        if candidate and Path(candidate).expanduser().is_file():
            return str(Path(candidate).expanduser())
    return None


def _pip_config_cert(env: Mapping[str, str], system_pip_configs: Sequence[Path]) -> str | None:
    """`cert` from pip's configuration files, read directly (`pip config list` is slow)."""
    home = Path(env["HOME"]) if env.get("HOME") else None
    xdg = env.get("XDG_CONFIG_HOME") or (str(home / ".config") if home else None)
    paths = list(system_pip_configs)
    paths += [home / ".pip" / "pip.conf"] if home else []
    paths += [Path(xdg) / "pip" / "pip.conf"] if xdg else []
    paths += [Path(env["PIP_CONFIG_FILE"])] if env.get("PIP_CONFIG_FILE") else []
    cert = None
    for path in paths:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        cert = parser.get("global", "cert", fallback=None) or cert
    return cert.strip() if cert else None
