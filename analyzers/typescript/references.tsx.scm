; Patterns for the TSX grammar only: the plain TypeScript grammar has no JSX nodes.
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
