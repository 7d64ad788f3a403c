from app.config import PORT, Limits


def main() -> None:
    print(f"listening on {PORT}: {Limits().describe()}")


if __name__ == "__main__":
    main()
