"""The query-driven analyzers for JavaScript, TypeScript and Java, on small projects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from codeplan.graph import generic
from codeplan.graph.analyzer import LanguageAnalyzer, ResolutionIndex, Resolver
from codeplan.graph.generic import generic_analyzers
from codeplan.graph.model import Block, BlockKind, content_hash, path_of
from codeplan.graph.records import FileFacts, FileResolution
from codeplan.resources import analyzer_query

ANALYZERS: dict[str, LanguageAnalyzer] = {a.language: a for a in generic_analyzers()}
BY_EXTENSION = {ext: a for a in ANALYZERS.values() for ext in a.extensions}


@dataclass
class Project:
    facts: dict[str, FileFacts]
    index: ResolutionIndex
    resolvers: dict[str, Resolver]

    def resolve(self, path: str) -> FileResolution:
        facts = self.facts[path]
        return self.resolvers[facts.language].resolve(facts)

    def edges(self, path: str) -> set[tuple[str, str, str]]:
        """(source, relation, target) of the edges resolved from one file."""
        return {(e.source, e.relation.value, e.target) for e in self.resolve(path).edges}

    def all_edges(self) -> set[tuple[str, str, str]]:
        return {edge for path in self.facts for edge in self.edges(path)}

    def unresolved(self, path: str) -> set[tuple[str, str, str]]:
        return {(u.source, u.name, u.context) for u in self.resolve(path).unresolved}

    def block(self, block_id: str) -> Block:
        path = block_id.split("::", 1)[0]
        return next(b for b in self.facts[path].blocks if b.id == block_id)

    def qualnames(self, path: str) -> dict[str, BlockKind]:
        return {b.qualname: b.kind for b in self.facts[path].blocks}


def extract(path: str, text: str | bytes) -> FileFacts:
    source = text.encode() if isinstance(text, str) else text
    return BY_EXTENSION["." + path.rsplit(".", 1)[-1]].extract(path, source)


def build(tmp_path: Path, files: dict[str, str]) -> Project:
    facts = {}
    for path, text in files.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        facts[path] = extract(path, target.read_bytes())
    index = ResolutionIndex(facts)
    return Project(facts, index, {name: a.resolver(index) for name, a in ANALYZERS.items()})


# -- JavaScript ---------------------------------------------------------------------------

JS_FILES = {
    "src/lib/shapes.js": """\
export class Shape {
  constructor(name) { this.name = name; }
  area() { return 0; }
  describe() { return `${this.name}: ${this.area()}`; }
}

export class Circle extends Shape {
  radius = 1;
  constructor(r) { super("circle"); this.radius = r; }
  area() { return Math.PI * this.radius ** 2; }
}

export function makeCircle(r) { return new Circle(r); }
export const double = (x) => x * 2;
""",
    "src/lib/index.js": """\
export { makeCircle as circle } from './shapes';
export * from './shapes';
""",
    "src/a/util.js": "export function helper() { return 1; }\nexport function tag() {}\n",
    "src/b/util.js": "export function helper() { return 2; }\n",
    "src/app.js": """\
import React, { useState } from 'react';
import { circle, Shape } from './lib';
import * as shapes from './lib/shapes.js';
const fs = require('fs');

function main() {
  const c = circle(2);
  const s = new Shape("x");
  console.log(shapes.double(c.area()));
  useState(0);
  fs.readFileSync("x");
  helper();
  local();
}

