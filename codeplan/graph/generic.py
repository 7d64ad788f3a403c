"""Dependency-graph analyzers for languages described by tree-sitter query files.

Adding a language means adding `analyzers/<language>/{blocks,imports,references}.scm`, a
grammar wheel and one `LanguageSpec` row below.  The queries decide what is a class, a
method, an import or a call (each file documents its capture names); an optional
`<name><extension>.scm` (e.g. `references.tsx.scm`) adds patterns for one grammar only.
The code is shared by every language:

* `generic_extract` nests the captured definitions into blocks and records imports,
  references and locals' declared classes in `FileFacts.data`;
* `generic_modules` finds what an import denotes (a JS/TS file, a Java package or class);
* `generic_resolve` turns references into edges by name: through imports first, then
  same-file definitions, then (for package languages) the file's package, then a unique
  definition of the name anywhere in the language.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import tree_sitter_java
import tree_sitter_javascript
import tree_sitter_typescript
from tree_sitter import Language, Query

from codeplan.graph.analyzer import LanguageAnalyzer, ResolutionIndex, Resolver
from codeplan.graph.generic_extract import CompiledQueries, extract_facts
from codeplan.graph.generic_modules import ModuleIndex, ModuleSystem
from codeplan.graph.generic_resolve import GenericResolver
from codeplan.graph.model import content_hash
from codeplan.graph.records import FileFacts
from codeplan.resources import analyzer_query

# Bump when the extraction code changes; query edits change the version by themselves.
GENERIC_ANALYZER_VERSION = "generic-1"
QUERY_FILES = ("blocks", "imports", "references")

GrammarLoader = Callable[[], object]  # returns the PyCapsule that `Language()` wraps


class Dispatch(str, Enum):
    """How a class method is looked up from a bare name inside the class."""

    EXPLICIT_THIS = "explicit_this"  # JS/TS: `this.m()`; a bare `m()` is a free function
    IMPLICIT_THIS = "implicit_this"  # Java: a bare `m()` or `x` may be a member


@dataclass(frozen=True)
class LanguageSpec:
    language: str
    # Extension -> grammar, so one language may use several (`.tsx` needs the TSX grammar).
    grammars: tuple[tuple[str, GrammarLoader], ...]
    module_system: ModuleSystem
    dispatch: Dispatch
    # Languages whose files this one's relative imports may name (TS imports JS and back).
    import_languages: tuple[str, ...]

    @property
    def extensions(self) -> tuple[str, ...]:
        return tuple(extension for extension, _ in self.grammars)


_JS_FAMILY = ("javascript", "typescript")

LANGUAGE_SPECS: tuple[LanguageSpec, ...] = (
    LanguageSpec(
        language="javascript",
        grammars=tuple(
            (extension, tree_sitter_javascript.language)
            for extension in (".js", ".jsx", ".mjs", ".cjs")
        ),
        module_system=ModuleSystem.RELATIVE_PATH,
        dispatch=Dispatch.EXPLICIT_THIS,
        import_languages=_JS_FAMILY,
    ),
    LanguageSpec(
        language="typescript",
        grammars=(
            (".ts", tree_sitter_typescript.language_typescript),
            (".tsx", tree_sitter_typescript.language_tsx),
            (".mts", tree_sitter_typescript.language_typescript),
            (".cts", tree_sitter_typescript.language_typescript),
        ),
        module_system=ModuleSystem.RELATIVE_PATH,
        dispatch=Dispatch.EXPLICIT_THIS,
        import_languages=_JS_FAMILY,
    ),
    LanguageSpec(
        language="java",
        grammars=((".java", tree_sitter_java.language),),
        module_system=ModuleSystem.PACKAGE,
        dispatch=Dispatch.IMPLICIT_THIS,
        import_languages=("java",),
    ),
)


class GenericAnalyzer:
    """A `LanguageAnalyzer` driven entirely by a `LanguageSpec` and its query files."""

    def __init__(self, spec: LanguageSpec) -> None:
        self._spec = spec
        # (query name, extension) -> text.  Extension "" is the file every grammar reads;
        # `<name><extension>.scm` (e.g. `references.tsx.scm`) adds patterns for node types
        # only one grammar has, since a query naming an unknown node type does not compile.
        self._query_texts: dict[tuple[str, str], str] = {}
        for name in QUERY_FILES:
            self._query_texts[(name, "")] = analyzer_query(spec.language, name)
            for extension in spec.extensions:
                try:
                    extra = analyzer_query(spec.language, name + extension)
                except FileNotFoundError:
                    continue
                self._query_texts[(name, extension)] = extra
        queries_digest = content_hash(
            "\0".join(f"{k}\0{v}" for k, v in sorted(self._query_texts.items())).encode()
        )
        self._version = f"{GENERIC_ANALYZER_VERSION}-{queries_digest[:16]}"
        self._compiled: dict[str, CompiledQueries] = {}  # by extension, compiled on first use

    @property
    def spec(self) -> LanguageSpec:
        return self._spec

    @property
    def language(self) -> str:
        return self._spec.language

    @property
    def extensions(self) -> tuple[str, ...]:
        return self._spec.extensions

    @property
    def version(self) -> str:
        return self._version

    def extract(self, path: str, source: bytes) -> FileFacts:
        return extract_facts(
            self._spec.language,
            self._version,
            self._queries_for(path),
            path,
            source,
            implicit_this=self._spec.dispatch is Dispatch.IMPLICIT_THIS,
            package_scoped=self._spec.module_system is ModuleSystem.PACKAGE,
        )

    def resolver(self, index: ResolutionIndex) -> Resolver:
        modules = ModuleIndex(
            language=self._spec.language,
            module_system=self._spec.module_system,
            import_languages=self._spec.import_languages,
            import_extensions=tuple(
                extension
                for spec in LANGUAGE_SPECS
                if spec.language in self._spec.import_languages
                for extension in spec.extensions
            ),
            index=index,
        )
        return GenericResolver(
            modules, index, implicit_this=self._spec.dispatch is Dispatch.IMPLICIT_THIS
        )

    def _queries_for(self, path: str) -> CompiledQueries:
        grammars = dict(self._spec.grammars)
        extension = posixpath.splitext(path)[1]
        if extension not in grammars:  # the builder sends none such; use the main grammar
            extension = self._spec.grammars[0][0]
        compiled = self._compiled.get(extension)
        if compiled is None:
            language = Language(grammars[extension]())
            compiled = CompiledQueries(
                language=language,
                blocks=self._compile(language, "blocks", extension),
                imports=self._compile(language, "imports", extension),
                references=self._compile(language, "references", extension),
            )
            self._compiled[extension] = compiled
        return compiled

    def _compile(self, language: Language, name: str, extension: str) -> Query:
        text = self._query_texts[(name, "")] + "\n" + self._query_texts.get((name, extension), "")
        query: Query = Query(language, text)
        return query


def generic_analyzers() -> list[LanguageAnalyzer]:
    """Analyzers for JavaScript, TypeScript and Java, to register beside Python's."""
    return [GenericAnalyzer(spec) for spec in LANGUAGE_SPECS]
