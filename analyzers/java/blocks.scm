; Definitions that become blocks.  Capture vocabulary (read by codeplan/graph/generic.py):
;   @definition.class | .function | .method | .constructor | .field   the block's node
;   @name         the defined name (several for `int a, b;`-style declarations)
;   @body         where the body starts; the signature is the text before it
;   @parameters   the parameter list, counted to tell overloads apart

(class_declaration
  name: (identifier) @name
  body: (class_body) @body) @definition.class

(interface_declaration
  name: (identifier) @name
  body: (interface_body) @body) @definition.class

(enum_declaration
  name: (identifier) @name
  body: (enum_body) @body) @definition.class

(record_declaration
  name: (identifier) @name
  body: (class_body) @body) @definition.class

(annotation_type_declaration
  name: (identifier) @name
  body: (annotation_type_body) @body) @definition.class

; Abstract and interface methods have no body: their whole text is the signature.
(method_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (block)? @body) @definition.method

(constructor_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (constructor_body) @body) @definition.constructor

; A field's initial value is its body: changing it changes no other file's view.
(field_declaration
  declarator: (variable_declarator name: (identifier) @name value: (_)? @body)) @definition.field

(constant_declaration
  declarator: (variable_declarator name: (identifier) @name value: (_)? @body)) @definition.field

(enum_constant name: (identifier) @name) @definition.field
