; Import statements.  Capture vocabulary (read by codeplan/graph/generic.py):
;   @import          a statement binding names in this file (one IMPORT block each)
;   @reexport        a statement passing another module's names on (`export ... from`)
;   @import.source   the module specifier
;   @import.name     an imported name, with @import.alias for its local name if renamed
;   @import.default  the local name bound to the module's default export
;   @import.namespace  the local name bound to the whole module
;   @import.wildcard   every member of the source becomes visible

(import_statement
  (import_clause (identifier) @import.default)
  source: (string (string_fragment) @import.source)) @import

(import_statement
  (import_clause (namespace_import (identifier) @import.namespace))
  source: (string (string_fragment) @import.source)) @import

(import_statement
  (import_clause
    (named_imports
      (import_specifier name: (_) @import.name alias: (identifier)? @import.alias)))
  source: (string (string_fragment) @import.source)) @import

; Side-effect imports (`import './polyfill'`) still get a block.
(import_statement source: (string (string_fragment) @import.source)) @import

; CommonJS: `const x = require('./x')` and `const { a, b: c } = require('./x')` at top level.
(program
  [(lexical_declaration
     (variable_declarator
       name: (identifier) @import.namespace
       value: (call_expression
         function: (identifier) @_require
         arguments: (arguments . (string (string_fragment) @import.source)))))
   (variable_declaration
     (variable_declarator
       name: (identifier) @import.namespace
       value: (call_expression
         function: (identifier) @_require
         arguments: (arguments . (string (string_fragment) @import.source)))))] @import
  (#eq? @_require "require"))

(program
  [(lexical_declaration
     (variable_declarator
       name: (object_pattern
         [(shorthand_property_identifier_pattern) @import.name
          (pair_pattern key: (property_identifier) @import.name value: (identifier) @import.alias)])
       value: (call_expression
         function: (identifier) @_require
         arguments: (arguments . (string (string_fragment) @import.source)))))
   (variable_declaration
     (variable_declarator
       name: (object_pattern
         [(shorthand_property_identifier_pattern) @import.name
          (pair_pattern key: (property_identifier) @import.name value: (identifier) @import.alias)])
       value: (call_expression
         function: (identifier) @_require
         arguments: (arguments . (string (string_fragment) @import.source)))))] @import
  (#eq? @_require "require"))

; Barrel files: `export { a as b } from './x'` and `export * from './x'`.
(export_statement
  (export_clause (export_specifier name: (_) @import.name alias: (_)? @import.alias))
  source: (string (string_fragment) @import.source)) @reexport

(export_statement
  "*" @import.wildcard
  source: (string (string_fragment) @import.source)) @reexport
