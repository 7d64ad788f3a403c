"""Environment detection on synthetic repositories (and on this one), the dependency digest,
and the `[sandbox]` settings with their environment defaults."""

from __future__ import annotations

import shlex
import textwrap
from pathlib import Path
from typing import Any

import pytest

from codeplan.config import read_config
from codeplan.errors import ConfigError
from codeplan.sandbox.detect import dependency_digest, detect_environment, newest_satisfying
from codeplan.sandbox.model import EnvironmentSpec, Limits
from codeplan.sandbox.requirements import poetry_constraint
from codeplan.sandbox.settings import make_spec, sandbox_settings

PIP = "python -m pip install"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


def detect(
    root: Path, files: dict[str, str], config: dict[str, Any] | None = None
) -> EnvironmentSpec:
    return detect_environment(write(root, files), config or {})


def installed(spec: EnvironmentSpec) -> list[str]:
    """Every argument of every pip install command, in order."""
    words: list[str] = []
    for command in spec.install:
        assert command.startswith(PIP), command
        words += shlex.split(command.removeprefix(PIP))
    return words


# -- detection paths --------------------------------------------------------------------


def test_pep621_dependencies_test_and_dev_extras_and_build_system(tmp_path: Path) -> None:
    spec = detect(
        tmp_path,
        {
            "pyproject.toml": """
                [build-system]
                requires = ["setuptools>=61"]
                [project]
                name = "My_Pkg"
                requires-python = ">=3.9,<3.12"
                dependencies = ["requests>=2", "tomli; python_version < '3.11'"]
                [project.optional-dependencies]
                test = ["pytest>=7", "my-pkg[dev]"]
                dev = ["black"]
                docs = ["sphinx"]
                [dependency-groups]
                lint = ["ruff"]
                test = ["coverage", {include-group = "lint"}]
            """,
            "src/my_pkg/__init__.py": "",
            "uv.lock": "version = 1\n",
        },
    )
    assert spec.python == "3.11"
    assert "requires-python >=3.9,<3.12 in pyproject.toml" in spec.evidence["python"]
    assert spec.install == (
        f"{PIP} 'requests>=2' 'tomli; python_version < \"3.11\"' 'pytest>=7' black coverage "
        "ruff 'setuptools>=61'",
    )
    assert "sphinx" not in installed(spec)  # docs extras are not needed for tests
    assert spec.test == "python -m pytest"
    assert spec.dependency_files == ("pyproject.toml", "uv.lock")
    assert not spec.needs_source
    assert "extras test, dev" in spec.evidence["install"]


@pytest.mark.parametrize(
    ("requires", "expected"),
    [
        (">=3.8", "3.13"),
        (">=3.8,<3.11", "3.10"),
        ("~=3.9", "3.13"),
        ("~=3.9.2", "3.9"),
        ("^3.8", "3.13"),
        ("~3.10", "3.10"),
        (">=3.9, !=3.13.*", "3.12"),
        ("==3.10.*", "3.10"),
        ("<=3.9", "3.9"),
        (">=3.7 <3.10", "3.9"),
        (">=3.8,<3.9 || >=3.11,<3.12", "3.11"),
        ("*", "3.13"),
        ("<3.0", None),
    ],
)
def test_requires_python_picks_the_newest_satisfying(requires: str, expected: str | None) -> None:
    assert newest_satisfying(requires) == expected


def test_python_version_file_comes_before_requires_python(tmp_path: Path) -> None:
    spec = detect(
        tmp_path,
        {
            ".python-version": "3.10.4\n",
            "pyproject.toml": '[project]\nname = "x"\nrequires-python = ">=3.8"\n',
        },
    )
    assert spec.python == "3.10"
    assert spec.evidence["python"] == "3.10 in .python-version"
    assert ".python-version" in spec.dependency_files


