"""Mining past production/test co-changes from git history, and finding them again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeplan.errors import ConfigError
from codeplan.evolve.experiences import ExperienceBank
from codeplan.evolve.model import Experience
from codeplan.evolve.retrieve import ExperienceIndex, ProductionChange, tokenize
from tests.cli_helpers import run
from tests.gitrepo import git

PRICE_BEFORE = "def price(amount):\n    return amount * 2\n"
PRICE_AFTER = "def price(amount, tax=0.0):\n    return amount * 2 * (1 + tax)\n"
TEST_PRICE_BEFORE = "def test_price():\n    assert price(2) == 4\n"
TEST_PRICE_AFTER = "def test_price():\n    assert price(2, tax=0.5) == 6\n"
TEST_PRICE_DEFAULT = "def test_price_default_tax():\n    assert price(1) == 2\n"
TOTAL = "def total(items):\n    return sum(items)\n"
TOTAL_AFTER = "def total(items, discount=0):\n    return sum(items) - discount\n"
TEST_TOTAL = "def test_total():\n    assert total([1, 2]) == 3\n"
TEST_TOTAL_AFTER = "def test_total():\n    assert total([1, 2], discount=1) == 2\n"
HEADER = "from shop import price, total\n\n\n"


def commit(root: Path, message: str, files: dict[str, str | bytes]) -> None:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def shop(price: str, total: str = TOTAL, other: str = "def helper():\n    return 1\n") -> str:
    return "\n\n".join((price, total, other))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """1: code and tests; 2: a parameter added with its tests; 3: code only; 4: tests only."""
    git(tmp_path, "init", "-q", "-b", "main")
    commit(tmp_path, "initial", {
        "shop.py": shop(PRICE_BEFORE),
        "tests/test_shop.py": HEADER + TEST_PRICE_BEFORE + "\n\n" + TEST_TOTAL,
    })  # fmt: skip
    # helper changes too, but no test names it: no pair for it
    commit(tmp_path, "price: add a tax rate\n\nDetails.", {
        "shop.py": shop(PRICE_AFTER, other="def helper():\n    return 2\n"),
        "tests/test_shop.py": HEADER
        + TEST_PRICE_AFTER + "\n\n" + TEST_TOTAL + "\n\n" + TEST_PRICE_DEFAULT,
    })  # fmt: skip
    commit(tmp_path, "helper: three", {"shop.py": shop(PRICE_AFTER, other="def helper():\n    return 3\n")})  # fmt: skip
    commit(tmp_path, "more tests", {"tests/test_more.py": "def test_more():\n    assert True\n"})
    return tmp_path


def test_build_mines_only_the_co_change_pairs(repo: Path) -> None:
    with ExperienceBank(repo) as bank:
        result = bank.build()
        found = bank.experiences()
    assert (result.commits_scanned, result.experiences_added, result.total_experiences) == (4, 2, 2)
    first, second = found
    assert first.message == "price: add a tax rate\n\nDetails."
    assert (first.production_path, first.production_qualname) == ("shop.py", "price")
    assert (first.production_before, first.production_after) == (
        PRICE_BEFORE.rstrip(),
        PRICE_AFTER.rstrip(),
    )
    assert (first.test_path, first.test_qualname) == ("tests/test_shop.py", "test_price")
    assert (first.test_before, first.test_after) == (
        TEST_PRICE_BEFORE.rstrip(),
        TEST_PRICE_AFTER.rstrip(),
    )
    # a new test is a co-change too; it had no "before"
    assert (second.test_qualname, second.test_before) == ("test_price_default_tax", "")
    assert second.test_after == TEST_PRICE_DEFAULT.rstrip()
    assert (repo / ".codeplan" / ".gitignore").read_text() == "*\n"


def test_build_is_incremental_and_bounded(repo: Path) -> None:
    with ExperienceBank(repo) as bank:
        assert bank.build(max_commits=2).commits_scanned == 2  # the newest two: no pairs
        assert bank.build().commits_scanned == 2
        assert bank.build().commits_scanned == 0
        commit(repo, "total: a discount", {
            "shop.py": shop(PRICE_AFTER, TOTAL_AFTER, "def helper():\n    return 3\n"),
            "tests/test_shop.py": HEADER
            + TEST_PRICE_AFTER + "\n\n" + TEST_TOTAL_AFTER + "\n\n" + TEST_PRICE_DEFAULT,
        })  # fmt: skip
    with ExperienceBank(repo) as bank:  # what was mined is remembered across sessions
        result = bank.build()
        assert (result.commits_scanned, result.experiences_added, result.total_experiences) == (
            1,
            1,
            3,
        )
        newest = bank.experiences()[0]
        assert (newest.production_qualname, newest.test_qualname) == ("total", "test_total")
        assert bank.stats().commits_mined == 5
        assert bank.stats().top_production_files == (("shop.py", 3),)
        rebuilt = bank.rebuild()
    assert (rebuilt.commits_scanned, rebuilt.total_experiences) == (5, 3)


def test_a_commit_that_does_not_parse_is_skipped(repo: Path) -> None:
    broken = "def price(amount, tax=0.0,:\n    return amount\n"
    commit(repo, "broken", {
        "shop.py": shop(broken),
        "tests/test_shop.py": HEADER + TEST_PRICE_BEFORE,
    })  # fmt: skip
    commit(repo, "fixed", {
        "shop.py": shop(PRICE_AFTER),
        "tests/test_shop.py": HEADER + TEST_PRICE_AFTER,
    })  # fmt: skip
    latin1 = "# caf\xe9\ndef price_eur():\n    return 1\n".encode("latin-1")
    rounded = PRICE_AFTER.replace("(1 + tax)", "round(1 + tax, 2)")
    commit(repo, "rounding, and a legacy file", {
        "shop.py": shop(rounded),
        "legacy.py": latin1,
        "tests/test_shop.py": HEADER + TEST_PRICE_AFTER.replace("0.5", "0.25"),
    })  # fmt: skip
    with ExperienceBank(repo) as bank:
        result = bank.build()
        newest = bank.experiences()[0]
    # "fixed" is diffed against a parent that did not parse either; a file that is not
    # UTF-8 is left out, not the commit
    assert (result.commits_scanned, result.commits_skipped) == (7, 2)
    assert result.total_experiences == 3
    assert (newest.message, newest.production_after) == (
        "rounding, and a legacy file",
        rounded.rstrip(),
    )


def test_a_shallow_clone_skips_the_commit_whose_parent_is_missing(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    clone = tmp_path_factory.mktemp("clone")
    git(clone, "clone", "-q", "--depth", "3", repo.as_uri(), str(clone))
    with ExperienceBank(clone) as bank:
        result = bank.build()
    assert (result.commits_scanned, result.commits_skipped, result.total_experiences) == (3, 1, 0)


def test_a_project_folder_inside_the_repository(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    files = {
        "pkg/shop.py": shop(PRICE_BEFORE),
        "pkg/tests/test_shop.py": HEADER + TEST_PRICE_BEFORE,
    }
    commit(tmp_path, "initial", files)
    files = {"pkg/shop.py": shop(PRICE_AFTER), "pkg/tests/test_shop.py": HEADER + TEST_PRICE_AFTER}
    commit(tmp_path, "price: tax", files)
    with ExperienceBank(tmp_path / "pkg") as bank:
        bank.build()
        (found,) = bank.experiences()
    assert (found.production_path, found.test_path) == ("shop.py", "tests/test_shop.py")
    assert (tmp_path / "pkg" / ".codeplan" / "experiences.sqlite3").exists()


def test_search_finds_the_similar_past_change(repo: Path) -> None:
    commit(repo, "total: a discount", {
        "shop.py": shop(PRICE_AFTER, TOTAL_AFTER, "def helper():\n    return 3\n"),
        "tests/test_shop.py": HEADER
        + TEST_PRICE_AFTER + "\n\n" + TEST_TOTAL_AFTER + "\n\n" + TEST_PRICE_DEFAULT,
    })  # fmt: skip
    with ExperienceBank(repo) as bank:
        bank.build()
        index = ExperienceIndex.build(bank.experiences())
    change = ProductionChange(
        "billing.py",
        "cost",
        "def cost(amount):\n    return amount + 1\n",
        "def cost(amount, tax=0.0):\n    return (amount + 1) * (1 + tax)\n",
    )
    results = index.search(change, k=5)
    # only experiences sharing a word are found: nothing in `total` speaks of amounts or tax
    assert [e.production_qualname for e, _ in results] == ["price", "price"]
    assert {e.test_qualname for e, _ in results} == {"test_price", "test_price_default_tax"}
    assert results[0][1] >= results[1][1] > 0
    assert index.search("discount", k=1)[0][0].production_qualname == "total"


def experience(commit: str, after: str, message: str = "") -> Experience:
    return Experience(commit, message, "m.py", "f", "", after, "t.py", "test_f", "", "")


def test_bm25_weighs_rare_tokens_more_and_keeps_ties_in_order() -> None:
    index = ExperienceIndex.build(
        [
            experience("a", "value = common"),
            experience("b", "value = common"),
            experience("c", "value = common + rare"),
            experience("d", "value = common"),
        ]
    )
    assert index.idf("rare") > index.idf("common") > 0
    ranked = index.search("common rare", k=4)
    assert [e.commit for e, _ in ranked] == ["c", "a", "b", "d"]
    assert ranked[1][1] == ranked[2][1] == ranked[3][1]
    assert index.search("", k=3) == []
    assert index.search("self return", k=3) == []  # only stop words
    assert ExperienceIndex.build([]).search("anything") == []


def test_tokenize_splits_identifiers() -> None:
    # "with" is a keyword, in every Python file
    assert tokenize("priceWithTax(HTTPServer, max_retries=3)") == [
        "price",
        "tax",
        "pricewithtax",
        "http",
        "server",
        "httpserver",
        "max",
        "retries",
        "max_retries",
    ]
    assert tokenize("def f(self): return x") == []


def test_cli_build_search_and_stats(repo: Path) -> None:
    built = run("experiences", "build", repo)
    assert built.exit_code == 0, built.err
    assert "commits scanned: 4" in built.out and "experiences added: 2" in built.out
    found = run("experiences", "search", "price tax", repo, "-k", "1", "--format", "json")
    assert found.exit_code == 0, found.err
    (row,) = json.loads(found.out)
    assert row["production_qualname"] == "price" and row["score"] > 0
    assert row["production_after"] == PRICE_AFTER.rstrip()
    assert row["test_qualname"] == "test_price_default_tax"  # its name says tax, too
    table = run("experiences", "search", "price", repo)
    assert "test_price" in table.out and "price: add a tax rate" in table.out
    stats = run("experiences", "stats", repo)
    assert "commits mined: 4" in stats.out and "shop.py" in stats.out
    assert "rules learnt" not in stats.out  # one co-change commit supports no rule
    commit(repo, "total: a discount", {
        "shop.py": shop(PRICE_AFTER, TOTAL_AFTER, "def helper():\n    return 3\n"),
        "tests/test_shop.py": HEADER
        + TEST_PRICE_AFTER + "\n\n" + TEST_TOTAL_AFTER + "\n\n" + TEST_PRICE_DEFAULT,
    })  # fmt: skip
    assert run("experiences", "build", repo).exit_code == 0
    stats = run("experiences", "stats", repo, width=200)
    assert (
        "when a function gains an optional parameter, tests changed the arguments of their "
        "calls to it (2 of 2 past commits)"
    ) in stats.out


def test_the_commits_of_a_merged_branch_are_mined(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature", "HEAD~1")
    commit(repo, "total: a discount", {
        "shop.py": shop(PRICE_AFTER, TOTAL_AFTER, "def helper():\n    return 3\n"),
        "tests/test_shop.py": HEADER
        + TEST_PRICE_AFTER + "\n\n" + TEST_TOTAL_AFTER + "\n\n" + TEST_PRICE_DEFAULT,
    })  # fmt: skip
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge the discount", "feature")
    with ExperienceBank(repo) as bank:
        bank.build()
        qualnames = [e.production_qualname for e in bank.experiences()]
    assert qualnames[0] == "total"  # the branch's commit, not the merge


def test_cli_reports_a_folder_outside_git(tmp_path: Path) -> None:
    outcome = run("experiences", "stats", tmp_path)
    assert outcome.exit_code == ConfigError.exit_code
    assert "not inside a git repository" in outcome.err
