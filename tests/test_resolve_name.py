"""`GraphBuilder.resolve(name, scope)`: what a name denotes where a block sees it."""

from __future__ import annotations

import pytest

from codeplan.errors import BlockNotFoundError
from codeplan.graph import GraphOptions, build_graph
from codeplan.graph.builder import GraphBuilder

PYTHON = {
    "store/__init__.py": "from .repo import Repo\n",
    "store/repo.py": ("class Repo:\n    def save(self, item):\n        return item\n"),
    "app.py": (
        "import os\n"
        "from store import Repo\n"
        "LIMIT = 3\n\n\n"
        "def helper():\n"
        "    return LIMIT\n\n\n"
        "class Service:\n"
        "    def __init__(self):\n"
        "        self.repo = Repo()\n\n"
        "    def run(self, helper=None):\n"
        "        return self.repo.save(1)\n\n\n"
        "def main():\n"
        "    def helper():\n"
        "        pass\n"
        "    helper()\n"
    ),
    "web/util.js": "export function format(x) { return x; }\n",
    "web/page.js": "import { format } from './util';\nexport function render() { format(1); }\n",
}


@pytest.fixture(scope="module")
def builder(tmp_path_factory: pytest.TempPathFactory) -> GraphBuilder:
    root = tmp_path_factory.mktemp("resolve")
    for path, text in PYTHON.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return build_graph(root, GraphOptions(use_cache=False))


def _ids(builder: GraphBuilder, name: str, scope: str) -> list[str]:
    return [b.id for b in builder.resolve(name, scope)]


def test_names_resolve_through_imports_and_re_exports(builder: GraphBuilder) -> None:
    assert _ids(builder, "Repo", "app.py::main") == ["store/repo.py::Repo"]
    assert _ids(builder, "store.repo", "app.py") == []  # `store` is not bound in app.py
    assert _ids(builder, "Repo.save", "app.py") == ["store/repo.py::Repo.save"]


def test_attribute_chains_follow_inferred_types(builder: GraphBuilder) -> None:
    assert _ids(builder, "self.repo.save", "app.py::Service.run") == ["store/repo.py::Repo.save"]
    assert _ids(builder, "self.repo", "app.py::Service.run") == ["app.py::Service.repo"]


def test_scopes_shadow_and_fields_resolve_to_their_definition(builder: GraphBuilder) -> None:
    assert _ids(builder, "helper", "app.py::main") == ["app.py::main.helper"]
    assert _ids(builder, "helper", "app.py::Service") == ["app.py::helper"]
    assert _ids(builder, "helper", "app.py::Service.run") == []  # the parameter shadows it
    assert _ids(builder, "LIMIT", "app.py::helper") == ["app.py::LIMIT"]
    # a non-scope block is seen from its enclosing scope
    assert _ids(builder, "Repo", "app.py::Service.repo") == ["store/repo.py::Repo"]


def test_external_and_unknown_names_resolve_to_nothing(builder: GraphBuilder) -> None:
    assert _ids(builder, "os.path.join", "app.py::main") == []
    assert _ids(builder, "nowhere", "app.py::main") == []


def test_other_languages_resolve_by_name_through_imports(builder: GraphBuilder) -> None:
    assert _ids(builder, "format", "web/page.js::render") == ["web/util.js::format"]


def test_an_unknown_scope_is_a_clear_error(builder: GraphBuilder) -> None:
    with pytest.raises(BlockNotFoundError, match=r"no block 'missing\.py'"):
        builder.resolve("x", "missing.py")
