; Import declarations.  Capture vocabulary (read by codeplan/graph/generic.py):
;   @package         this file's package
;   @import          a declaration binding a name in this file (one IMPORT block each)
;   @import.source   the package (or, for static imports, the class) imported from
;   @import.name     the imported simple name
;   @import.wildcard   every member of the source becomes visible (`.*`)

(package_declaration [(identifier) (scoped_identifier)] @package)

; `import a.b.C;` and `import static a.b.C.m;`; the anchor keeps `a.b.*` out.
(import_declaration
  (scoped_identifier
    scope: (_) @import.source
    name: (identifier) @import.name) .) @import

(import_declaration
  [(identifier) (scoped_identifier)] @import.source
  (asterisk) @import.wildcard) @import
