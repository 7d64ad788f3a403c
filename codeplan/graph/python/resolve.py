"""Python name resolution: scopes, imports, classes and light type inference → edges.

Values are small tuples: ("mod", module), ("blk", block_id) for a class or function
object, ("inst", class_id), ("super", class_id), ("ext", dotted) for what the repository
does not define.  Evaluation either emits edges on behalf of one reference (`Site`) or
runs silently (inferring a variable's type, a function's return, a class's bases).

The memoised inference it builds on (returns, fields, bases, MRO) is inference.py.
"""

from __future__ import annotations

from typing import Any

from codeplan.graph.model import BlockKind, Relation
from codeplan.graph.python.exprs import Expr, dotted_expr, expr_dotted
from codeplan.graph.python.inference import Inference, Site, Value, as_inferred, dedupe
from codeplan.graph.python.lookup import KEY_PREFIX
from codeplan.graph.records import FileFacts, FileResolution, PackedEdges, PackedRefs

_FUNCTION_KINDS = (BlockKind.FUNCTION, BlockKind.METHOD)
# a dict lookup: an enum member's `.value` is a property, and there is one per edge
_VALUE_OF = {relation: relation.value for relation in Relation}


class PythonResolver(Inference):
    def resolve_name(self, name: str, scope: str) -> list[str]:
        path = scope.split("::", 1)[0]
        site = Site(scope, 0)
        values = self._eval(dotted_expr(name), path, scope, site)
        found = [v[1] for v in values if v[0] == "blk"]
        found += [self._module_path(v[1]) for v in values if v[0] == "mod"]
        if found:
            return _unique(found)
        # a field denotes its value, not itself: the definition is the last field read
        fields = [target for (_, target, relation) in site.edges if relation is Relation.USES]
        return fields[-1:]

    # -- entry point ----------------------------------------------------------------------

    def resolve(self, facts: FileFacts) -> FileResolution:
        data = facts.data
        edges: dict[tuple[str, str, Relation], int] = {}
        unresolved: dict[tuple[str, str, str], int] = {}
        with self.index.tracking() as deps:
            self.index.consult({KEY_PREFIX + data["module"]})
            for block in facts.blocks:
                if block.parent is not None:
                    edges[(block.parent, block.id, Relation.PARENT_OF)] = 0
            self._class_edges(facts, edges)
            self._import_edges(facts, edges, unresolved)
            # one site re-aimed at each reference: a file has hundreds of references, and
            # nothing keeps a site beyond the evaluation of its own
            site = Site("", 0, edges)
            for owner, expr, context, line in data["refs"]:
                site.owner, site.line = owner, line
                self._reference(facts.path, owner, expr, context, site, unresolved)
        return FileResolution(
            path=facts.path,
            # sorted by (source, target, relation value): a Relation is the str of its value,
            # and no two items share a key, so plain tuple order is that order
            edges=PackedEdges.of_rows(
                tuple((s, t, _VALUE_OF[r], line) for (s, t, r), line in sorted(edges.items()))
            ),
            unresolved=PackedRefs.of_rows(
                tuple((s, n, line, c) for (s, n, c), line in sorted(unresolved.items()))
            ),
            depends_on=frozenset(deps),
        )

    def _reference(
        self,
        path: str,
        owner: str,
        expr: Expr,
        context: str,
        site: Site,
        unresolved: dict[tuple[str, str, str], int],
    ) -> None:
        values = self._eval(expr, path, owner, site)
        if context == "call":
            for value in values:
                self._call(value, site)
            # an inferred external type (`self.session.get()`) is still an external call
            external = [v[1] for v in values if v[0] in ("ext", "exti")]
            if not values and expr != ["n", "super"]:
                external = [expr_dotted(expr) or ""]
        elif context == "annotation":
            external = []
        else:
            if context == "arg":  # a function passed as a callback will be called
                for value in values:
                    if value[0] == "blk" and self._kind(value[1]) in _FUNCTION_KINDS:
                        site.emit(value[1], Relation.CALLS)
            external = [v[1] for v in values if v[0] == "ext"]
        for name in external:
            if name:
                key = (owner, name, "load" if context == "arg" else context)
                unresolved[key] = min(unresolved.get(key, site.line), site.line)

    # -- structural edges -----------------------------------------------------------------

    def _class_edges(self, facts: FileFacts, edges: dict[tuple[str, str, Relation], int]) -> None:
        for class_id, info in facts.data["classes"].items():
            init = info["members"].get("__init__")
            if init is not None and self._kind(init) is BlockKind.METHOD:
                edges[(init, class_id, Relation.CONSTRUCTS)] = 0
            mro = self._mro(class_id)
            for base in self._direct_bases(class_id):
                edges[(base, class_id, Relation.BASE_CLASS_OF)] = 0
            for name, member in info["members"].items():
                if self._kind(member) is not BlockKind.METHOD:
                    continue
                for base in mro[1:]:
                    overridden = self._members(base).get(name)
                    if overridden is not None:
                        if self._kind(overridden) is BlockKind.METHOD:
                            edges[(member, overridden, Relation.OVERRIDES)] = 0
                        break

    def _import_edges(
        self,
        facts: FileFacts,
        edges: dict[tuple[str, str, Relation], int],
        unresolved: dict[tuple[str, str, str], int],
    ) -> None:
        for import_id, entries in facts.data["imports"].items():
            block = self.index.block(import_id)
            line = block.start_line if block is not None else 0
            for bound, module, level, imported, bind_module in entries:
                if imported == "*":
                    base = self._absolute(module, level, facts.path)
                    found = self._find_module(base, facts.path) if base else None
                    if found is not None:
                        edges[(import_id, self._module_path(found), Relation.IMPORTS)] = line
                    else:
                        unresolved[(import_id, base or module, "import")] = line
                    continue
                targets, external = self._import_targets(facts.path, module, level, imported)
                for target in targets:
                    edges[(import_id, target, Relation.IMPORTS)] = line
                if external:
                    unresolved[(import_id, external, "import")] = line
                del bound, bind_module

    def _import_targets(
        self, path: str, module: str, level: int, imported: str | None
    ) -> tuple[list[str], str | None]:
        """Blocks an import entry points at (definition, module, re-exporting import)."""
        base = self._absolute(module, level, path)
        if base is None:
            return [], None
        if imported is None:
            found = self._find_module(base, path)
            return ([self._module_path(found)], None) if found else ([], base)
        found = self._find_module(base, path)
        if found is None:
            return [], f"{base}.{imported}"
        submodule = self._find_module(f"{found}.{imported}", path)
        targets: list[str] = []
        for kind, target, _ in self._module_bindings(found).get(imported, []):
            if target is not None and kind in ("def", "class", "assign", "import"):
                targets.append(target)
                if kind == "import":  # a re-export: link the definition it finally names
                    targets.extend(
                        v[1]
                        for v in self._import_value(self._module_path(found), target, imported)
                        if v[0] == "blk"
                    )
        if not targets and submodule is not None:
            targets.append(self._module_path(submodule))
        if not targets:
            targets = [v[1] for v in self._star_member(found, imported, set()) if v[0] == "blk"]
        return sorted(set(targets)), None if targets else f"{found}.{imported}"

    def _module_member(self, module: str, name: str, site: Site | None) -> list[Value]:
        facts = self._module_facts(module)
        if facts is not None:
            entries = facts.data["scopes"][facts.path]["bindings"].get(name)
            if entries:
                values = self._binding_values(facts.path, facts.path, name, entries, site)
                if values:
                    return values
                # e.g. a package's __init__ importing its own submodule: fall through
            starred = self._star_member(module, name, set())
            if starred:
                return starred
        submodule = self._find_module(f"{module}.{name}", "")
        if submodule is not None:
            return [("mod", submodule)]
        if facts is None:
            return [("ext", f"{module}.{name}")]
        return []

    def _star_member(self, module: str, name: str, seen: set[str]) -> list[Value]:
        facts = self._module_facts(module)
        if facts is None or module in seen:
            return []
        seen.add(module)
        for _, star_module, level in facts.data["stars"]:
            base = self._absolute(star_module, level, facts.path)
            source = self._find_module(base, facts.path) if base else None
            if source is None:
                continue
            exported = self._module_facts(source)
            if exported is None or not _exports(exported, name):
                continue
            entries = exported.data["scopes"][exported.path]["bindings"].get(name)
            if entries:
                return self._binding_values(exported.path, exported.path, name, entries, None)
            deeper = self._star_member(source, name, seen)
            if deeper:
                return deeper
        return []

    # -- names ----------------------------------------------------------------------------

    def _lookup(self, path: str, scope_id: str, name: str, site: Site | None) -> list[Value]:
        facts = self.index.facts(path)
        if facts is None:
            return []
        scopes = facts.data["scopes"]
        current: str | None = scope_id
        first = True
        while current is not None:
            scope = scopes[current]
            entries = scope["bindings"].get(name) if first or scope["kind"] != "class" else None
            if entries:
                # a plain list, not a set: most names have one binding, and this runs for
                # every name a file mentions (a slice for one: a comprehension is a call)
                kinds = [e[0] for e in entries] if len(entries) > 1 else entries[0][:1]
                if "global" in kinds:
                    current = path
                    first = False
                    continue
                if "nonlocal" not in kinds:
                    return self._binding_values(path, current, name, entries, site)
            current = scope["parent"]
            first = False
        starred = self._star_member(facts.data["module"], name, set())
        return starred or [("ext", name)]

    def _binding_values(
        self, path: str, scope_id: str, name: str, entries: list[list[Any]], site: Site | None
    ) -> list[Value]:
        values: list[Value] = []
        for kind, target, exprs in entries:
            if kind in ("def", "class"):
                values.append(("blk", target))
            elif kind == "import":
                if site is not None:
                    site.emit(target, Relation.IMPORTS)
                values.extend(self._import_value(path, target, name))
            elif kind == "assign" and target is not None:
                if site is not None:
                    site.emit(target, Relation.USES)
                values.extend(as_inferred(self._field_values(target)))
            elif kind == "assign" or kind == "param":
                key = (f"{scope_id}\0{name}", "local")
                hit = self._memo.get(key)
                if hit is not None:
                    values.extend(self._recalled(hit))
                    continue
                values.extend(
                    self._memoised(
                        key,
                        lambda p=kind == "param", e=exprs: self._infer_all(
                            e, path, self._evaluation_scope(path, scope_id, p)
                        ),
                    )
                )
        return dedupe(values)

    def _evaluation_scope(self, path: str, scope_id: str, is_param: bool) -> str:
        """Where a local's values are evaluated: a parameter's default and annotation
        belong to the scope around its function (found only on a memo miss: `self` is
        looked up from every method, and the memo nearly always has it)."""
        return (self._scope_parent(path, scope_id) if is_param else None) or scope_id

    def _import_value(self, path: str, import_id: str, name: str) -> list[Value]:
        # memoised: it also cuts import cycles (`from .a import a` inside a.py)
        key = (f"{import_id}\0{name}", "import")
        hit = self._memo.get(key)
        if hit is not None:
            return self._recalled(hit)
        return self._memoised(key, lambda: self._compute_import_value(path, import_id, name))

    def _compute_import_value(self, path: str, import_id: str, name: str) -> list[Value]:
        facts = self.index.facts(path)
        if facts is None:
            return []
        for bound, module, level, imported, bind_module in facts.data["imports"].get(import_id, []):
            if bound != name:
                continue
            if imported is None:
                found = self._find_module(module, path)
                if bind_module == module:
                    return [("mod", found)] if found else [("ext", module)]
                if found is not None or self._find_module(bind_module, path) is not None:
                    return [("mod", self._find_module(bind_module, path) or bind_module)]
                return [("ext", bind_module)]
            base = self._absolute(module, level, path)
            if base is None:
                return []
            found = self._find_module(base, path)
            if found is None:
                return [("ext", f"{base}.{imported}")]
            return self._module_member(found, imported, None)
        return []

    # -- evaluation -----------------------------------------------------------------------

    def _eval(self, expr: Expr, path: str, scope_id: str, site: Site | None) -> list[Value]:
        head = expr[0]
        if head == "n":
            return self._lookup(path, scope_id, expr[1], site)
        if head == "a":
            bases = self._eval(expr[1], path, scope_id, site)
            if len(bases) == 1:  # nearly always: spare the comprehension (a call of its own)
                return dedupe(self._attribute(bases[0], expr[2], site))
            return dedupe([v for base in bases for v in self._attribute(base, expr[2], site)])
        if head == "c":
            callees = self._eval(expr[1], path, scope_id, site)
            if len(callees) == 1:
                return dedupe(self._call(callees[0], site))
            return dedupe([v for callee in callees for v in self._call(callee, site)])
        if head == "u":
            return dedupe(
                self._eval(expr[1], path, scope_id, site)
                + self._eval(expr[2], path, scope_id, site)
            )
        if head == "el":
            return [
                ("elem", v[1]) for v in self._eval(expr[1], path, scope_id, None) if v[0] == "inst"
            ]
        if head == "it":
            return [
                ("inst", v[1]) for v in self._eval(expr[1], path, scope_id, site) if v[0] == "elem"
            ]
        if head == "tup":
            return [("tup", *(self._element_class(e, path, scope_id) for e in expr[1]))]
        if head == "ix":
            position = expr[2] + 1
            return [
                ("inst", v[position] if v[0] == "tup" else v[1])
                for v in self._eval(expr[1], path, scope_id, site)
                if (v[0] == "tup" and len(v) > position and v[position]) or v[0] == "elem"
            ]
        if head == "s":
            return [("super", expr[1])]
        if head == "b":
            return [("blk", expr[1])]
        if head == "i":
            return [
                ("inst", v[1]) if v[0] == "blk" else ("exti", v[1])
                for v in self._eval(expr[1], path, scope_id, None)
                if v[0] in ("blk", "ext", "exti") and (v[0] != "blk" or self._is_class(v[1]))
            ]
        if head == "dt":
            return [
                ("inst", class_id) for class_id in self._documented_class(expr[1], path, scope_id)
            ]
        return []

    def _documented_class(self, dotted: str, path: str, scope_id: str) -> list[str]:
        """The repository classes a docstring's type names: as the scope sees the name, else
        as an absolute path (`:rtype: requests.Response` inside requests/api.py, which
        never imports `requests`).  Prose is loose, so only classes count, never a
        library's names."""
        values = self._eval(dotted_expr(dotted), path, scope_id, None)
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            if any(v[0] == "blk" for v in values):
                break
            module = self._find_module(".".join(parts[:cut]), path)
            if module is not None:
                values = [("mod", module)]
                for name in parts[cut:]:
                    values = [found for v in values for found in self._attribute(v, name, None)]
        return [v[1] for v in values if v[0] == "blk" and self._is_class(v[1])]

    def _element_class(self, expr: Expr, path: str, scope_id: str) -> str:
        """The class of a tuple element's instances, or "" when unknown."""
        for value in self._eval(expr, path, scope_id, None):
            if value[0] == "inst":
                return value[1]
        return ""

    def _attribute(self, base: Value, name: str, site: Site | None) -> list[Value]:
        kind = base[0]
        if kind == "mod":
            return self._module_member(base[1], name, site)
        if kind in ("ext", "exti"):
            return [(kind, f"{base[1]}.{name}")]
        if kind in ("blk", "inst", "super"):
            if kind == "blk" and not self._is_class(base[1]):
                return []
            member = self._class_member(base[1], name, skip_self=kind == "super")
            if member is None:
                external = self._external_base(base[1])
                return [("ext", f"{external}.{name}")] if external else []
            values = self._member_value(member, instance=kind != "blk", site=site)
            if kind == "blk" and self._kind(member) is BlockKind.FIELD and self._is_enum(base[1]):
                return [("inst", base[1])]  # an Enum's members are instances of the Enum
            return values
        return []

    def _member_value(self, member: str, instance: bool, site: Site | None) -> list[Value]:
        kind = self._kind(member)
        if kind is BlockKind.FIELD:
            if site is not None:
                site.emit(member, Relation.USES)
            return as_inferred(self._field_values(member))
        if kind is BlockKind.METHOD and instance and self._function_kind(member) == "property":
            if site is not None:
                site.emit(member, Relation.CALLS)
            return as_inferred(self._returns(member))
        return [("blk", member)]

    def _call(self, callee: Value, site: Site | None) -> list[Value]:
        kind = callee[0]
        if kind in ("ext", "exti"):
            return [("exti", f"{callee[1]}()")]
        if kind == "blk":
            target = callee[1]
            if self._is_class(target):
                if site is not None:
                    site.emit(target, Relation.INSTANTIATES)
                    init = self._class_member(target, "__init__", skip_self=False)
                    if init is not None and self._kind(init) is BlockKind.METHOD:
                        site.emit(init, Relation.CALLS)
                return [("inst", target)]
            if self._kind(target) in (BlockKind.FUNCTION, BlockKind.METHOD):
                if site is not None:
                    site.emit(target, Relation.CALLS)
                return as_inferred(self._returns(target))
        if kind == "inst":
            call = self._class_member(callee[1], "__call__", skip_self=False)
            if call is not None:
                if site is not None:
                    site.emit(call, Relation.CALLS)
                return as_inferred(self._returns(call))
        return []


def _exports(facts: FileFacts, name: str) -> bool:
    names = facts.data["all"]
    return name in names if names is not None else not name.startswith("_")


def _unique(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))
