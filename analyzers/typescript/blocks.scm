; Definitions that become blocks.  Capture vocabulary (read by codeplan/graph/generic.py):
;   @definition.class | .function | .method | .constructor | .field   the block's node
;   @name         the defined name (several for `int a, b;`-style declarations)
;   @body         where the body starts; the signature is the text before it
;   @parameters   the parameter list, counted to tell overloads apart
;   @export.default / @export.default_name   what `export default` denotes
;
; Shared by the typescript and tsx grammars, so only node types both have appear here.

(class_declaration
  name: (type_identifier) @name
  body: (class_body) @body) @definition.class

(abstract_class_declaration
  name: (type_identifier) @name
  body: (class_body) @body) @definition.class

(interface_declaration
  name: (type_identifier) @name
  body: (interface_body) @body) @definition.class

(enum_declaration
  name: (identifier) @name
  body: (enum_body) @body) @definition.class

; A type alias is a named type other files import and depend on, like an interface.
(type_alias_declaration
  name: (type_identifier) @name
  value: (_) @body) @definition.class

(function_declaration
  name: (identifier) @name
  body: (statement_block) @body) @definition.function

(generator_function_declaration
  name: (identifier) @name
  body: (statement_block) @body) @definition.function

; `const f = (...) => ...` and `const f = function (...) {...}` at top level, exported or not.
(program
  [(lexical_declaration
     (variable_declarator
       name: (identifier) @name
       value: [(arrow_function body: (_) @body) (function_expression body: (_) @body)]))
   (variable_declaration
     (variable_declarator
       name: (identifier) @name
       value: [(arrow_function body: (_) @body) (function_expression body: (_) @body)]))] @definition.function)

(program
  (export_statement
    declaration: (lexical_declaration
      (variable_declarator
        name: (identifier) @name
        value: [(arrow_function body: (_) @body) (function_expression body: (_) @body)])) @definition.function))

; Only methods of classes: object-literal methods are not addressable blocks.  Overload
; signatures without a body are left out, so the implementation is the method's block.
(class_body
  (method_definition
    name: [(property_identifier) (private_property_identifier)] @name
    body: (statement_block) @body) @definition.method)

((method_definition
   name: (property_identifier) @name) @definition.constructor
 (#eq? @name "constructor"))

(class_body
  (abstract_method_signature
    name: (property_identifier) @name) @definition.method)

(interface_body
  (method_signature
    name: (property_identifier) @name) @definition.method)

(interface_body
  (property_signature
    name: (property_identifier) @name) @definition.field)

; A field's initial value is its body: changing it changes no other file's view.
(public_field_definition
  name: [(property_identifier) (private_property_identifier)] @name
  value: (_)? @body) @definition.field

(export_statement "default" declaration: (_) @export.default)
(export_statement "default" value: (identifier) @export.default_name)
