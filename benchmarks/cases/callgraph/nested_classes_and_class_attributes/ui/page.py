from ui.widgets import Button, Widget


def page() -> str:
    return Widget("hello").html() + Button("OK").html()