function local() {}
""",
    "src/tagged.js": "import { tag } from './a/util';\nfunction run() { tag(); helper(); }\n",
}


@pytest.fixture
def js(tmp_path: Path) -> Project:
    return build(tmp_path, JS_FILES)


def test_js_blocks_kinds_qualnames_and_positions(js: Project) -> None:
    facts = js.facts["src/lib/shapes.js"]
    assert facts.language == "javascript"
    assert js.qualnames("src/lib/shapes.js") == {
        "": BlockKind.MODULE,
        "Shape": BlockKind.CLASS,
        "Shape.constructor": BlockKind.METHOD,
        "Shape.area": BlockKind.METHOD,
        "Shape.describe": BlockKind.METHOD,
        "Circle": BlockKind.CLASS,
        "Circle.radius": BlockKind.FIELD,
        "Circle.constructor": BlockKind.METHOD,
        "Circle.area": BlockKind.METHOD,
        "makeCircle": BlockKind.FUNCTION,
        "double": BlockKind.FUNCTION,
    }
    module = js.block("src/lib/shapes.js")
    assert (module.module, module.parent, module.start_line) == ("src.lib.shapes", None, 1)
    circle = js.block("src/lib/shapes.js::Circle")
    assert (circle.start_line, circle.end_line, circle.parent) == (7, 11, "src/lib/shapes.js")
    assert circle.signature == "class Circle extends Shape"
    source = (JS_FILES["src/lib/shapes.js"]).encode()
    assert circle.content_hash == content_hash(source[circle.start_byte : circle.end_byte])
    area = js.block("src/lib/shapes.js::Circle.area")
    assert area.parent == circle.id and area.signature == "area()"
    assert js.block("src/lib/shapes.js::double").signature == "const double = (x) =>"
    assert "javascript:name:makeCircle" in facts.provides
    assert "javascript:module:src.lib.shapes" in facts.provides


def test_js_import_blocks_are_named_by_their_bindings(js: Project) -> None:
    names = js.qualnames("src/app.js")
    for qualname in ("import:React,useState", "import:circle,Shape", "import:shapes", "import:fs"):
        assert names[qualname] is BlockKind.IMPORT


def test_js_structural_inheritance_and_override_edges(js: Project) -> None:
    edges = js.edges("src/lib/shapes.js")
    shapes = "src/lib/shapes.js::"
    assert {
        (shapes + "Shape", "ParentOf", shapes + "Shape.area"),
        ("src/lib/shapes.js", "ParentOf", shapes + "Shape"),
        (shapes + "Circle.constructor", "Constructs", shapes + "Circle"),
        (shapes + "Shape", "BaseClassOf", shapes + "Circle"),
        (shapes + "Circle.area", "Overrides", shapes + "Shape.area"),
        (shapes + "Shape.describe", "Calls", shapes + "Shape.area"),
        (shapes + "Circle.constructor", "Calls", shapes + "Shape.constructor"),  # super()
        (shapes + "Circle.area", "Uses", shapes + "Circle.radius"),
        (shapes + "makeCircle", "Instantiates", shapes + "Circle"),
        (shapes + "makeCircle", "Calls", shapes + "Circle.constructor"),
    } <= edges
    # A constructor overrides nothing.
    assert (shapes + "Circle.constructor", "Overrides", shapes + "Shape.constructor") not in edges


def test_js_cross_file_calls_through_imports_and_barrels(js: Project) -> None:
    edges = js.edges("src/app.js")
    shapes = "src/lib/shapes.js::"
    main = "src/app.js::main"
    assert {
        # `circle` is makeCircle re-exported under another name by src/lib/index.js.
        ("src/app.js::import:circle,Shape", "Imports", shapes + "makeCircle"),
        ("src/app.js::import:circle,Shape", "Imports", shapes + "Shape"),
        ("src/app.js::import:shapes", "Imports", "src/lib/shapes.js"),
        (main, "Calls", shapes + "makeCircle"),
        (main, "Imports", "src/app.js::import:circle,Shape"),
        (main, "Instantiates", shapes + "Shape"),
        (main, "Calls", shapes + "Shape.constructor"),
        (main, "Calls", shapes + "double"),
        (main, "Imports", "src/app.js::import:shapes"),
        (main, "Imports", "src/app.js::import:React,useState"),
        (main, "Calls", "src/app.js::local"),
    } <= edges
    unresolved = js.unresolved("src/app.js")
    assert {
        ("src/app.js::import:React,useState", "react", "import"),
        ("src/app.js::import:React,useState", "react.useState", "import"),
        ("src/app.js::import:fs", "fs", "import"),
        (main, "console.log", "call"),
        (main, "react.useState", "call"),
        (main, "fs.readFileSync", "call"),
    } <= unresolved
    assert "javascript:module:src.lib.index" in js.resolve("src/app.js").depends_on


def test_js_ambiguous_bare_name_gets_no_edge(js: Project) -> None:
    # Two files define `helper` and app.js imports neither: precision over recall.
    targets = {t for s, r, t in js.edges("src/app.js") if r == "Calls"}
    assert not any(t.endswith("::helper") for t in targets)
    assert ("src/app.js::main", "helper", "call") in js.unresolved("src/app.js")
    # `c` could be a Shape or a Circle: no guess either.
    assert ("src/app.js::main", "c.area", "call") in js.unresolved("src/app.js")


def test_js_ambiguity_is_broken_by_an_import_from_one_candidate(js: Project) -> None:
    edges = js.edges("src/tagged.js")
    assert ("src/tagged.js::run", "Calls", "src/a/util.js::helper") in edges
    assert ("src/tagged.js::run", "Calls", "src/b/util.js::helper") not in edges


def test_syntax_error_files_still_yield_blocks(tmp_path: Path) -> None:
    project = build(
        tmp_path,
        {
            "broken.js": "class Broken {\n  ok() { return 1; }\n  bad() { if (x { } }\n}\n"
            "function after() { new Broken(); }\n",
            "Broken.java": "class A {\n  void ok() {}\n  void bad() { int y = ; }\n"
            "  void after() { ok(); }\n}\n",
        },
    )
    assert project.facts["broken.js"].syntax_error_lines == (3,)
    assert {"Broken", "Broken.ok", "Broken.bad", "after"} <= set(project.qualnames("broken.js"))
    assert ("broken.js::after", "Instantiates", "broken.js::Broken") in project.edges("broken.js")
    assert project.facts["Broken.java"].syntax_error_lines == (3,)
    assert ("Broken.java::A.after", "Calls", "Broken.java::A.ok") in project.edges("Broken.java")


# -- TypeScript ---------------------------------------------------------------------------

TS_FILES = {
    "src/repo.ts": """\
