from jobs.registry import registry
from jobs.retry import retry


@registry.register("sync")
@retry(times=2)
def sync_accounts() -> int:
    return 42


@registry.register("cleanup")
def cleanup() -> int:
    return sync_accounts() - 42


def available() -> list[str]:
    return registry.names()
