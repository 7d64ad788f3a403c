; References resolved into edges.  Capture vocabulary (read by codeplan/graph/generic.py):
;   @reference.call | .new | .extends | .implements | .field   the referenced name
;   @reference.identifier   any identifier (kept only if it names an import or a field)
;   @reference.receiver     the object in `receiver.name`
;   @reference.arguments    the argument list, counted to pick among overloads
;   @binding.name / @binding.type   a local variable and, when known, its class

(method_invocation
  !object
  name: (identifier) @reference.call
  arguments: (argument_list) @reference.arguments)

(method_invocation
  object: (_) @reference.receiver
  name: (identifier) @reference.call
  arguments: (argument_list) @reference.arguments)

(object_creation_expression
  type: [(type_identifier) @reference.new (generic_type (type_identifier) @reference.new)]
  arguments: (argument_list) @reference.arguments)

(object_creation_expression
  type: [(scoped_type_identifier (_) @reference.receiver (type_identifier) @reference.new .)
         (generic_type
           (scoped_type_identifier (_) @reference.receiver (type_identifier) @reference.new .))]
  arguments: (argument_list) @reference.arguments)

(superclass
  [(type_identifier) @reference.extends
   (generic_type (type_identifier) @reference.extends)
   (scoped_type_identifier (_) @reference.receiver (type_identifier) @reference.extends .)])

(super_interfaces
  (type_list
    [(type_identifier) @reference.implements
     (generic_type (type_identifier) @reference.implements)]))

(extends_interfaces
  (type_list
    [(type_identifier) @reference.extends
     (generic_type (type_identifier) @reference.extends)]))

(field_access
  object: (_) @reference.receiver
  field: (identifier) @reference.field)

(identifier) @reference.identifier
(type_identifier) @reference.identifier

; Every local, parameter and field is a binding (so it can shadow a field); the class is
; recorded when it is written down (not `var`) or evident from `new`.
(local_variable_declaration declarator: (variable_declarator name: (identifier) @binding.name))
(formal_parameter name: (identifier) @binding.name)
(spread_parameter (variable_declarator name: (identifier) @binding.name))
(catch_formal_parameter name: (identifier) @binding.name)
(enhanced_for_statement name: (identifier) @binding.name)
(lambda_expression parameters: (identifier) @binding.name)
(inferred_parameters (identifier) @binding.name)

((local_variable_declaration
   type: [(type_identifier) @binding.type (generic_type (type_identifier) @binding.type)]
   declarator: (variable_declarator name: (identifier) @binding.name))
 (#not-eq? @binding.type "var"))

(variable_declarator
  name: (identifier) @binding.name
  value: (object_creation_expression
    type: [(type_identifier) @binding.type (generic_type (type_identifier) @binding.type)]))

([(formal_parameter
    type: [(type_identifier) @binding.type (generic_type (type_identifier) @binding.type)]
    name: (identifier) @binding.name)
  (enhanced_for_statement
    type: [(type_identifier) @binding.type (generic_type (type_identifier) @binding.type)]
    name: (identifier) @binding.name)
  (field_declaration
    type: [(type_identifier) @binding.type (generic_type (type_identifier) @binding.type)]
    declarator: (variable_declarator name: (identifier) @binding.name))])

; `this(...)` / `super(...)` in a constructor call a sibling or base constructor.
(explicit_constructor_invocation
  constructor: [(this) (super)] @reference.call
  arguments: (argument_list) @reference.arguments)
