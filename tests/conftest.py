"""Suite-wide set-up."""

from __future__ import annotations

import signal


def pytest_configure() -> None:
    # A shell starts background jobs with SIGINT ignored, and an ignored signal stays
    # ignored across exec: under `.ci/run &` neither this process nor the CLI processes
    # the tests start would ever see Ctrl-C, and the tests of what Ctrl-C leaves behind
    # would fail for that alone.  A handler (unlike "ignore") is reset to the default in
    # every child, so those children get Python's KeyboardInterrupt as well.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
