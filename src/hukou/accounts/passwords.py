"""Password hashing (argon2id) and the password policy.

**Hashing.** argon2id (RFC 9106) is memory-hard: guessing costs an attacker
memory as well as time, which is what defeats GPU and ASIC cracking of a stolen
table. The default parameters are RFC 9106's second recommended option (the
"low-memory" profile: t=3, m=64 MiB, p=4, 16-byte salt, 32-byte tag), about
0.2 s per hash on a server core. Each hash records its own parameters, so
raising them later leaves old hashes verifiable; :meth:`PasswordHashing.verify`
reports ``needs_rehash`` and the login path rehashes with the new parameters
while it holds the plaintext (rehash on login).

Passwords are NFKC-normalised before hashing (NIST SP 800-63B §5.1.1.2): a
password typed with a Chinese input method in full-width mode (``Ａｂｃ１``)
is then the same password as ``Abc1``.

**Policy.** Staff passwords have at least 12 characters, do not contain the user
name, and mix at least three of four character classes (lower case, upper case,
digits, anything else), the complexity 等保 2.0 asks of identification data
(GB/T 22239-2019, 8.1.4.1 a). Every broken rule is reported at once, each as a
:class:`~hukou.accounts.errors.Message` in English and Chinese.

>>> [m.code for m in STAFF_POLICY.violations("wangli2025", username="wangli")]
['password.too_short', 'password.contains_username', 'password.too_few_classes']
>>> STAFF_POLICY.violations("Correct-Horse-7", username="wangli")
()
>>> print(STAFF_POLICY.violations("short")[0].zh)
密码长度至少为 12 个字符。
"""

from __future__ import annotations

import contextlib
import unicodedata
from dataclasses import dataclass

from argon2 import Parameters, PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from hukou.accounts.errors import Message, PasswordPolicyError

__all__ = [
    "DEFAULT_PARAMETERS",
    "RESIDENT_POLICY",
    "STAFF_POLICY",
    "PasswordHashing",
    "PasswordPolicy",
    "Verification",
]

DEFAULT_PARAMETERS = RFC_9106_LOW_MEMORY
"""argon2id, t=3, m=64 MiB, p=4: RFC 9106 §4's option for memory-constrained servers."""

_DUMMY_PASSWORD = "hukou: no such account"  # noqa: S105 (hashed once, never matched)


def _normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of checking a password against a stored hash."""

    ok: bool
    needs_rehash: bool = False


class PasswordHashing:
    """argon2id hashing with one set of parameters, and a dummy hash of the same cost.

    The dummy hash lets a login for an unknown account spend exactly one
    verification too, so that response time does not tell an attacker which user
    names exist. It is computed here, once, so that the first unknown name costs
    no more than later ones.
    """

    __slots__ = ("_dummy", "_hasher", "parameters")

    def __init__(self, parameters: Parameters = DEFAULT_PARAMETERS) -> None:
        if parameters.type is not Type.ID:
            raise ValueError("passwords are hashed with argon2id only")
        self.parameters = parameters
        self._hasher = PasswordHasher.from_parameters(parameters)
        self._dummy = self._hasher.hash(_DUMMY_PASSWORD)

    def __repr__(self) -> str:
        p = self.parameters
        return f"PasswordHashing(t={p.time_cost}, m={p.memory_cost} KiB, p={p.parallelism})"

    def hash(self, password: str) -> str:
        """The PHC string ``$argon2id$v=19$m=…,t=…,p=…$salt$tag`` of ``password``."""
        return self._hasher.hash(_normalise(password))

    def verify(self, password_hash: str, password: str) -> Verification:
        """Whether ``password`` matches; if so, whether the hash should be redone.

        A malformed or non-argon2id hash never matches (and never raises): a row
        corrupted or planted with a weaker algorithm must not open the account.
        """
        if not password_hash.startswith("$argon2id$"):
            self.verify_dummy(password)
            return Verification(ok=False)
        try:
            self._hasher.verify(password_hash, _normalise(password))
        except (VerificationError, InvalidHashError):
            return Verification(ok=False)
        return Verification(ok=True, needs_rehash=self._hasher.check_needs_rehash(password_hash))

    def verify_dummy(self, password: str) -> None:
        """Spend one verification on nothing: the cost of a login to an unknown account."""
        with contextlib.suppress(VerificationError):
            self._hasher.verify(self._dummy, _normalise(password))


def _classes(password: str) -> int:
    lower = upper = digit = other = False
    for char in password:
        if "a" <= char <= "z":
            lower = True
        elif "A" <= char <= "Z":
            upper = True
        elif "0" <= char <= "9":
            digit = True
        else:
            other = True
    return lower + upper + digit + other


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """Rules a new password must meet; lengths count characters after NFKC."""

    min_length: int = 12
    max_length: int = 128
    min_classes: int = 3
    min_username_length: int = 3
    """Shorter user names are not searched for: ``li`` would forbid every password with ``li``."""

    def violations(self, password: str, *, username: str | None = None) -> tuple[Message, ...]:
        """Every rule ``password`` breaks (empty if it is acceptable); never echoes it."""
        text = _normalise(password)
        found: list[Message] = []
        if len(text) < self.min_length:
            found.append(
                Message(
                    "password.too_short",
                    f"Use at least {self.min_length} characters.",
                    f"密码长度至少为 {self.min_length} 个字符。",
                )
            )
        if len(text) > self.max_length:
            found.append(
                Message(
                    "password.too_long",
                    f"Use at most {self.max_length} characters.",
                    f"密码长度不得超过 {self.max_length} 个字符。",
                )
            )
        if username is not None:
            name = _normalise(username).strip().casefold()
            if len(name) >= self.min_username_length and name in text.casefold():
                found.append(
                    Message(
                        "password.contains_username",
                        "Do not include the user name.",
                        "密码不得包含用户名。",
                    )
                )
        if _classes(text) < self.min_classes:
            found.append(
                Message(
                    "password.too_few_classes",
                    f"Mix at least {self.min_classes} of: lower-case letters, upper-case "
                    "letters, digits, other characters.",
                    f"须至少包含小写字母、大写字母、数字、其他字符中的 {self.min_classes} 类。",
                )
            )
        return tuple(found)

    def check(self, password: str, *, username: str | None = None) -> None:
        """Raise :class:`PasswordPolicyError` listing every broken rule, if any."""
        found = self.violations(password, username=username)
        if found:
            raise PasswordPolicyError(found)


STAFF_POLICY = PasswordPolicy()
"""12+ characters, 3 of 4 classes, no user name: for every staff account."""

RESIDENT_POLICY = PasswordPolicy(min_length=8, min_classes=2)
"""Residents hold only their own data; NIST SP 800-63B's 8-character floor, 2 classes."""
