"""One module per input format; each exposes read(data: bytes, name: str) -> RawDoc."""
