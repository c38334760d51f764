"""Benchmark: field encryption with data keys (envelope, ``sm4gcm:v2``) against master-key tokens.

The anchor, same run, same values, is ``FieldCipher`` without data keys (``v1``:
the master key encrypts directly). Envelope encryption adds a data-key lookup per
value (a per-process cache); this shows what that costs.

    .venv/bin/python bench/envelope.py [--values 200000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from hukou.db import create_engine_for, upgrade
from hukou.security import DataKeys, FieldCipher, KeyRing

CONTEXT = "registry.record.identity_number"


def _rates(cipher: FieldCipher, values: list[str | None]) -> tuple[float, float, float]:
    started = time.perf_counter()
    tokens = cipher.encrypt_many(values, context=CONTEXT)
    encrypt = len(values) / (time.perf_counter() - started)
    started = time.perf_counter()
    cipher.decrypt_many(tokens, context=CONTEXT)
    decrypt_many = len(values) / (time.perf_counter() - started)
    started = time.perf_counter()
    for token in tokens:
        cipher.decrypt(str(token), context=CONTEXT)
    decrypt = len(values) / (time.perf_counter() - started)
    return encrypt, decrypt_many, decrypt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=200_000)
    args = parser.parse_args()
    engine = create_engine_for(f"sqlite:///{Path(tempfile.mkdtemp()) / 'keys.db'}")
    upgrade(engine)
    ring = KeyRing.generate("k2026a")
    # Synthetic 18-character strings shaped like identity numbers (not valid ones).
    values: list[str | None] = [f"1101051949123{i:05d}" for i in range(args.values)]
    ciphers = {
        "master-key tokens (v1, anchor)": FieldCipher(ring),
        "data-key tokens (v2)": FieldCipher(ring, DataKeys(engine, ring)),
    }
    _rates(ciphers["data-key tokens (v2)"], values[:1000])  # warm: the data key exists
    for name, cipher in ciphers.items():
        encrypt, decrypt_many, decrypt = _rates(cipher, values)
        print(
            f"{name}: encrypt_many {encrypt:,.0f}/s, decrypt_many {decrypt_many:,.0f}/s, "
            f"decrypt in a loop {decrypt:,.0f}/s"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
