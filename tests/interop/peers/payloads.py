"""
Deterministic test messages built from small JSON-able descriptions, so a
peer process and the test process can make the same payload without
shipping megabytes over a command line.

A description is a dict::

    {"type": "text" | "binary", "gen": "literal", "value": str}
        # binary literals are hex
    {"type": "text" | "binary", "gen": "random", "size": int, "seed": int}
        # text: size code points drawn from ALPHABET (mostly ASCII, some
        # 2-, 3- and 4-byte UTF-8); binary: size random bytes
    {"type": "text" | "binary", "gen": "repeat", "unit": str, "count": int}
        # highly compressible; binary repeats unit's UTF-8 bytes
"""

import random
import string

ALPHABET = string.ascii_letters + string.digits + " .,;\n" + "éüßñ" + "€日本語" + "🎉😀"


def makePayload(spec: dict) -> "str | bytes":
    """
    Build the message a description stands for.

    @raise ValueError: an unknown C{type} or C{gen}.
    """
    kind = spec["type"]
    if kind not in ("text", "binary"):
        raise ValueError(f"unknown payload type {kind!r}")
    gen = spec.get("gen", "literal")
    if gen == "literal":
        value = spec["value"]
        return value if kind == "text" else bytes.fromhex(value)
    if gen == "random":
        rng = random.Random(spec["seed"])
        if kind == "text":
            return "".join(rng.choices(ALPHABET, k=spec["size"]))
        return rng.randbytes(spec["size"])
    if gen == "repeat":
        text = spec["unit"] * spec["count"]
        return text if kind == "text" else text.encode("utf-8")
    raise ValueError(f"unknown payload generator {gen!r}")


def text(value: str) -> dict:
    """
    Describe a literal text message.
    """
    return {"type": "text", "gen": "literal", "value": value}


def binary(value: bytes) -> dict:
    """
    Describe a literal binary message.
    """
    return {"type": "binary", "gen": "literal", "value": value.hex()}


def randomText(size: int, seed: int = 1) -> dict:
    """
    Describe C{size} pseudo-random code points (mixed 1-4 byte UTF-8).
    """
    return {"type": "text", "gen": "random", "size": size, "seed": seed}


def randomBinary(size: int, seed: int = 1) -> dict:
    """
    Describe C{size} pseudo-random (incompressible) bytes.
    """
    return {"type": "binary", "gen": "random", "size": size, "seed": seed}


def repeated(unit: str, count: int, kind: str = "text") -> dict:
    """
    Describe C{unit} repeated C{count} times (very compressible).
    """
    return {"type": kind, "gen": "repeat", "unit": unit, "count": count}


# The echo cases every peer pairing runs: (name, description).
ECHO_CASES = [
    ("empty-text", text("")),
    ("empty-binary", binary(b"")),
    ("non-ascii-text", text("h\u00e9llo w\u00f6rld \u2013 \u65e5\u672c\u8a9e \u2013 \U0001f389 \u2013 nul:\x00")),
    ("all-bytes-binary", binary(bytes(range(256)))),
    ("text-70k", randomText(70 * 1024, seed=70)),
    ("binary-70k", randomBinary(70 * 1024, seed=71)),
    ("text-2m", randomText(2 * 1024 * 1024, seed=2)),
    ("binary-2m", randomBinary(2 * 1024 * 1024, seed=3)),
]
