from report.fmt import render_line


def summarize(values: list[float]) -> list[str]:
    from report.stats import mean, spread

    return [render_line("mean", mean(values)), render_line("spread", spread(values))]


def with_total(values: list[float]) -> list[str]:
    import report.fmt

    lines = summarize(values)
    fmt = report.fmt.format_total
    lines.append(fmt(sum(values)))
    return lines


def describe(values: list[float]) -> str:
    from report.stats import Histogram

    if (hist := Histogram(values)).is_empty():
        return "no data"
    return hist.render()
