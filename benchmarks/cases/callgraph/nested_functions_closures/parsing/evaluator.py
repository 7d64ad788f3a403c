from parsing.lexer import tokenize


def make_evaluator(strict: bool = True):
    def fail(msg: str) -> None:
        if strict:
            raise ValueError(msg)

    def parse_expr(tokens: list[str]) -> int:
        value = parse_term(tokens)
        while tokens and tokens[0] in "+-":
            op = tokens.pop(0)
            rhs = parse_term(tokens)
            value = value + rhs if op == "+" else value - rhs
        return value

    def parse_term(tokens: list[str]) -> int:
        value = parse_atom(tokens)
        while tokens and tokens[0] == "*":
            tokens.pop(0)
            value *= parse_atom(tokens)
        return value

    def parse_atom(tokens: list[str]) -> int:
        if not tokens:
            fail("unexpected end of input")
            return 0
        tok = tokens.pop(0)
        if tok == "(":
            value = parse_expr(tokens)
            tokens.pop(0)
            return value
        return int(tok)

    def evaluate(src: str) -> int:
        return parse_expr(tokenize(src))

    return evaluate


def calculate(src: str) -> int:
    evaluate = make_evaluator()
    return evaluate(src)