def test_poetry_caret_tilde_dev_group_and_skipped_dependencies(tmp_path: Path) -> None:
    spec = detect(
        tmp_path,
        {
            "pyproject.toml": """
                [tool.poetry]
                name = "app"
                [tool.poetry.dependencies]
                python = "^3.9"
                requests = "^2.28"
                click = "~8.1"
                anything = "*"
                exact = "1.4.2"
                uvicorn = { version = "^0.23.1", extras = ["standard"] }
                local = { path = "../local" }
                fromgit = { git = "https://example.com/x.git" }
                [tool.poetry.group.dev.dependencies]
                pytest = "^7.4"
                [tool.poetry.group.docs.dependencies]
                mkdocs = "*"
            """,
            "poetry.lock": "# lock\n",
        },
    )
    assert spec.python == "3.13"
    assert installed(spec) == [
        "requests>=2.28,<3.0",
        "click>=8.1,<8.2",
        "anything",
        "exact==1.4.2",
        "uvicorn[standard]>=0.23.1,<0.24.0",
        "pytest>=7.4,<8.0",
    ]
    assert spec.dependency_files == ("poetry.lock", "pyproject.toml")


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("^1.2", ">=1.2,<2.0"),
        ("^0.2.3", ">=0.2.3,<0.3.0"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("~1.2", ">=1.2,<1.3"),
        ("~1.2.3", ">=1.2.3,<1.3.0"),
        ("~=1.2", "~=1.2"),
        (">=1.2 <2", ">=1.2,<2"),
        ("1.2.*", "==1.2.*"),
        ("*", ""),
        ("^1.0 || ^2.0", ""),
    ],
)
def test_poetry_constraints_become_pip_specifiers(constraint: str, expected: str) -> None:
    assert poetry_constraint(constraint) == expected


def test_requirements_files_main_first_then_test_and_dev(tmp_path: Path) -> None:
    spec = detect(
        tmp_path,
        {
            "requirements.txt": "flask>=2\n-c constraints.txt\n",
            "constraints.txt": "werkzeug<3\n",
            "requirements-dev.txt": "-r requirements.txt\npytest\n",
            "requirements-docs.txt": "sphinx\n",
            "requirements/test.txt": "hypothesis  # properties\n",
            "setup.py": "from setuptools import setup\nsetup(name='x')\n",
        },
    )
    assert spec.install == (
        f"{PIP} -r requirements.txt -r requirements-dev.txt -r requirements/test.txt",
    )
    assert spec.dependency_files == (
        "constraints.txt",
        "requirements-dev.txt",
        "requirements.txt",
        "requirements/test.txt",
    )
    assert not spec.needs_source


def test_requirements_with_editable_tree_need_the_source(tmp_path: Path) -> None:
    spec = detect(tmp_path, {"requirements.txt": "-e .\nnumpy\n"})
    assert spec.needs_source
    assert spec.install == (f"{PIP} -r requirements.txt", f"{PIP} pytest")


def test_setup_cfg_install_tests_and_extras(tmp_path: Path) -> None:
    spec = detect(
        tmp_path,
        {
            "setup.cfg": """
                [metadata]
                name = lib
                classifiers =
                    Programming Language :: Python :: 3.9
                    Programming Language :: Python :: 3.10
                [options]
                python_requires = >=3.8
                install_requires =
                    attrs>=22
                    # a comment
                    six
                tests_require = mock
                [options.extras_require]
                testing = pytest-cov
                docs = sphinx
            """,
            "setup.py": "import setuptools\nsetuptools.setup()\n",
        },
    )
    assert installed(spec) == ["attrs>=22", "six", "mock", "pytest-cov", "pytest"]
    assert spec.python == "3.13"
    assert "python_requires >=3.8" in spec.evidence["python"]
    assert spec.dependency_files == ("setup.cfg", "setup.py")
    assert not spec.needs_source


def test_literal_setup_py_read_with_ast(tmp_path: Path) -> None:
    spec = detect(
        tmp_path,
        {
            "setup.py": """
                from setuptools import setup
                REQUIRES = ["django>=4.2", "pillow"]
                setup(
                    name="site",
                    install_requires=REQUIRES,
                    extras_require={"test": ["pytest-django"], "docs": ["sphinx"]},
                    classifiers=["Programming Language :: Python :: 3.11"],
                )
            """
        },
    )
    assert installed(spec) == ["django>=4.2", "pillow", "pytest-django", "pytest"]
    assert spec.python == "3.11"
    assert spec.evidence["python"] == "classifiers in setup.py → 3.11"
    assert not spec.needs_source