export interface Repo<T> {
  find(id: string): T;
  save(item: T): void;
}
export abstract class BaseRepo<T> implements Repo<T> {
  protected items: Map<string, T> = new Map();
  abstract find(id: string): T;
  save(item: T): void { this.items.set("x", item); }
}
export class UserRepo extends BaseRepo<User> {
  find(id: string): User { return this.items.get(id)!; }
}
export type User = { name: string };
export enum Color { Red, Green }
export default UserRepo;
""",
    "src/ui/view.tsx": """\
import UserRepo, { Repo } from '../repo';
import type { User } from '../repo.js';
export class Service {
  constructor(private repo: UserRepo) {}
  load(id: string): User { return this.repo.find(id); }
  render() { return <div onClick={() => this.load("a")}>hi</div>; }
}
export function build(r: Repo<User>): Service {
  const s = new Service(new UserRepo());
  r.save({ name: "é" });
  return s;
}
""",
    "src/esm.mts": "import { build } from './ui/view';\nexport const start = () => build(null!);\n",
    "src/legacy.js": "export function legacy() {}\n",
    "src/uses_js.cts": "import { legacy } from './legacy';\nfunction go() { legacy(); }\n",
}


@pytest.fixture
def ts(tmp_path: Path) -> Project:
    return build(tmp_path, TS_FILES)


def test_ts_blocks(ts: Project) -> None:
    assert ts.facts["src/repo.ts"].language == "typescript"
    names = ts.qualnames("src/repo.ts")
    for qualname, kind in {
        "Repo": BlockKind.CLASS,
        "Repo.find": BlockKind.METHOD,
        "BaseRepo": BlockKind.CLASS,
        "BaseRepo.items": BlockKind.FIELD,
        "BaseRepo.find": BlockKind.METHOD,
        "UserRepo.find": BlockKind.METHOD,
        "User": BlockKind.CLASS,
        "Color": BlockKind.CLASS,
    }.items():
        assert names[qualname] is kind, qualname
    assert ts.block("src/repo.ts::Repo.find").signature == "find(id: string): T"
    assert ts.qualnames("src/ui/view.tsx")["Service.constructor"] is BlockKind.METHOD
    assert ts.qualnames("src/esm.mts")["start"] is BlockKind.FUNCTION


def test_ts_inheritance_through_interfaces_and_generics(ts: Project) -> None:
    edges = ts.edges("src/repo.ts")
    repo = "src/repo.ts::"
    assert {
        (repo + "Repo", "BaseClassOf", repo + "BaseRepo"),
        (repo + "BaseRepo", "BaseClassOf", repo + "UserRepo"),
        (repo + "BaseRepo.find", "Overrides", repo + "Repo.find"),
        (repo + "BaseRepo.save", "Overrides", repo + "Repo.save"),
        (repo + "UserRepo.find", "Overrides", repo + "BaseRepo.find"),
        (repo + "UserRepo.find", "Uses", repo + "BaseRepo.items"),  # inherited field
    } <= edges
    assert (repo + "BaseRepo", "Map", "call") in ts.unresolved("src/repo.ts")


def test_ts_calls_through_declared_types_and_default_import(ts: Project) -> None:
    edges = ts.edges("src/ui/view.tsx")
    view, repo = "src/ui/view.tsx::", "src/repo.ts::"
    assert {
        (view + "import:UserRepo,Repo", "Imports", repo + "UserRepo"),  # the default export
        (view + "import:UserRepo,Repo", "Imports", repo + "Repo"),
        (view + "import:User", "Imports", repo + "User"),  # '../repo.js' names repo.ts
        (view + "Service.load", "Calls", repo + "UserRepo.find"),  # this.repo: UserRepo
        (view + "Service.render", "Calls", view + "Service.load"),
        (view + "build", "Calls", repo + "Repo.save"),  # r: Repo<User>
        (view + "build", "Instantiates", view + "Service"),
        (view + "build", "Calls", view + "Service.constructor"),
        (view + "build", "Instantiates", repo + "UserRepo"),
        (view + "build", "Imports", view + "import:User"),  # a type annotation uses it
    } <= edges
    assert ("src/esm.mts::start", "Calls", view + "build") in ts.edges("src/esm.mts")


def test_ts_imports_javascript_files(ts: Project) -> None:
    assert ("src/uses_js.cts::go", "Calls", "src/legacy.js::legacy") in ts.edges("src/uses_js.cts")


def test_jsx_components_are_called_and_html_tags_ignored(tmp_path: Path) -> None:
    project = build(
        tmp_path,
        {
            "ui/Button.tsx": "export function Button(p: Props) { return <button>{p.label}</button>; }\n",
            "ui/App.tsx": "import { Button } from './Button';\n"
            "export function App() { return <div><Button label='x' /></div>; }\n",
            "web/Card.jsx": "export const Card = () => <section />;\n",
            "web/Page.jsx": "import { Card } from './Card';\nfunction Page() { return <Card></Card>; }\n",
        },
    )
    assert ("ui/App.tsx::App", "Calls", "ui/Button.tsx::Button") in project.edges("ui/App.tsx")
    assert ("web/Page.jsx::Page", "Calls", "web/Card.jsx::Card") in project.edges("web/Page.jsx")
    assert not project.unresolved("ui/App.tsx") and not project.unresolved("ui/Button.tsx")


# -- Java ---------------------------------------------------------------------------------

JAVA_FILES = {
    "src/com/acme/model/Entity.java": """\
