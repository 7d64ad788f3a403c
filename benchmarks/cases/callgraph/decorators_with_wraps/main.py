from toolkit.decorators import report
from toolkit.service import UserService, load_users


def main() -> None:
    svc = UserService()
    svc.get(1)
    svc.batch([1, 2])
    load_users([3])
    print(report())


if __name__ == "__main__":
    main()
