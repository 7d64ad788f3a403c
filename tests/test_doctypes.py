"""Types read from docstrings (codeplan/graph/python/doctypes.py); the resolution side is
the `docstring_types` call-graph case."""

from __future__ import annotations

import pytest

from codeplan.graph.python.doctypes import class_names, documented_types


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        ("requests.Response", ["requests.Response"]),
        (":class:`Response <Response>`", []),  # a role with a label is prose, not a name
        (":class:`~pkg.models.Response`", ["pkg.models.Response"]),
        (":py:class:`Session` or None", ["Session"]),
        ("Response | None", ["Response"]),
        ("Optional[Response]", ["Response"]),
        ("str, optional", ["str"]),
        ("A or B", ["A", "B"]),
        ("list of Response", []),
        ("dict[str, Response]", []),
        ("the response object", []),
        ("None", []),
    ],
)
def test_class_names_keep_plain_classes_only(spec: str, names: list[str]) -> None:
    assert class_names(spec) == names


def test_rest_fields() -> None:
    found = documented_types(
        """Send it.

        :param url: where to.
        :type url: str
        :param Session session: with what.
        :param timeout: how long.
        :type timeout: float or None
        :rtype: requests.Response
        """
    )
    assert found.returns == ("requests.Response",)
    assert found.parameters == {"url": ("str",), "session": ("Session",), "timeout": ("float",)}


def test_google_sections() -> None:
    found = documented_types(
        """Send it.

        Args:
            url (str): where to.
            *args: passed on.
            session (Session, optional): with what; a line
                that wraps (Wrapped): is not an argument.

        Returns:
            Response: what came back.
        """
    )
    assert found.returns == ("Response",)
    assert found.parameters == {"url": ("str",), "session": ("Session",)}


def test_google_returns_in_prose_has_no_type() -> None:
    assert documented_types("Do.\n\nReturns:\n    The response, decoded.\n").returns == ()


def test_numpy_sections() -> None:
    found = documented_types(
        """Send it.

        Parameters
        ----------
        url : str
            Where to.
        session : Session, optional
            With what.

        Returns
        -------
        Response
            What came back.
        """
    )
    assert found.returns == ("Response",)
    assert found.parameters == {"url": ("str",), "session": ("Session",)}


def test_numpy_named_return() -> None:
    assert documented_types("Do.\n\nReturns\n-------\nreply : Response\n    It.\n").returns == (
        "Response",
    )


@pytest.mark.parametrize("docstring", [None, "", "Just prose: with a colon.", "Returns nothing."])
def test_no_types(docstring: str | None) -> None:
    found = documented_types(docstring)
    assert found.returns == () and found.parameters == {}


def test_a_constructor_takes_what_its_class_docstring_documents() -> None:
    in_class = documented_types(
        "Poll.\n\nArgs:\n    session (Session): with.\n    n (int): how often.\n"
    )
    own = documented_types("Make.\n\n:type n: Count\n")
    assert own.beside(in_class).parameters == {"session": ("Session",), "n": ("Count",)}
    assert own.beside(None) is own


def test_what_a_generator_yields_is_not_what_calling_it_returns() -> None:
    assert documented_types("Walk.\n\nYields:\n    Node: each in turn.\n").returns == ()


def test_attributes_of_a_class() -> None:
    google = documented_types("Site.\n\nAttributes:\n    session (Session): what it uses.\n")
    rest = documented_types(":ivar Session session: what it uses.\n:vartype last: Response\n")
    numpy = documented_types("Site.\n\nAttributes\n----------\nsession : Session\n    It.\n")
    assert google.attributes == numpy.attributes == {"session": ("Session",)}
    assert rest.attributes == {"session": ("Session",), "last": ("Response",)}
    assert google.parameters == rest.parameters == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('def f():\n    """Doc."""\n    return 1\n', '"""Doc."""'),
        ("def f():\n    return 1\n", None),
        ("def f():\n", None),  # a body that is empty, as in a file being typed
        ("class A:\n    x = 1\n", None),
    ],
)
def test_a_docstring_is_the_string_opening_a_body(source: str, expected: str | None) -> None:
    from codeplan.graph.python import parse_python
    from codeplan.graph.python.doctypes import docstring_of

    definition = parse_python(source.encode()).root_node.named_children[0]
    assert docstring_of(definition.child_by_field_name("body")) == expected
