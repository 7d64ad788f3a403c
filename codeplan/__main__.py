"""`python -m codeplan`, the same as the `codeplan` command."""

from codeplan.cli import main

main()
