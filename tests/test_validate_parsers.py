"""The oracle's pure parsers, on output captured from real mypy, pyright and pytest runs."""

from __future__ import annotations

import pytest

from codeplan.validate.parsers import (
    Frame,
    ToolError,
    exception_line,
    is_test_path,
    missing_module,
    parse_junit,
    parse_typecheck,
    pytest_position,
    strip_ansi,
    tool_name,
    traceback_frames,
)

MYPY = """\
pkg/typed.py:2: error: Incompatible return value type (got "int", expected "str")  [return-value]
pkg/typed.py:5: note: Revealed type is "Literal[1]?"
pkg/typed.py:7: error: Argument 1 to "f" has incompatible type "str"; expected "int"  [arg-type]
Found 2 errors in 1 file (checked 3 source files)
"""

MYPY_COLUMNS = """\
pkg/typed.py:2:12: error: Incompatible return value type (got "int", expected "str")  [return-value]
pkg/typed.py:5:17: note: Revealed type is "Literal[1]?"
"""

# pyright 1.1: explanations are indented with no-break spaces
PYRIGHT = (
    "/tmp/vs/proj/pkg/attr.py\n"
    '  /tmp/vs/proj/pkg/attr.py:1:8 - error: Import "not_a_module" could not be resolved'
    " (reportMissingImports)\n"
    '  /tmp/vs/proj/pkg/attr.py:9:14 - error: Cannot access attribute "foo" for class "Bar"\n'
    '  \xa0\xa0Attribute "foo" is unknown (reportAttributeAccessIssue)\n'
    "/tmp/vs/pw/w.py\n"
    "  /tmp/vs/pw/w.py:2:5 - warning: Expression value is unused (reportUnusedExpression)\n"
    '  /tmp/vs/proj/pkg/typed.py:5:17 - information: Type of "1" is "Literal[1]"\n'
    '  /tmp/vs/pw/w.py:3:12 - error: Type "int" is not assignable to return type "str"\n'
    '  \xa0\xa0"int" is not assignable to "str" (reportReturnType)\n'
    "4 errors, 1 warning, 1 information\n"
)

JUNIT = """\
<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" \
errors="0" failures="2" skipped="0" tests="3" time="0.030" hostname="vm">\
<testcase classname="tests.test_a" name="test_ok" file="tests/test_a.py" line="3" time="0.000" />\
<testcase classname="tests.test_a" name="test_zero" file="tests/test_a.py" line="7" time="0.000">\
<failure message="ZeroDivisionError: division by zero">tests/test_a.py:9: in test_zero
    assert divide(1, 0) == 0
           ^^^^^^^^^^^^
pkg/helper.py:2: in divide
    return a / b
           ^^^^^
E   ZeroDivisionError: division by zero</failure></testcase>\
<testcase classname="tests.test_a.TestK" name="test_check" file="tests/test_a.py" line="12" \
time="0.000"><failure message="AssertionError: x must be positive">self = \
&lt;test_a.TestK object at 0x7fae89e77d90&gt;

    def test_check(self):
&gt;       check(-1)

tests/test_a.py:14: \n\
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ \n\

x = -1

    def check(x: int) -&gt; None:
&gt;       assert x &gt; 0, "x must be positive"
               ^^^^^
E       AssertionError: x must be positive

pkg/helper.py:6: AssertionError</failure></testcase><testcase time="0.000" />\
</testsuite></testsuites>"""

JUNIT_COLLECTION = """\
<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" \
errors="1" failures="0" skipped="0" tests="1" time="0.173" hostname="vm">\
<testcase classname="" name="tests.test_viapkg" file="tests/test_viapkg.py" time="0.000">\
<error message="collection failure">/work/main/.venv/lib/python3.11/site-packages/_pytest/\
python.py:528: in importtestmodule
    mod = import_path(
&lt;frozen importlib._bootstrap&gt;:1204: in _gcd_import
    ???
/work/main/.venv/lib/python3.11/site-packages/_pytest/assertion/rewrite.py:185: in exec_module
    exec(co, module.__dict__)
tests/test_viapkg.py:1: in &lt;module&gt;
    from pkg.mod import x
E     File "/tmp/vs/coll/pkg/mod.py", line 2
E       def broken(:
E                  ^
E   SyntaxError: invalid syntax</error></testcase></testsuite></testsuites>"""

# pytest's xunit2 family (its default) has no file/line attributes
JUNIT_XUNIT2 = """\
<testsuites><testsuite name="pytest"><testcase classname="tests.test_a.TestK" name="test_eq" \
time="0.000"><failure message="assert 1 == 2">self = &lt;test_a.TestK object&gt;

    def test_eq(self):
&gt;       assert 1 == 2
E       assert 1 == 2

tests/test_a.py:17: AssertionError</failure></testcase></testsuite></testsuites>"""

PYTHON_TRACEBACK = """\
Traceback (most recent call last):
  File "/tmp/proj/run.py", line 3, in <module>
    main()
  File "/tmp/proj/pkg/helper.py", line 2, in main
    return 1 / 0
           ~~^~~
ZeroDivisionError: division by zero
"""

INTERRUPTED = """\
tests/test_h.py .
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!! KeyboardInterrupt !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
/tmp/vs/hang/pkg/loop.py:2: KeyboardInterrupt
(to show a full traceback on KeyboardInterrupt use --full-trace)
============================== 1 passed in 3.38s ===============================
"""


