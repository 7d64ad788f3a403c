"""The local oracle on real temporary projects: compile(), mypy and pytest run for real."""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from codeplan.errors import ConfigError, ValidationError
from codeplan.validate import (
    LocalOracle,
    LocalOracleSettings,
    Location,
    ValidationReport,
    oracle_settings,
)

INVENTORY = Path(__file__).resolve().parent.parent / "examples" / "inventory"

HELPER = """\
def divide(a: int, b: int) -> float:
    return a / b


def check(x: int) -> None:
    assert x > 0, "x must be positive"
"""

TESTS = """\
from pkg.helper import check, divide


def test_ok():
    assert divide(4, 2) == 2


def test_zero():
    assert divide(1, 0) == 0


class TestK:
    def test_check(self):
        check(-1)
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def files_in(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def oracle(**settings: Any) -> LocalOracle:
    defaults = LocalOracleSettings(test=None, python=sys.executable)
    return LocalOracle(dataclasses.replace(defaults, **settings))


def by_test(report: ValidationReport) -> dict[str | None, tuple[Location, ...]]:
    return {d.test_id: d.locations for d in report.diagnostics}


def test_a_syntax_error_in_a_changed_file_is_found_and_the_slow_checks_are_skipped(
    tmp_path: Path,
) -> None:
    write(tmp_path, {"good.py": "x = 1\n", "bad.py": "x = 1\n\ndef f(:\n", "README.md": "(:"})
    write(tmp_path, {"tests/test_x.py": "def test_x():\n    pass\n"})
    changed = ["good.py", "bad.py", "README.md", "deleted.py", "../outside.py"]
    report = oracle(test="auto").validate(tmp_path, changed)
    (diagnostic,) = report.diagnostics
    assert diagnostic.check == "compile"
    assert diagnostic.message.startswith("SyntaxError")
    assert diagnostic.locations == (Location("bad.py", 3),)
    assert [c.name for c in report.checks] == ["compile"]
    assert report.checks[0].exit_code == 1


def test_mypy_errors_become_diagnostics_at_their_lines(tmp_path: Path) -> None:
    typed = 'def f(x: int) -> str:\n    return x\n\n\nreveal_type(1)\nf("s")\n'
    write(tmp_path, {"pkg/__init__.py": "", "pkg/typed.py": typed, "pkg/fine.py": "y = 2\n"})
    report = oracle(typecheck="python -m mypy pkg").validate(tmp_path, ["pkg/typed.py"])
    assert [c.name for c in report.checks] == ["compile", "mypy"]
    assert report.checks[1].exit_code == 1
    assert [(d.check, d.locations) for d in report.diagnostics] == [
        ("mypy", (Location("pkg/typed.py", 2),)),
        ("mypy", (Location("pkg/typed.py", 6),)),
    ]
    assert report.diagnostics[0].message.startswith("Incompatible return value type")


def test_a_failing_typecheck_without_error_lines_is_one_diagnostic(tmp_path: Path) -> None:
    command = "python -c \"print('checker crashed'); raise SystemExit(3)\""
    report = oracle(typecheck=command).validate(tmp_path, [])
    (diagnostic,) = report.diagnostics
    assert diagnostic.check == "typecheck"
    assert "exited with code 3" in diagnostic.message.splitlines()[0]
    assert "checker crashed" in diagnostic.message


def test_failing_tests_point_at_the_innermost_repository_frame_first(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/__init__.py": "", "pkg/helper.py": HELPER, "tests/test_a.py": TESTS})
    before = files_in(tmp_path)
    report = oracle(test="python -m pytest").validate(tmp_path, [])
    assert report.checks[-1].name == "tests"
    assert report.checks[-1].exit_code == 1
    assert "2 failed, 1 passed" in report.checks[-1].output_tail
    assert by_test(report) == {
        "tests/test_a.py::test_zero": (
            Location("pkg/helper.py", 2),
            Location("tests/test_a.py", 9),
            Location("tests/test_a.py", 8),
        ),
        "tests/test_a.py::TestK::test_check": (
            Location("pkg/helper.py", 6),
            Location("tests/test_a.py", 14),
            Location("tests/test_a.py", 13),
        ),
    }
    assert report.diagnostics[0].message == "ZeroDivisionError: division by zero"
    assert {d.check for d in report.diagnostics} == {"tests"}
    # no cache, no bytecode, no JUnit report left in the validated tree
    assert files_in(tmp_path) == before


def test_collection_errors_are_diagnostics_of_the_edits(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/mod.py": "x = 1\ndef broken(:\n",
            "tests/test_viapkg.py": "from pkg.mod import x\n\ndef test_z():\n    pass\n",
            "tests/test_imp.py": "import nonexistent_mod_xyz\n\ndef test_x():\n    pass\n",
        },
    )
    report = oracle(test="python -m pytest").validate(tmp_path, [])
    assert report.checks[-1].exit_code == 2
    messages = {d.test_id: d.message for d in report.diagnostics}
    assert messages == {
        "tests/test_imp.py": "collection failure: ModuleNotFoundError: No module named "
        "'nonexistent_mod_xyz'",
        "tests/test_viapkg.py": "collection failure: SyntaxError: invalid syntax",
    }
    locations = by_test(report)
    assert locations["tests/test_viapkg.py"][0] == Location("pkg/mod.py", 2)
    assert locations["tests/test_imp.py"] == (Location("tests/test_imp.py", 1),)


def test_a_broken_conftest_is_a_diagnostic_from_the_output(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"tests/conftest.py": "import nothere_xyz\n", "tests/test_a.py": "def test_a(): pass\n"},
    )
    report = oracle(test="python -m pytest").validate(tmp_path, [])
    (diagnostic,) = report.diagnostics
    assert diagnostic.test_id is None
    assert "exited with code 4" in diagnostic.message.splitlines()[0]
    assert "No module named 'nothere_xyz'" in diagnostic.message
    assert diagnostic.locations == (Location("tests/conftest.py", 1),)


def test_no_tests_collected_is_not_a_failure(tmp_path: Path) -> None:
    write(tmp_path, {"tests/helpers.py": "X = 1\n"})
    report = oracle(test="python -m pytest").validate(tmp_path, [])
    assert report.ok
    assert report.checks[-1].exit_code == 5


def test_a_hanging_test_times_out_with_where_it_was_stuck(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/loop.py": "def spin():\n    while True:\n        pass\n",
            "tests/test_h.py": "from pkg.loop import spin\n\ndef test_hang():\n    spin()\n",
        },
    )
    report = oracle(test="python -m pytest", timeout_seconds=2).validate(tmp_path, [])
    (diagnostic,) = report.diagnostics
    assert diagnostic.check == "tests"
    assert diagnostic.message.startswith("timed out after 2 s")
    assert diagnostic.locations[0].path == "pkg/loop.py"
    assert report.checks[-1].seconds < 30


def test_a_failing_plain_test_command_points_at_its_traceback(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "helper.py": "def main():\n    return 1 / 0\n",
            "run.py": "import helper\n\nhelper.main()\n",
        },
    )
    report = oracle(test="python run.py").validate(tmp_path, [])
    (diagnostic,) = report.diagnostics
    assert diagnostic.test_id is None
    assert diagnostic.locations == (Location("helper.py", 2), Location("run.py", 3))
    assert "ZeroDivisionError" in diagnostic.message


def test_a_command_that_cannot_start_is_a_validation_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not-a-command-xyz"):
        oracle(test="not-a-command-xyz --flag").validate(tmp_path, [])
    with pytest.raises(ValidationError, match="not found"):
        oracle(typecheck="not-a-checker-xyz").validate(tmp_path, [])


def test_new_since_a_baseline_drops_pre_existing_failures(tmp_path: Path) -> None:
    old = "def test_old():\n    assert 1 == 2\n"
    write(tmp_path, {"tests/test_b.py": old + "\ndef test_new():\n    assert True\n"})
    baseline = oracle(test="python -m pytest").validate(tmp_path, [])
    assert [d.test_id for d in baseline.diagnostics] == ["tests/test_b.py::test_old"]
    # lines shift: the old failure is still recognised
    edited = "X = 1\n\n\n" + old + "\ndef test_new():\n    assert X == 2\n"
    write(tmp_path, {"tests/test_b.py": edited})
    after = oracle(test="python -m pytest").validate(tmp_path, ["tests/test_b.py"])
    assert len(after.diagnostics) == 2
    assert [d.test_id for d in after.new_since(baseline).diagnostics] == [
        "tests/test_b.py::test_new"
    ]


def test_auto_runs_pytest_only_on_a_tree_with_tests_and_an_interpreter_with_pytest(
    tmp_path: Path,
) -> None:
    without = write(tmp_path / "without", {"app.py": "x = 1\n"})
    assert [c.name for c in oracle(test="auto").validate(without, []).checks] == ["compile"]

    with_tests = write(tmp_path / "with", {"app_test.py": "def test_a():\n    assert False\n"})
    report = oracle(test="auto").validate(with_tests, [])
    assert [c.name for c in report.checks] == ["compile", "tests"]
    assert report.checks[-1].command.endswith("-m pytest")
    assert [d.test_id for d in report.diagnostics] == ["app_test.py::test_a"]

    # an interpreter without pytest (here: one that fails everything) skips the tests
    fake = write(tmp_path / "bin", {"python": "#!/bin/sh\nexit 1\n"}) / "python"
    fake.chmod(0o755)
    skipped = oracle(test="auto", python=str(fake)).validate(with_tests, [])
    assert [c.name for c in skipped.checks] == ["compile"]


def test_settings_from_the_validate_section() -> None:
    assert oracle_settings({}) == LocalOracleSettings()
    settings = oracle_settings(
        {
            "validate": {
                "compile": False,
                "typecheck": "mypy .",
                "test": False,
                "timeout_seconds": 30,
                "python": "/venv/bin/python",
                "env": {"MODE": "ci"},
            }
        }
    )
    assert settings == LocalOracleSettings(
        compile_check=False,
        typecheck="mypy .",
        test=None,
        python="/venv/bin/python",
        timeout_seconds=30.0,
        env={"MODE": "ci"},
    )


@pytest.mark.parametrize(
    ("section", "named"),
    [
        ({"compile": "yes"}, "compile"),
        ({"typecheck": 3}, "typecheck"),
        ({"test": "  "}, "test"),
        ({"test": "pytest 'unclosed"}, "test"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"timeout_seconds": True}, "timeout_seconds"),
        ({"python": ""}, "python"),
        ({"env": ["A=1"]}, "env"),
        ({"env": {"TOKEN": 12345}}, "env.TOKEN"),
        ({"tests": "pytest"}, "tests"),
    ],
)
def test_bad_settings_are_config_errors_naming_the_key(
    section: dict[str, object], named: str
) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")) as error:
        oracle_settings({"validate": section})
    assert "12345" not in str(error.value)  # environment values may be secrets


def test_the_example_inventory_passes_until_its_pricing_is_broken(tmp_path: Path) -> None:
    root = tmp_path / "inventory"
    shutil.copytree(INVENTORY, root, ignore=shutil.ignore_patterns(".codeplan", "__pycache__"))
    assert oracle(test="auto").validate(root, []).ok

    pricing = root / "inventory" / "pricing.py"
    pricing.write_text(
        pricing.read_text().replace('"general": Decimal("0.20")', '"general": Decimal("0.25")')
    )
    report = oracle(test="auto").validate(root, ["inventory/pricing.py"])
    assert not report.ok
    assert "tests/test_pricing.py::test_price_with_tax_applies_the_category_rate" in by_test(report)
    for diagnostic in report.diagnostics:
        assert diagnostic.check == "tests"
        assert diagnostic.locations
        assert all(loc.path.startswith(("inventory/", "tests/")) for loc in diagnostic.locations)


def test_the_code_under_test_never_sees_the_users_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET-never-shown")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_never_shown")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_env.py").write_text(
        "import os\n\n\ndef test_no_credentials():\n"
        "    assert 'OPENAI_API_KEY' not in os.environ\n"
        "    assert 'GITHUB_TOKEN' not in os.environ\n"
    )
    from codeplan.validate.local import LocalOracle, LocalOracleSettings

    report = LocalOracle(
        LocalOracleSettings(test=f"{sys.executable} -m pytest -q", timeout_seconds=60)
    ).validate(tmp_path, [])
    assert report.ok, report.diagnostics
