import corp


def headcount_changed() -> str:
    return corp.audit.record("headcount")