package com.acme.model;

public abstract class Entity {
    protected String id;
    public String audit() { return id; }
}
""",
    "src/com/acme/model/Auditable.java": """\
package com.acme.model;

public interface Auditable {
    String audit();
}
""",
    "src/com/acme/model/Account.java": """\
package com.acme.model;

import java.util.List;
import java.util.ArrayList;

public class Account extends Entity implements Auditable {
    private long balance, limit = 5;
    private final List<String> log = new ArrayList<>();

    public Account() { this(0); }
    public Account(long initial) { super(); balance = initial; }

    public void deposit(long amount) { balance += amount; log.add("d"); audit(); }
    public void deposit(long amount, String memo) { deposit(amount); }
    @Override
    public String audit() { return "acct " + this.balance; }
    public static Account open() { return new Account(); }

    static class Ledger { void post(Account a) { a.deposit(1); } }
}
""",
    "src/com/acme/model/Bank.java": """\
package com.acme.model;

class Bank {
    Account make() { return Account.open(); }
}
""",
    "src/com/acme/app/Main.java": """\
package com.acme.app;

import com.acme.model.Account;
import com.acme.model.*;
import static com.acme.util.Strings.shout;

public class Main {
    public static void main(String[] args) {
        Account a = new Account(10);
        a.deposit(5);
        a.deposit(5, "x");
        var b = new Account();
        Entity e = a;
        System.out.println(shout(e.audit()));
        new Helper();
    }
}
""",
    "src/com/acme/util/Strings.java": """\
