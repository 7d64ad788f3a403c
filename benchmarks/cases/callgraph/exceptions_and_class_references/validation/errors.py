class ValidationError(ValueError):
    pass


class FieldError(ValidationError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
