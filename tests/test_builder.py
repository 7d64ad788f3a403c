"""The graph builder end to end: discovery, odd input, the on-disk cache, concurrency."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from gitrepo import git

from codeplan.graph import BlockKind, GraphOptions, Relation, build_graph
from codeplan.graph.model import path_of
from codeplan.graph.parallel import MIN_ITEMS_TO_FORK

APP = "from lib import helper\n\n\ndef run():\n    return helper(1)\n"
LIB = "def helper(x):\n    return x\n\n\ndef unused():\n    pass\n"


def _project(root: Path) -> Path:
    (root / "app.py").write_text(APP)
    (root / "lib.py").write_text(LIB)
    return root


def test_warm_build_reuses_facts_and_resolutions(tmp_path: Path) -> None:
    _project(tmp_path)
    cold = build_graph(tmp_path)
    warm = build_graph(tmp_path)
    assert (cold.report.parsed, cold.report.resolved) == (2, 2)
    assert (warm.report.parsed, warm.report.cached, warm.report.resolved) == (0, 2, 0)
    assert warm.graph.snapshot() == cold.graph.snapshot()


def test_body_edit_on_disk_reparses_one_file_and_keeps_dependents(tmp_path: Path) -> None:
    _project(tmp_path)
    build_graph(tmp_path)
    (tmp_path / "lib.py").write_text(LIB.replace("    return x", "    print(x)\n    return x"))
    warm = build_graph(tmp_path)
    assert (warm.report.parsed, warm.report.resolved) == (1, 1)
    assert [b.id for b in warm.graph.callers("lib.py::helper")] == ["app.py::run"]


def test_signature_edit_on_disk_re_resolves_dependents(tmp_path: Path) -> None:
    _project(tmp_path)
    build_graph(tmp_path)
    (tmp_path / "lib.py").write_text(LIB.replace("def helper(x)", "def assist(x)"))
    warm = build_graph(tmp_path)
    assert (warm.report.parsed, warm.report.resolved) == (1, 2)
    assert warm.graph.get("lib.py::helper") is None
    assert ("app.py::run", "helper") in {(r.source, r.name) for r in warm.graph.unresolved()}


def test_odd_files_are_skipped_or_recovered_and_counted(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "binary.py").write_bytes(b"\x00\x01\x02def f(): pass\n")
    (tmp_path / "latin.py").write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    (tmp_path / "huge.py").write_text("x = 1\n" * 50_000)
    (tmp_path / "empty.py").write_text("")
    (tmp_path / "broken.py").write_text("def ok():\n    return 1\n\ndef bad(:\n    pass\n")
    builder = build_graph(tmp_path, GraphOptions(use_cache=False, max_file_bytes=100_000))
    report = builder.report
    assert {(s.path, s.reason) for s in report.skipped} == {
        ("binary.py", "binary"),
        ("latin.py", "non-utf8"),
        ("huge.py", "too-large"),
    }
    assert [path for path, _ in report.syntax_errors] == ["broken.py"]
    assert builder.graph.get("broken.py::ok") is not None  # what tree-sitter recovers
    assert builder.graph.get("empty.py") is not None


def test_deeply_nested_code_does_not_crash(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "deep.py").write_text(
        "def f():\n    return " + " + ".join(["x"] * 20_000) + "\n\n\ndef g():\n    f()\n"
    )
    builder = build_graph(tmp_path, GraphOptions(use_cache=False))
    assert builder.graph.get("deep.py::g") is not None
    assert [b.id for b in builder.graph.callers("lib.py::helper")] == ["app.py::run"]


def test_git_repository_lists_tracked_and_untracked_files_but_not_ignored(tmp_path: Path) -> None:
    _project(tmp_path)
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("generated.py\n")
    (tmp_path / "generated.py").write_text("def g(): pass\n")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / ".venv" / "lib" / "site.py").write_text("def s(): pass\n")
    git(tmp_path, "add", "app.py")
    builder = build_graph(tmp_path, GraphOptions(use_cache=False))
    assert builder.graph.paths() == ["app.py", "lib.py"]


def test_corrupt_cache_is_rebuilt(tmp_path: Path) -> None:
    _project(tmp_path)
    build_graph(tmp_path)
    cache_file = tmp_path / ".codeplan" / "graph-cache.sqlite3"
    assert cache_file.exists()
    cache_file.write_bytes(b"this is not a database" * 100)
    builder = build_graph(tmp_path)
    assert builder.report.parsed == 2
    assert [b.id for b in builder.graph.callers("lib.py::helper")] == ["app.py::run"]
    assert build_graph(tmp_path).report.parsed == 0


def test_two_concurrent_builds_share_the_cache(tmp_path: Path) -> None:
    for index in range(40):
        (tmp_path / f"mod{index}.py").write_text(
            f"from mod{(index + 1) % 40} import f{(index + 1) % 40}\n\n\n"
            f"def f{index}():\n    return f{(index + 1) % 40}()\n"
        )
    script = (
        "import sys\n"
        "from codeplan.graph import build_graph\n"
        "builder = build_graph(sys.argv[1])\n"
        "print(builder.report.edges)\n"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert outputs[0][0] == outputs[1][0]
    assert build_graph(tmp_path).report.parsed == 0


def test_module_level_calls_have_the_module_as_source(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "script.py").write_text("from lib import helper\n\nhelper(2)\n")
    builder = build_graph(tmp_path, GraphOptions(use_cache=False))
    assert {b.id for b in builder.graph.callers("lib.py::helper")} == {"app.py::run", "script.py"}
    statements = [b for b in builder.graph.blocks(BlockKind.STATEMENT) if b.path == "script.py"]
    assert [s.start_line for s in statements] == [3]


def test_forked_workers_build_the_same_graph_as_one_process(tmp_path: Path) -> None:
    count = MIN_ITEMS_TO_FORK + 20  # enough files for the work to be spread over processes
    (tmp_path / "common.py").write_text("def helper():\n    return 1\n")
    _ring_of_modules(tmp_path, count, "from common import helper", "", "helper()")
    serial = build_graph(tmp_path, GraphOptions(use_cache=False, workers=1))
    forked = build_graph(tmp_path, GraphOptions(workers=2))
    assert forked.graph.snapshot() == serial.graph.snapshot()
    assert len(forked.graph.callers("mod1.py::Thing1.use")) == 1
    cached = build_graph(tmp_path, GraphOptions(workers=2))
    assert (cached.report.parsed, cached.report.resolved) == (0, 0)
    assert cached.graph.snapshot() == serial.graph.snapshot()
    edited = "class Thing1:\n    def use(self, extra):\n        return 1\n"
    cached.update_file("mod1.py", edited)
    serial.update_file("mod1.py", edited)
    assert cached.graph.snapshot() == serial.graph.snapshot()
    # an interface change every module depends on: re-resolution is spread over processes
    renamed = "def assist():\n    return 1\n"
    report = cached.update_file("common.py", renamed, keep_stale=True)
    serial.update_file("common.py", renamed, keep_stale=True)
    assert len(report.reresolved) > MIN_ITEMS_TO_FORK
    assert cached.graph.snapshot() == serial.graph.snapshot()
    # each module but the edited mod1 keeps its import of and call to the vanished helper
    assert len([e for e in cached.graph.edges() if e.stale]) == 2 * (count - 1)


def test_bulk_assembly_equals_adding_blocks_and_edges_one_by_one() -> None:
    # add_many writes networkx's adjacency maps directly: guard that layout
    from codeplan.graph.codegraph import CodeGraph

    root = Path(__file__).resolve().parents[1] / "codeplan" / "graph"
    built = build_graph(root, GraphOptions(use_cache=False)).graph
    blocks, edges, _ = built.snapshot()
    # a dangling edge is dropped by both, and a repeated one keeps its last attributes
    ordered = sorted(edges, key=lambda e: (e.source, e.target, e.relation.value))
    extra = [ordered[0], ordered[0]._replace(line=999)]
    dangling = ordered[0]._replace(target="nowhere.py::f")
    one_by_one = CodeGraph()
    for block in sorted(blocks, key=lambda b: b.id):
        one_by_one.add_block(block)
    for edge in [*ordered, dangling, *extra]:
        one_by_one.add_edge(edge)
    bulk = CodeGraph()
    bulk.add_many(sorted(blocks, key=lambda b: b.id), [*ordered, dangling, *extra])
    assert bulk.snapshot() == one_by_one.snapshot()
    assert bulk.paths() == one_by_one.paths()
    for block in blocks:
        assert bulk.related(block.id) == one_by_one.related(block.id)
        assert bulk.related(block.id, inverse=True) == one_by_one.related(block.id, inverse=True)
    assert bulk.relation_counts() == one_by_one.relation_counts()
    assert bulk.kind_counts() == one_by_one.kind_counts()
    assert bulk.edge_count() == one_by_one.edge_count() == len(edges)
    assert any(r.line == 999 for r in bulk.related(extra[0].source))
    # edges with the same line and flag share their attributes: changing one changes
    # no other
    sharing = [e for e in ordered[1:] if (e.line, e.stale) == (ordered[0].line, ordered[0].stale)]
    assert sharing
    for graph in (bulk, one_by_one):
        now = {(e.source, e.target, e.relation): e.line for e in graph.edges()}
        assert all(now[e.source, e.target, e.relation] == e.line for e in sharing)
    # a build adds each file's edges as its resolution arrives: batches into a graph that
    # already has edges must come out the same
    batched = CodeGraph()
    batched.add_blocks(sorted(blocks, key=lambda b: b.id))
    everything = [*ordered, dangling, *extra]
    for start in range(0, len(everything), 7):
        batched.add_edges(everything[start : start + 7])
    assert batched.snapshot() == one_by_one.snapshot()
    assert list(batched.edges()) == list(bulk.edges())
    assert batched.relation_counts() == one_by_one.relation_counts()
    assert batched.edge_count() == one_by_one.edge_count()


def test_a_repeated_reference_is_resolved_once_at_its_first_line(tmp_path: Path) -> None:
    from codeplan.graph.python import PythonAnalyzer

    source = (
        "import os\n\n\ndef run():\n    helper(os.getcwd())\n    helper(os.getcwd())\n\n\n"
        "def helper(x):\n    return x\n"
    )
    facts = PythonAnalyzer().extract("app.py", source.encode())
    refs = [(owner, expr, context) for owner, expr, context, _ in facts.data["refs"]]
    assert len(refs) == len({repr(ref) for ref in refs})
    (tmp_path / "app.py").write_text(source)
    graph = build_graph(tmp_path, GraphOptions(use_cache=False)).graph
    calls = [(e.source, e.target, e.line) for e in graph.edges(Relation.CALLS)]
    assert calls == [("app.py::run", "app.py::helper", 5)]
    assert [(u.name, u.line) for u in graph.unresolved("app.py::run")] == [("os.getcwd", 5)]


def test_a_cached_graph_loads_edges_as_queries_need_them_and_answers_as_if_loaded(
    tmp_path: Path,
) -> None:
    # where it lives, so that its imports (`from codeplan.graph.store import ...`) resolve
    shutil.copytree(
        Path(__file__).resolve().parents[1] / "codeplan" / "graph",
        tmp_path / "codeplan" / "graph",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (tmp_path / "codeplan" / "__init__.py").write_text("")
    options = GraphOptions(cache_dir=tmp_path / "cache")
    build_graph(tmp_path, options)
    loaded = build_graph(tmp_path, options).graph
    all_edges = set(loaded.edges())  # loads every file's edges
    all_blocks = set(loaded.blocks())
    assert all(path_of(block.id) == block.path for block in all_blocks)
    lazy = build_graph(tmp_path, options).graph
    # counted before anything is loaded, as a build's report is
    assert lazy.relation_counts() == loaded.relation_counts()
    assert lazy.edge_count() == loaded.edge_count() == len(all_edges)
    assert lazy.kind_counts() == loaded.kind_counts()
    assert len(lazy) == len(loaded) == len(all_blocks)
    assert lazy.paths() == loaded.paths()
    files = len(loaded.paths())
    assert (len(lazy._deferred), len(lazy._deferred_blocks)) == (files, files), "nothing loaded"
    leaf = lazy.module_block("codeplan/graph/gcpause.py")
    assert leaf is not None
    assert len(lazy._deferred_blocks) == files - 1, "one file's blocks loaded"
    lazy.callees(leaf.id)
    assert len(lazy._deferred) == files - 1, "one file's edges loaded"
    blocks = sorted(loaded.blocks(), key=lambda b: b.id)
    for block in blocks[::2] + blocks[1::2]:  # the order queries load files in varies
        assert lazy.related(block.id) == loaded.related(block.id)
        assert lazy.related(block.id, inverse=True) == loaded.related(block.id, inverse=True)
    assert lazy.relation_counts() == loaded.relation_counts()
    assert set(lazy.edges()) == all_edges
    assert set(lazy.blocks()) == all_blocks
    # each file's blocks asked first, of a graph that has loaded nothing: an edge may
    # come from another file's resolution (`class CodeGraph(GraphStore)` in codegraph.py
    # makes store.py's GraphStore the base class of CodeGraph)
    base_class_of = loaded.related("codeplan/graph/store.py::GraphStore", [Relation.BASE_CLASS_OF])
    assert [r.block.id for r in base_class_of] == ["codeplan/graph/codegraph.py::CodeGraph"]
    for path in loaded.paths():
        fresh = build_graph(tmp_path, options).graph
        for block_id in fresh.ids_in(path):
            assert fresh.related(block_id) == loaded.related(block_id), block_id
        fresh = build_graph(tmp_path, options).graph
        for block_id in fresh.ids_in(path):
            assert fresh.related(block_id, inverse=True) == loaded.related(
                block_id, inverse=True
            ), block_id


def test_an_update_of_a_cached_graph_edits_edges_it_has_not_loaded(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "other.py").write_text("from lib import helper\n\n\ndef go():\n    helper(2)\n")
    build_graph(tmp_path)
    warm, cold = build_graph(tmp_path), build_graph(tmp_path, GraphOptions(use_cache=False))
    list(cold.graph.edges())
    for builder in (warm, cold):  # the helper gone: its callers' edges go with it
        builder.update_file("lib.py", "def unused():\n    pass\n")
    assert warm.graph.relation_counts() == cold.graph.relation_counts()
    assert warm.graph.snapshot() == cold.graph.snapshot()
    assert warm.graph.callers("lib.py::unused") == []


def test_names_read_from_the_decoded_source_equal_the_nodes_own_text() -> None:
    """Extraction reads names by slicing the file's source (see exprs.reading), decoded
    first when it is ASCII and piece by piece when it is not, since then byte offsets are
    not str offsets: what it records must equal what each node's own bytes give."""
    from codeplan.graph.python import PythonAnalyzer, parse_python
    from codeplan.graph.python.extract import PythonExtractor

    graph_package = Path(__file__).resolve().parents[1] / "codeplan" / "graph"
    ascii_source = (graph_package / "python" / "extract.py").read_bytes()
    assert ascii_source.isascii()
    other = "# café\ndef grüße(x: 'Größe') -> None:\n    return größe(x).naïve\n".encode()
    for path, source in (("extract.py", ascii_source), ("gruss.py", other)):
        facts = PythonAnalyzer().extract(path, source)
        module = path.removesuffix(".py")
        # outside `reading`: every name comes from the node's own bytes
        by_node = PythonExtractor(path, source, module).run(parse_python(source).root_node)
        assert dict(facts.data) == by_node
    assert [b.qualname for b in facts.blocks] == ["", "grüße"]
    assert ["a", ["c", ["n", "größe"]], "naïve"] in [ref[1] for ref in facts.data["refs"]]


