from structs.types import AttrDict, Point, Worker


def demo() -> tuple[float, object, int]:
    p = Point(1.0, 2.0).shifted(0.5)
    cfg = AttrDict(db={"host": "localhost"})
    w = Worker(7)
    w.start()
    w.join()
    return p.x, cfg.get_path("db.host"), w.result
