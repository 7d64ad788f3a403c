import metrics.counters
import metrics.timers


def handle(job: str) -> None:
    metrics.counters.incr("jobs")
    metrics.timers.timed_incr(f"job.{job}")
    print(metrics.registry_name())


def shutdown() -> None:
    metrics.counters.reset()