package com.acme.util;

public final class Strings {
    public static String shout(String s) { return s.toUpperCase(); }
}
""",
    "src/com/one/Helper.java": "package com.one;\npublic class Helper {}\n",
    "src/com/two/Helper.java": "package com.two;\npublic class Helper {}\n",
}

ACCOUNT = "src/com/acme/model/Account.java::Account"


@pytest.fixture
def java(tmp_path: Path) -> Project:
    return build(tmp_path, JAVA_FILES)


def test_java_blocks_with_overloads_and_constructors(java: Project) -> None:
    names = java.qualnames("src/com/acme/model/Account.java")
    assert {k: v for k, v in names.items() if not k.startswith("import:")} == {
        "": BlockKind.MODULE,
        "Account": BlockKind.CLASS,
        "Account.balance": BlockKind.FIELD,
        "Account.log": BlockKind.FIELD,
        "Account.Account": BlockKind.METHOD,
        "Account.Account#2": BlockKind.METHOD,
        "Account.deposit": BlockKind.METHOD,
        "Account.deposit#2": BlockKind.METHOD,
        "Account.audit": BlockKind.METHOD,
        "Account.open": BlockKind.METHOD,
        "Account.Ledger": BlockKind.CLASS,
        "Account.Ledger.post": BlockKind.METHOD,
    }
    assert names["import:List"] is BlockKind.IMPORT
    assert java.block(ACCOUNT + ".deposit#2").signature == (
        "public void deposit(long amount, String memo)"
    )
    # the #2 keeps the ids apart; the name is what code calls it by
    assert java.block(ACCOUNT + ".deposit#2").name == "deposit"
    assert java.block(ACCOUNT + ".audit").signature == "@Override public String audit()"
    facts = java.facts["src/com/acme/model/Account.java"]
    assert facts.language == "java"
    assert {"java:package:com.acme.model", "java:name:limit"} <= facts.provides


def test_java_overloads_are_told_apart_by_arity(java: Project) -> None:
    edges = java.edges("src/com/acme/app/Main.java")
    main = "src/com/acme/app/Main.java::Main.main"
    assert {
        (main, "Calls", ACCOUNT + ".deposit"),
        (main, "Calls", ACCOUNT + ".deposit#2"),
        (main, "Instantiates", ACCOUNT),
        (main, "Calls", ACCOUNT + ".Account#2"),  # new Account(10)
        (main, "Calls", ACCOUNT + ".Account"),  # new Account()
        (main, "Calls", "src/com/acme/model/Entity.java::Entity.audit"),  # Entity e
        (main, "Calls", "src/com/acme/util/Strings.java::Strings.shout"),  # static import
        (main, "Imports", "src/com/acme/app/Main.java::import:Account"),
    } <= edges
    account_edges = java.edges("src/com/acme/model/Account.java")
    assert (ACCOUNT + ".deposit#2", "Calls", ACCOUNT + ".deposit") in account_edges
    assert (ACCOUNT + ".deposit#2", "Calls", ACCOUNT + ".deposit#2") not in account_edges
    assert (ACCOUNT + ".Account", "Calls", ACCOUNT + ".Account#2") in account_edges  # this(0)


def test_java_inheritance_fields_and_same_package(java: Project) -> None:
    edges = java.edges("src/com/acme/model/Account.java")
    entity = "src/com/acme/model/Entity.java::Entity"
    auditable = "src/com/acme/model/Auditable.java::Auditable"
    assert {
        (entity, "BaseClassOf", ACCOUNT),
        (auditable, "BaseClassOf", ACCOUNT),
        (ACCOUNT + ".audit", "Overrides", entity + ".audit"),
        (ACCOUNT + ".audit", "Overrides", auditable + ".audit"),
        (ACCOUNT + ".Account", "Constructs", ACCOUNT),
        (ACCOUNT + ".Account#2", "Uses", ACCOUNT + ".balance"),  # bare `balance`
        (ACCOUNT + ".audit", "Uses", ACCOUNT + ".balance"),  # this.balance
        (ACCOUNT + ".deposit", "Uses", ACCOUNT + ".log"),
        (ACCOUNT + ".deposit", "Calls", ACCOUNT + ".audit"),
        (ACCOUNT + ".Ledger.post", "Calls", ACCOUNT + ".deposit"),
        (ACCOUNT, "Imports", "src/com/acme/model/Account.java::import:List"),  # a field type
    } <= edges
    unresolved = java.unresolved("src/com/acme/model/Account.java")
    assert (
        "src/com/acme/model/Account.java::import:List",
        "java.util.List",
        "import",
    ) in unresolved
    assert (ACCOUNT + ".deposit", "java.util.List.add", "call") in unresolved
    # Bank uses Account from its own package without importing it.
    bank = java.edges("src/com/acme/model/Bank.java")
    assert ("src/com/acme/model/Bank.java::Bank.make", "Calls", ACCOUNT + ".open") in bank


def test_java_ambiguous_class_name_gets_no_edge(java: Project) -> None:
    main = "src/com/acme/app/Main.java::Main.main"
    helper_edges = {e for e in java.edges("src/com/acme/app/Main.java") if "Helper" in e[2]}
    assert helper_edges == set()
    assert (main, "Helper", "call") in java.unresolved("src/com/acme/app/Main.java")


# -- contract details ---------------------------------------------------------------------


def test_every_edge_joins_known_blocks(js: Project, java: Project) -> None:
    for project in (js, java):
        known = {b.id for f in project.facts.values() for b in f.blocks}
        # the graph finds a block's file from its id (it loads blocks file by file)
        assert all(path_of(b.id) == f.path for f in project.facts.values() for b in f.blocks)
        for source, _, target in project.all_edges():
            assert source in known and target in known


def test_facts_survive_json_and_resolve_identically(java: Project) -> None:
    path = "src/com/acme/model/Account.java"
    facts = java.facts[path]
    restored = FileFacts.from_json(json.loads(json.dumps(facts.to_json())))
    assert restored == facts
    resolver = ANALYZERS["java"].resolver(java.index)
    assert resolver.resolve(restored) == java.resolve(path)


def test_interface_hash_ignores_bodies_but_not_signatures() -> None:
    base = "class A {\n  m(x) { return f(x); }\n}\n"
    moved = "\n\nclass A {\n  m(x) { return g(x) + 1; }\n}\n"
    changed = "class A {\n  m(x, y) { return f(x); }\n}\n"
    assert extract("a.js", base).interface_hash == extract("a.js", moved).interface_hash
    assert extract("a.js", base).interface_hash != extract("a.js", changed).interface_hash
    field = "class B {\n  int size = 1;\n}\n"
    assert extract("B.java", field).interface_hash == (
        extract("B.java", field.replace("1", "2")).interface_hash
    )
    assert extract("B.java", field).interface_hash != (
        extract("B.java", field.replace("int", "long")).interface_hash
    )


def test_version_names_the_generic_analyzer() -> None:
    versions = {a.version for a in ANALYZERS.values()}
    assert len(versions) == 3  # each language's queries hash differently
    assert all(v.startswith("generic-1-") for v in versions)
    assert set(ANALYZERS) == {"javascript", "typescript", "java"}
    assert ANALYZERS["typescript"].extensions == (".ts", ".tsx", ".mts", ".cts")


def test_editing_a_query_changes_the_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "codeplan.graph.generic.analyzer_query",
        lambda language, name: analyzer_query(language, name) + "\n; an edit",
    )
    edited = generic.GenericAnalyzer(generic.LANGUAGE_SPECS[0])
    assert edited.version != ANALYZERS[edited.language].version


def test_invalidate_forgets_results_about_an_edited_file(js: Project) -> None:
    resolver = js.resolvers["javascript"]
    assert ("src/app.js::main", "Calls", "src/lib/shapes.js::double") in js.edges("src/app.js")
    renamed = extract("src/lib/shapes.js", JS_FILES["src/lib/shapes.js"].replace("double", "twice"))
    old = js.facts["src/lib/shapes.js"]
    js.facts["src/lib/shapes.js"] = renamed
    js.index.replace_file("src/lib/shapes.js", renamed)
    resolver.invalidate("src/lib/shapes.js", old.provides | renamed.provides)
    assert ("src/app.js::main", "Calls", "src/lib/shapes.js::double") not in js.edges("src/app.js")
    assert ("src/app.js::main", "shapes.double", "call") in js.unresolved("src/app.js")


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("empty.js", b""),
        ("empty.java", b""),
        ("binary.ts", b"\xff\xfe\x00garbage\x00"),
        ("unicode.js", "class Ünï { métho() { return this.ñ; } ñ = 1 }\n".encode()),
        ("unicode.java", "class Ä { int ö; void ü() { ö++; } }".encode()),
        ("nested.js", b"function a(){" * 1500 + b"}" * 1500),
        ("nested.java", b"class A {" * 800 + b"}" * 800),
        ("chain.ts", b"x = " + b"a." * 20000 + b"b();"),
        ("brackets.js", b"[" * 60000),
        ("broken.tsx", b"export class A { m( { <div> } import x from;"),
    ],
)
def test_odd_input_never_raises(path: str, source: bytes) -> None:
    facts = extract(path, source)
    json.dumps(facts.to_json())
    assert facts.blocks[0].kind is BlockKind.MODULE and facts.blocks[0].id == path
    resolution = ANALYZERS[facts.language].resolver(ResolutionIndex({path: facts})).resolve(facts)
    assert all(e.source != e.target or e.relation.value == "Calls" for e in resolution.edges)
    if path.startswith("unicode"):
        assert len(facts.blocks) == 4


def test_unicode_identifiers_resolve() -> None:
    facts = extract("u.java", "class Ä { int ö; void ü() { ö++; } }".encode())
    resolution = ANALYZERS["java"].resolver(ResolutionIndex({"u.java": facts})).resolve(facts)
    edges = {(e.source, e.relation.value, e.target) for e in resolution.edges}
    assert ("u.java::Ä.ü", "Uses", "u.java::Ä.ö") in edges
