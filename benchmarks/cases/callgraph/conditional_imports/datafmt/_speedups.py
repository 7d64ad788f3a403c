def fast_checksum(data: bytes) -> int:
    total = 0
    for b in data:
        total = (total * 31 + b) & 0xFFFFFFFF
    return total
