from _typeshed import ReadableBuffer

HARDWARE: bool

def suspects(
    buffer: ReadableBuffer, count: int, page_size: int, first_page: int, space_id: int, full_crc32: bool, /
) -> list[int]: ...
def crc32c(data: ReadableBuffer, value: int = 0, /) -> int: ...
def mtr_run(
    buffer: ReadableBuffer, pos: int, endpos: int, nonce: int, bit: int, firsts: bytearray, /
) -> tuple[int, int]: ...
