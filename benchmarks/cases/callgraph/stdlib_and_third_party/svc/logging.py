import logging


def getLogger(name: str) -> logging.Logger:
    logger = logging.getLogger(f"svc.{name}")
    if not logger.handlers:
        logger.addHandler(logging.StreamHandler())
    return logger