def test_a_write_to_a_local_is_no_reference_but_a_write_to_a_module_attribute_is(
    tmp_path: Path,
) -> None:
    source = (
        "import time\n\n\ndef freeze():\n    real = time.time\n    time.time = lambda: 0\n"
        "    real = real\n    return real\n"
    )
    (tmp_path / "clock.py").write_text(source)
    graph = build_graph(tmp_path, GraphOptions(use_cache=False)).graph
    found = [(u.name, u.line, u.context) for u in graph.unresolved("clock.py::freeze")]
    # the local `real` takes time.time's value, but writing it writes nothing of `time`
    assert found == [("time.time", 5, "load"), ("time.time", 6, "store")]


def test_a_forked_build_that_finds_part_of_its_facts_cached_resolves_as_one_process(
    tmp_path: Path,
) -> None:
    """The workers that extract go on to resolve (parallel.forked_phases): each must be
    sent the facts it did not extract, those read from the cache among them."""
    count = MIN_ITEMS_TO_FORK + 10
    (tmp_path / "common.py").write_text("class Base:\n    def hook(self):\n        return 1\n")
    _ring_of_modules(tmp_path, count, "from common import Base", "(Base)", "self.hook()")
    build_graph(tmp_path, GraphOptions(workers=2))
    for index in range(MIN_ITEMS_TO_FORK + 1):  # enough to extract on forked workers
        path = tmp_path / f"mod{index}.py"
        path.write_text(path.read_text() + f"\n\ndef extra{index}():\n    return Thing{index}()\n")
    partly_cached = build_graph(tmp_path, GraphOptions(workers=2))
    assert partly_cached.report.parsed == MIN_ITEMS_TO_FORK + 1
    assert partly_cached.report.cached == count + 1 - partly_cached.report.parsed
    serial = build_graph(tmp_path, GraphOptions(use_cache=False, workers=1))
    assert partly_cached.graph.snapshot() == serial.graph.snapshot()
    assert len(partly_cached.graph.callers("common.py::Base.hook")) == count


def _ring_of_modules(root: Path, count: int, common: str, bases: str, call: str) -> None:
    """`mod0.py` ... : each imports `common`, defines `Thing<i><bases>` whose `use` makes
    `call` and calls the next module's `Thing.use`, the last module's the first's."""
    for index in range(count):
        following = (index + 1) % count
        (root / f"mod{index}.py").write_text(
            f"{common}\n"
            f"from mod{following} import Thing{following}\n\n\n"
            f"class Thing{index}{bases}:\n"
            f"    def use(self):\n"
            f"        {call}\n"
            f"        return Thing{following}().use()\n"
        )
