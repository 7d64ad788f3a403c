from validation.errors import FieldError, ValidationError


def require(data: dict[str, object], field: str) -> object:
    if field not in data:
        raise FieldError(field, "missing")
    return data[field]


def check_age(data: dict[str, object]) -> int:
    age = require(data, "age")
    if not isinstance(age, int):
        raise ValidationError("age must be an int")
    return age