def test_computed_setup_py_needs_the_source(tmp_path: Path) -> None:
    spec = detect(
        tmp_path,
        {
            "setup.py": """
                from setuptools import setup
                setup(
                    name="old",
                    install_requires=open("deps.in").read().splitlines(),
                    extras_require={"tests": ["nose"]},
                )
            """
        },
    )
    assert spec.needs_source
    # pytest comes last: the computed requirements may pin another one, then it is a no-op
    assert spec.install == (f"{PIP} nose", f"{PIP} -e '.[tests]'", f"{PIP} pytest")
    assert spec.dependency_files == ("setup.py",)
    assert "pip install -e .[tests]" in spec.evidence["install"]


def test_setup_py_with_kwargs_needs_the_source_without_extras(tmp_path: Path) -> None:
    spec = detect(tmp_path, {"setup.py": "from setuptools import setup\nsetup(**META)\n"})
    assert spec.needs_source
    assert spec.install == (f"{PIP} -e .", f"{PIP} pytest")


def test_tox_commands_deps_and_envlist(tmp_path: Path) -> None:
    spec = detect(
        tmp_path,
        {
            "tox.ini": """
                [tox]
                envlist = py{39,310,311}-django, lint
                [testenv]
                deps =
                    -r{toxinidir}/requirements.txt
                    pytest-xdist
                extras = fast
                commands =
                    python -c "print('hello')"
                    pytest -n 2 {posargs:tests}
            """,
            "requirements.txt": "pytest\n",
            "pyproject.toml": """
                [project]
                name = "p"
                dependencies = ["rich"]
                [project.optional-dependencies]
                fast = ["orjson"]
            """,
        },
    )
    assert spec.test == "python -m pytest -n 2"
    assert spec.python == "3.11"
    assert spec.evidence["python"] == "envlist in tox.ini → 3.11"
    assert spec.install == (f"{PIP} -r requirements.txt", f"{PIP} rich orjson pytest-xdist")
    assert spec.dependency_files == ("pyproject.toml", "requirements.txt", "tox.ini")


def test_tox_without_pytest_keeps_the_default_command(tmp_path: Path) -> None:
    spec = detect(tmp_path, {"tox.ini": "[testenv]\ncommands = python -m unittest\n"})
    assert spec.test == "python -m pytest"
    assert spec.install == (f"{PIP} pytest",)
    assert spec.dependency_files == ()


def test_github_workflow_matrix(tmp_path: Path) -> None:
    spec = detect(
        tmp_path,
        {
            ".github/workflows/ci.yml": """
                jobs:
                  test:
                    strategy:
                      matrix:
                        python-version: ["3.9", "3.10", '3.12']
                    steps:
                      - uses: actions/setup-python@v5
                        with:
                          python-version: ${{ matrix.python-version }}
            """,
            ".github/workflows/docs.yaml": """
                jobs:
                  docs:
                    strategy:
                      matrix:
                        python-version:
                          - 3.8
                          - "3.11"
            """,
            ".github/workflows/release.yml": "on: push\n",
        },
    )
    assert spec.python == "3.12"
    assert spec.dependency_files == (".github/workflows/ci.yml", ".github/workflows/docs.yaml")


def test_default_python_and_pytest_only(tmp_path: Path) -> None:
    spec = detect(tmp_path, {"pkg/mod.py": "x = 1\n"})
    assert (spec.python, spec.install, spec.dependency_files) == ("3.11", (f"{PIP} pytest",), ())
    assert spec.evidence["install"] == "pytest added for the test command"


def test_configuration_overrides_detection(tmp_path: Path) -> None:
    config = {
        "sandbox": {
            "python": "3.12",
            "install": "python -m pip install -r ci/reqs.txt && python -m pip install -e .",
            "setup": ["python manage.py migrate"],
            "test": "python -m unittest discover",
            "env": {"DJANGO_SETTINGS_MODULE": "site.settings"},
        }
    }
    spec = detect(
        tmp_path,
        {"ci/reqs.txt": "django\n", "requirements.txt": "flask\n", ".python-version": "3.9\n"},
        config,
    )
    assert spec.python == "3.12"
    assert spec.install == (config["sandbox"]["install"],)
    assert spec.setup == ("python manage.py migrate",)
    assert spec.test == "python -m unittest discover"
    assert spec.env == {"DJANGO_SETTINGS_MODULE": "site.settings"}
    # the named file is in the build context; the detected ones stay in the key
    assert spec.dependency_files == ("ci/reqs.txt", "requirements.txt")
    assert spec.needs_source
    assert spec.evidence["install"] == "[sandbox] install in the configuration"


