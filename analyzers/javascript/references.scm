; References resolved into edges.  Capture vocabulary (read by codeplan/graph/generic.py):
;   @reference.call | .new | .extends | .implements | .field   the referenced name
;   @reference.identifier   any identifier (kept only if it names an import or a field)
;   @reference.receiver     the object in `receiver.name`
;   @reference.arguments    the argument list, counted to pick among overloads
;   @binding.name / @binding.type   a local variable and, when known, its class

(call_expression
  function: (identifier) @reference.call
  arguments: (arguments) @reference.arguments)

(call_expression
  function: (member_expression
    object: (_) @reference.receiver
    property: [(property_identifier) (private_property_identifier)] @reference.call)
  arguments: (arguments) @reference.arguments)

(new_expression
  constructor: (identifier) @reference.new
  arguments: (arguments)? @reference.arguments)

(new_expression
  constructor: (member_expression
    object: (_) @reference.receiver
    property: (property_identifier) @reference.new)
  arguments: (arguments)? @reference.arguments)

(class_heritage (identifier) @reference.extends)

(class_heritage
  (member_expression
    object: (_) @reference.receiver
    property: (property_identifier) @reference.extends))

(member_expression
  object: (_) @reference.receiver
  property: [(property_identifier) (private_property_identifier)] @reference.field)

(identifier) @reference.identifier

(variable_declarator
  name: (identifier) @binding.name
  value: (new_expression constructor: (identifier) @binding.type))

; `super(...)` in a constructor calls the base class's constructor.
(call_expression
  function: (super) @reference.call
  arguments: (arguments) @reference.arguments)

; Other locals and parameters, class unknown: a receiver that is one of them may be guessed
; at, while an unknown global (`console`, `document`) is left unresolved.
(variable_declarator name: (identifier) @binding.name)
(formal_parameters (identifier) @binding.name)
(formal_parameters (assignment_pattern left: (identifier) @binding.name))
(arrow_function parameter: (identifier) @binding.name)

; A JSX element whose tag is capitalised renders a component: a call of it.
((jsx_opening_element name: (identifier) @reference.call)
 (#match? @reference.call "^[A-Z]"))

((jsx_self_closing_element name: (identifier) @reference.call)
 (#match? @reference.call "^[A-Z]"))

(jsx_opening_element
  name: (member_expression
    object: (_) @reference.receiver
    property: (property_identifier) @reference.call))

(jsx_self_closing_element
  name: (member_expression
    object: (_) @reference.receiver
    property: (property_identifier) @reference.call))
