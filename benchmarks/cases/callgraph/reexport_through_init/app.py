import storage
from storage import MemoryBackend, serialize


def main() -> None:
    backend = MemoryBackend()
    backend.put("user:1", {"name": "Ada"})
    print(serialize(backend.fetch("user:1")))
    print(storage.decode('{"a": 1}'))


if __name__ == "__main__":
    main()