def test_pytest_appended_only_when_absent(tmp_path: Path) -> None:
    with_pytest = detect(tmp_path / "a", {"requirements.txt": "pytest==8.0\n"})
    assert with_pytest.install == (f"{PIP} -r requirements.txt",)
    other_runner = detect(
        tmp_path / "b", {"requirements.txt": "nose\n"}, {"sandbox": {"test": "nosetests"}}
    )
    assert other_runner.install == (f"{PIP} -r requirements.txt",)


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"python": 3.11}, "python"),
        ({"install": [1]}, "install"),
        ({"setup": ""}, "setup"),
        ({"test": ""}, "test"),
        ({"env": {"TOKEN": 1}}, "env.TOKEN"),
    ],
)
def test_bad_detection_settings_name_the_key(
    tmp_path: Path, section: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError, match=rf"\[sandbox\] {key}"):
        detect_environment(tmp_path, {"sandbox": section})


def test_this_repository(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    spec = detect_environment(root, read_config(root))
    assert spec.python == "3.13"
    assert spec.evidence["python"].startswith("requires-python >=3.10 in pyproject.toml")
    words = installed(spec)
    assert {"networkx>=3.2", "pytest>=8", "hypothesis>=6.100", "hatchling>=1.21"} <= set(words)
    assert "pyproject.toml" in spec.dependency_files
    assert not spec.needs_source


# -- the digest and the environment key -------------------------------------------------


def test_digest_follows_dependency_files_only(tmp_path: Path) -> None:
    files = {"requirements.txt": "flask\n", "app.py": "print(1)\n"}
    root = write(tmp_path, files)
    spec = make_spec(root, {}, {}, "python:3.11-slim")
    assert spec.dependency_digest == dependency_digest(root, ["requirements.txt"])
    assert len(spec.dependency_digest) == 32

    (root / "app.py").write_text("print(2)\n")
    same = make_spec(root, {}, {}, "python:3.11-slim")
    assert same.dependency_digest == spec.dependency_digest
    assert same.environment_key == spec.environment_key

    (root / "requirements.txt").write_text("flask>=3\n")
    changed = make_spec(root, {}, {}, "python:3.11-slim")
    assert changed.dependency_digest != spec.dependency_digest
    assert changed.environment_key != spec.environment_key


def test_digest_is_order_independent_and_tells_paths_apart(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": "x", "b.txt": "x"})
    assert dependency_digest(tmp_path, ["a.txt", "b.txt"]) == dependency_digest(
        tmp_path, ["b.txt", "a.txt"]
    )
    assert dependency_digest(tmp_path, ["a.txt"]) != dependency_digest(tmp_path, ["b.txt"])
    assert dependency_digest(tmp_path, ["missing.txt"]) != dependency_digest(tmp_path, [])


# -- settings ---------------------------------------------------------------------------


def test_settings_defaults_with_an_empty_environment(tmp_path: Path) -> None:
    settings = sandbox_settings({}, {}, system_pip_configs=())
    assert settings.base_image is None
    assert settings.limits == Limits()
    assert settings.backend == "docker"
    assert settings.network.proxies == {}
    assert settings.network.index_url is None
    assert settings.network.ca_bundle is None


def test_settings_from_the_configuration(tmp_path: Path) -> None:
    bundle = write(tmp_path, {"corp.pem": "CERT"}) / "corp.pem"
    config = {
        "sandbox": {
            "base_image": "python:3.12-slim",
            "cpus": 1.5,
            "memory_mb": 1024,
            "pids": 256,
            "timeout_seconds": 60,
            "backend": "local",
            "index_url": "https://mirror/simple",
            "ca_bundle": str(bundle),
            "proxies": {"https": "http://cfg:3128", "NO_PROXY": "", "http_proxy": "http://h"},
        }
    }
    env = {"HTTPS_PROXY": "http://env:1", "NO_PROXY": "localhost", "PIP_INDEX_URL": "https://e"}
    settings = sandbox_settings(config, env, system_pip_configs=())
    assert settings.base_image == "python:3.12-slim"
    assert settings.limits == Limits(cpus=1.5, memory_mb=1024, pids=256, timeout_seconds=60.0)
    assert settings.backend == "local"
    assert settings.network.index_url == "https://mirror/simple"
    assert settings.network.ca_bundle == str(bundle)
    # configuration beats the environment; an empty value drops the inherited one
    assert settings.network.proxies == {"HTTPS_PROXY": "http://cfg:3128", "HTTP_PROXY": "http://h"}


def test_proxies_and_index_from_the_environment() -> None:
    env = {
        "http_proxy": "http://lower:1",
        "HTTP_PROXY": "http://upper:1",
        "HTTPS_PROXY": "http://s:2",
        "no_proxy": "localhost,.corp",
        "PIP_INDEX_URL": "https://mirror/simple",
    }
    network = sandbox_settings({}, env, system_pip_configs=()).network
    assert network.proxies == {
        "HTTP_PROXY": "http://lower:1",
        "HTTPS_PROXY": "http://s:2",
        "NO_PROXY": "localhost,.corp",
    }
    assert network.index_url == "https://mirror/simple"


def test_ca_bundle_precedence(tmp_path: Path) -> None:
    pems = {name: str(write(tmp_path, {name: "C"}) / name) for name in ("pip", "req", "ssl")}
    system = write(tmp_path, {"etc/pip.conf": "[global]\ncert = " + pems["ssl"] + "\n"})
    user = write(tmp_path, {"home/.config/pip/pip.conf": "[global]\ncert = " + pems["req"]})

    def bundle(env: dict[str, str]) -> str | None:
        configs = (system / "etc" / "pip.conf",)
        return sandbox_settings({}, env, system_pip_configs=configs).network.ca_bundle

    full = {
        "PIP_CERT": pems["pip"],
        "REQUESTS_CA_BUNDLE": pems["req"],
        "SSL_CERT_FILE": pems["ssl"],
    }
    assert bundle(full) == pems["pip"]
    assert bundle({**full, "PIP_CERT": str(tmp_path / "gone.pem")}) == pems["req"]
    assert bundle({"SSL_CERT_FILE": pems["ssl"]}) == pems["ssl"]
    # pip's files: the user's wins over the system's, PIP_CONFIG_FILE over both
    assert bundle({}) == pems["ssl"]
    assert bundle({"HOME": str(user / "home")}) == pems["req"]
    own = write(tmp_path, {"own.conf": "[global]\ncert = " + pems["pip"]}) / "own.conf"
    assert bundle({"HOME": str(user / "home"), "PIP_CONFIG_FILE": str(own)}) == pems["pip"]
    missing = write(tmp_path, {"bad.conf": "[global]\ncert = /nowhere.pem\n"}) / "bad.conf"
    # pip's effective cert is the last one set: when it is missing, there is none to pass
    assert bundle({"PIP_CONFIG_FILE": str(missing)}) is None


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"imagee": "x"}, "imagee"),
        ({"cpus": 0}, "cpus"),
        ({"cpus": True}, "cpus"),
        ({"memory_mb": 1.5}, "memory_mb"),
        ({"pids": "many"}, "pids"),
        ({"timeout_seconds": -1}, "timeout_seconds"),
        ({"backend": "podman"}, "backend"),
        ({"base_image": 3}, "base_image"),
        ({"index_url": ""}, "index_url"),
        ({"ca_bundle": "/no/such.pem"}, "ca_bundle"),
        ({"proxies": "http://p"}, "proxies"),
        ({"proxies": {"ftp": "x"}}, "proxies.ftp"),
        ({"proxies": {"https": 1}}, "proxies.https"),
    ],
)
def test_bad_settings_name_the_key(section: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        sandbox_settings({"sandbox": section}, {}, system_pip_configs=())


def test_sandbox_must_be_a_table() -> None:
    with pytest.raises(ConfigError, match=r"\[sandbox\]"):
        sandbox_settings({"sandbox": "docker"}, {})


def test_tox_substitutions_that_leave_an_empty_option_value_are_dropped(tmp_path: Path) -> None:
    spec = detect(
        tmp_path,
        {
            "tox.ini": """
                [testenv]
                commands = pytest --basetemp={envtmpdir} -q {posargs}
            """,
        },
    )
    assert spec.test == "python -m pytest -q"
