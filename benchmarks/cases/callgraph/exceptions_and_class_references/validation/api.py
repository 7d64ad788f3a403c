from validation.errors import FieldError, ValidationError
from validation.rules import check_age, require

ERRORS: tuple[type[Exception], ...] = (FieldError, ValidationError)


def validate(data: dict[str, object]) -> list[str]:
    problems: list[str] = []
    try:
        require(data, "name")
        check_age(data)
    except FieldError as exc:
        problems.append(f"field {exc.field}")
    except ValidationError as exc:
        problems.append(str(exc))
    return problems


def is_validation_error(exc: BaseException) -> bool:
    return isinstance(exc, ERRORS) or issubclass(type(exc), ValidationError)
