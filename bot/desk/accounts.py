"""Staff accounts of the web desk: Argon2 passwords, TOTP second factor, recovery codes, and
signing in with the lock and the slow-down after repeated failures."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storage.models import Staff

MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=15)
RECOVERY_CODES = 10
MIN_PASSWORD = 10
ISSUER = "Teléfono Abierto"

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Compared against when the user name is unknown, so that the answer takes as long (made
    on first use, not when the service starts)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str, institution: str) -> str:
    """The otpauth:// address an authenticator app reads (from the QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(
        name=username, issuer_name=f"{ISSUER} {institution}".strip()
    )


def totp_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step of a valid code (the current one or its neighbours), never one already
    used; None when it is not valid."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // totp.interval
    for candidate in (step, step - 1, step + 1):
        if last_step is not None and candidate <= last_step:
            continue
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def current_code(secret: str, now: datetime) -> str:
    """The code an authenticator shows at this instant (for tests and the enrolment check)."""
    return pyotp.TOTP(secret).at(now)


def new_recovery_codes() -> list[str]:
    return [
        f"{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}"
        for _ in range(RECOVERY_CODES)
    ]


def recovery_hash(code: str) -> str:
    normalised = code.strip().lower().replace(" ", "").replace("-", "")
    return hashlib.sha256(f"recovery:{normalised}".encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    normalised = code.strip().lower().replace(" ", "").replace("-", "")
    return len(normalised) == 12 and all(c in "0123456789abcdef" for c in normalised)


@dataclass(frozen=True)
class SignInResult:
    member: Staff | None
    problem: str | None  # a key of the desk's texts when refused
    slowed: bool = False  # the address failed many times lately: the answer is held back


def sign_in(
    uow, username: str, password: str, otp: str, address: str, now: datetime
) -> SignInResult:
    """Check a sign-in, counting failures against the account and the address; on the fifth
    failure the account is locked for 15 minutes (refused even with the right password) and
    the address slowed as long."""
    desk = uow.desk
    throttle = desk.throttle(address)
    if throttle.first_failure_at is not None and now - throttle.first_failure_at > LOCK_TIME:
        throttle.failures, throttle.first_failure_at = 0, None
    slowed = throttle.slowed_until is not None and now < throttle.slowed_until
    member = desk.staff_by_username(username.strip()) if username.strip() else None
    if member is not None:
        member = desk.lock_staff(member.id)

    def fail(problem: str) -> SignInResult:
        throttle.failures += 1
        throttle.first_failure_at = throttle.first_failure_at or now
        if throttle.failures >= MAX_FAILURES:
            throttle.slowed_until = now + LOCK_TIME
        if member is not None and problem == "login.wrong":
            member.failed_sign_ins += 1
            if member.failed_sign_ins >= MAX_FAILURES:
                member.locked_until = now + LOCK_TIME
                member.failed_sign_ins = 0
            uow.session.add(member)
        uow.session.add(throttle)
        desk.audit(now, member.id if member else None, "sign_in_refused", detail=problem)
        return SignInResult(None, problem, slowed)

    right_password = password_matches(member.password_hash if member else None, password)
    if member is None or not member.active or member.password_hash is None:
        return fail("login.wrong")
    if member.locked_until is not None and now < member.locked_until:
        return fail("login.locked")
    if not right_password:
        return fail("login.wrong")
    if member.totp_secret is None:
        return fail("login.no_totp")
    step = totp_step(member.totp_secret, otp, now, member.totp_last_step)
    if step is not None:
        member.totp_last_step = step
    elif not (
        looks_like_recovery_code(otp) and desk.use_recovery_code(member.id, recovery_hash(otp), now)
    ):
        return fail("login.wrong")
    member.failed_sign_ins = 0
    member.locked_until = None
    uow.session.add(member)
    desk.audit(now, member.id, "signed_in")
    return SignInResult(member, None, slowed)