def test_mypy_errors_are_parsed_and_notes_and_summaries_ignored() -> None:
    message = 'Incompatible return value type (got "int", expected "str")  [return-value]'
    assert parse_typecheck(MYPY) == [
        ToolError("pkg/typed.py", 2, message),
        ToolError(
            "pkg/typed.py",
            7,
            'Argument 1 to "f" has incompatible type "str"; expected "int"  [arg-type]',
        ),
    ]
    assert parse_typecheck(MYPY_COLUMNS) == [ToolError("pkg/typed.py", 2, message)]


def test_pyright_errors_keep_their_explanation_and_warnings_are_ignored() -> None:
    errors = parse_typecheck(PYRIGHT)
    assert [(e.path, e.line) for e in errors] == [
        ("/tmp/vs/proj/pkg/attr.py", 1),
        ("/tmp/vs/proj/pkg/attr.py", 9),
        ("/tmp/vs/pw/w.py", 3),
    ]
    assert errors[1].message == (
        'Cannot access attribute "foo" for class "Bar"\n'
        'Attribute "foo" is unknown (reportAttributeAccessIssue)'
    )


def test_ansi_colours_are_stripped() -> None:
    coloured = '\x1b[1mpkg/a.py:3: \x1b[31merror:\x1b[m Name "x" is not defined  [name-defined]'
    assert parse_typecheck(strip_ansi(coloured)) == [
        ToolError("pkg/a.py", 3, 'Name "x" is not defined  [name-defined]')
    ]


def test_junit_failures_with_short_and_long_tracebacks() -> None:
    zero, check = parse_junit(JUNIT)
    assert (zero.file, zero.classes, zero.name) == ("tests/test_a.py", (), "test_zero")
    assert zero.message == "ZeroDivisionError: division by zero"
    assert zero.frames == (Frame("tests/test_a.py", 9), Frame("pkg/helper.py", 2))
    assert zero.location == Frame("tests/test_a.py", 8)  # pytest's line is 0-based
    assert check.classes == ("TestK",)
    assert check.frames == (Frame("tests/test_a.py", 14), Frame("pkg/helper.py", 6))


def test_junit_collection_errors_name_the_module_and_the_exception() -> None:
    (failure,) = parse_junit(JUNIT_COLLECTION)
    assert (failure.file, failure.classes, failure.name) == ("tests/test_viapkg.py", (), "")
    assert failure.message == "collection failure: SyntaxError: invalid syntax"
    assert failure.location is None
    assert failure.frames[-2:] == (
        Frame("tests/test_viapkg.py", 1),
        Frame("/tmp/vs/coll/pkg/mod.py", 2),
    )
    assert Frame("<frozen importlib._bootstrap>", 1204) not in failure.frames


def test_junit_without_file_attributes_keeps_the_dotted_classname() -> None:
    (failure,) = parse_junit(JUNIT_XUNIT2)
    assert (failure.file, failure.classes, failure.name) == (
        None,
        ("tests.test_a.TestK",),
        "test_eq",
    )
    assert failure.frames == (Frame("tests/test_a.py", 17),)


def test_a_truncated_report_is_not_a_report() -> None:
    with pytest.raises(ValueError, match="not a JUnit report"):
        parse_junit(JUNIT[: len(JUNIT) // 2])


def test_python_traceback_frames_are_found_in_text_order() -> None:
    assert traceback_frames(PYTHON_TRACEBACK, pytest_style=False) == [
        Frame("/tmp/proj/run.py", 3),
        Frame("/tmp/proj/pkg/helper.py", 2),
    ]


def test_an_interrupted_pytest_run_says_where_it_was() -> None:
    assert traceback_frames(INTERRUPTED) == [Frame("/tmp/vs/hang/pkg/loop.py", 2)]


def test_the_last_exception_line_of_a_failure() -> None:
    assert exception_line(JUNIT) == "AssertionError: x must be positive"
    assert exception_line("no exception here") is None


def test_a_missing_module_is_recognised_by_pythons_own_message() -> None:
    assert missing_module("/usr/bin/python3: No module named pytest\n", "pytest")
    assert not missing_module("E   ModuleNotFoundError: No module named 'pytest'", "pytest")
    assert not missing_module("/usr/bin/python3: No module named pytest_cov", "pytest")


def test_command_lines_name_their_tool_and_where_pytest_options_go() -> None:
    assert tool_name(["/venv/bin/python", "-m", "mypy", "."]) == "mypy"
    assert tool_name(["/usr/local/bin/pyright", "src"]) == "pyright"
    assert tool_name(["ruff", "check"]) is None
    assert pytest_position(["pytest", "-q"]) == 0
    assert pytest_position(["/venv/bin/python", "-m", "pytest", "tests"]) == 2
    assert pytest_position(["python", "-m", "unittest"]) is None
    assert pytest_position(["tox", "-e", "pytest"]) is None


def test_test_code_is_recognised_by_pytests_conventions() -> None:
    assert is_test_path("tests/helpers/data.py")
    assert is_test_path("pkg/test_util.py")
    assert is_test_path("pkg/util_test.py")
    assert is_test_path("pkg/conftest.py")
    assert not is_test_path("pkg/testing_tools.py")
    assert not is_test_path("pkg/pricing.py")
