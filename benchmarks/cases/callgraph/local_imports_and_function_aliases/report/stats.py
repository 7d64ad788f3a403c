from report.fmt import format_line


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def spread(values: list[float]) -> float:
    return max(values) - min(values) if values else 0.0


class Histogram:
    def __init__(self, values: list[float], buckets: int = 4) -> None:
        self.values = values
        self.buckets = buckets

    def is_empty(self) -> bool:
        return not self.values

    def render(self) -> str:
        lo, hi = min(self.values), max(self.values)
        width = (hi - lo) / self.buckets or 1.0
        counts = [0] * self.buckets
        for v in self.values:
            counts[min(int((v - lo) / width), self.buckets - 1)] += 1
        return "\n".join(format_line(f"{lo + i * width:.1f}", c) for i, c in enumerate(counts))
