def _escape(text: str) -> str:
    return text.replace("&", "&amp;")
