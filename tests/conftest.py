"""Suite-wide set-up."""

from __future__ import annotations

import os
import signal

import pytest


def pytest_configure() -> None:
    # `make test` runs the suite a second time on the compiled wheel (see the Makefile):
    # a path mistake that let it import the checkout's sources instead must fail it
    if os.environ.get("CODEPLAN_TEST_COMPILED") == "1":
        from codeplan.graph import analysis_compiled
        from codeplan.graph.python import extract

        if not analysis_compiled():
            raise pytest.UsageError(f"expected the compiled analysis, imported {extract.__file__}")
    # A shell starts background jobs with SIGINT ignored, and an ignored signal stays
    # ignored across exec: under `.ci/run &` neither this process nor the CLI processes
    # the tests start would ever see Ctrl-C, and the tests of what Ctrl-C leaves behind
    # would fail for that alone.  A handler (unlike "ignore") is reset to the default in
    # every child, so those children get Python's KeyboardInterrupt as well.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
