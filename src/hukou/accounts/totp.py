"""Time-based one-time passwords (RFC 6238), the second factor.

The parameters are the ones every authenticator app understands without
question: HMAC-SHA-1, 6 digits, 30-second steps (RFC 6238 §4 and the de facto
``otpauth://`` key-URI format). SHA-1 is fine here: TOTP relies on HMAC, whose
security does not rest on SHA-1's collision resistance, and a code lives for 30 s.
The code generation itself is ``cryptography``'s.

- **Window.** A code of the previous or next step is accepted too (±1 step,
  RFC 6238 §5.2's recommended network delay allowance), so a phone clock a few
  seconds off, or a code typed at the end of its step, still works.
- **Replay.** A code is accepted only for a step *later* than the last step
  accepted for that account (RFC 6238 §5.2: "the verifier MUST NOT accept the
  second attempt of the OTP after the successful validation has been issued for
  the first OTP"). The caller stores the returned step.
- **Secrets** have 160 bits (RFC 4226 §4 recommends 160) from :mod:`secrets`.

>>> secret = b"12345678901234567890"  # RFC 6238 Appendix B
>>> totp_code(secret, 59, digits=8)
'94287082'
>>> step = verify_code(secret, totp_code(secret, 1000), at=1000, last_used_step=None)
>>> step == 1000 // 30
True
>>> verify_code(secret, totp_code(secret, 1000), at=1000, last_used_step=step) is None
True
"""

from __future__ import annotations

import base64
import datetime
import hmac
import secrets
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

__all__ = [
    "DIGITS",
    "ISSUER",
    "SECRET_BYTES",
    "STEP_SECONDS",
    "WINDOW_STEPS",
    "TotpEnrolment",
    "new_secret",
    "provisioning_uri",
    "secret_from_base32",
    "secret_to_base32",
    "time_step",
    "totp_code",
    "verify_code",
]

DIGITS = 6
STEP_SECONDS = 30
WINDOW_STEPS = 1
"""Steps accepted either side of the current one."""
SECRET_BYTES = 20
ISSUER = "Hukou 户籍平台"
"""What an authenticator app shows above the account name."""


def new_secret() -> bytes:
    """A fresh 160-bit TOTP secret."""
    return secrets.token_bytes(SECRET_BYTES)


def secret_to_base32(secret: bytes) -> str:
    """The unpadded base32 form authenticator apps take (and users type)."""
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def secret_from_base32(text: str) -> bytes:
    """The secret of a base32 text; spaces and case are ignored, padding optional."""
    compact = "".join(text.split()).upper()
    return base64.b32decode(compact + "=" * (-len(compact) % 8))


def _unix(at: datetime.datetime | float) -> float:
    return at.timestamp() if isinstance(at, datetime.datetime) else float(at)


def time_step(at: datetime.datetime | float, *, step_seconds: int = STEP_SECONDS) -> int:
    """The RFC 6238 counter T = floor(unix time / step) at ``at``."""
    return int(_unix(at) // step_seconds)


def _generator(secret: bytes, digits: int, step_seconds: int) -> TOTP:
    return TOTP(secret, digits, SHA1(), step_seconds)  # noqa: S303 (RFC 6238 HMAC-SHA-1)


def totp_code(
    secret: bytes,
    at: datetime.datetime | float,
    *,
    digits: int = DIGITS,
    step_seconds: int = STEP_SECONDS,
) -> str:
    """The code for ``at`` (a datetime or unix seconds), zero-padded to ``digits``."""
    step = time_step(at, step_seconds=step_seconds)
    return _generator(secret, digits, step_seconds).generate(step * step_seconds).decode("ascii")


def verify_code(
    secret: bytes,
    code: str,
    *,
    at: datetime.datetime | float,
    last_used_step: int | None,
    window: int = WINDOW_STEPS,
    digits: int = DIGITS,
    step_seconds: int = STEP_SECONDS,
) -> int | None:
    """The step ``code`` is valid for, or ``None``; store the step as ``last_used_step``.

    Spaces in ``code`` are ignored (apps show ``123 456``). Steps at or before
    ``last_used_step`` are never accepted, which refuses a replayed code and any
    older one. Each candidate is compared in constant time.
    """
    typed = "".join(code.split())
    if len(typed) != digits or not (typed.isascii() and typed.isdigit()):
        return None
    generator = _generator(secret, digits, step_seconds)
    current = time_step(at, step_seconds=step_seconds)
    matched: int | None = None
    for step in range(current - window, current + window + 1):
        if last_used_step is not None and step <= last_used_step:
            continue
        expected = generator.generate(step * step_seconds)
        if hmac.compare_digest(expected, typed.encode("ascii")) and matched is None:
            matched = step
    return matched


def provisioning_uri(secret: bytes, account_name: str, *, issuer: str = ISSUER) -> str:
    """The ``otpauth://totp/…`` URI an authenticator app scans from a QR code.

    It contains the secret: show it once, to its owner, and never log it.
    """
    return _generator(secret, DIGITS, STEP_SECONDS).get_provisioning_uri(account_name, issuer)


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    """A new secret for its owner to add to an authenticator app; repr hides it."""

    secret_base32: str = field(repr=False)
    uri: str = field(repr=False)
