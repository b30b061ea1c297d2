"""The dependency list: requirements.lock (written by `python3 tasks.py lock`) pins every
package, and each pin lies inside the range pyproject.toml asks for, so installing from the
lock installs what the project declares."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"requirements.lock: {line!r} is not pinned with =="
        pins[canonicalize_name(name)] = version
    return pins


def _declared() -> list[Requirement]:
    return [Requirement(r) for r in [*PYPROJECT["dependencies"],
                                     *PYPROJECT["optional-dependencies"]["dev"]]]


def test_every_declared_dependency_is_pinned_inside_its_range():
    pins = _lock()
    for req in _declared():
        if req.marker is not None and not req.marker.evaluate():
            continue
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is declared but not in requirements.lock"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {req.name}=={pins[name]}, outside {req.specifier};"
            " run `python3 tasks.py lock`")


def test_the_lock_names_each_package_once():
    names = [canonicalize_name(line.partition("==")[0])
             for line in (ROOT / "requirements.lock").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert len(names) == len(set(names))


def test_tokens_use_hs256_alone():
    """python-jose pulls in `ecdsa` (CVE-2024-23342, a timing side channel in its ECDSA
    signing, unfixed): it is only reached for EC keys and ES* algorithms, which the service
    neither signs with nor accepts (README, "Reliability and security")."""
    import uuid

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from jose import jwt

    from service.config import get_settings
    from service.core import security

    settings = get_settings()
    token, _ = security.create_token(settings, user_id=uuid.uuid4(), token_version=1,
                                     roles=["admin"])
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.get_unverified_claims(token)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    for alg, key in (("ES256", pem), ("HS512", settings.signing_key())):
        forged = jwt.encode(claims, key, algorithm=alg)
        try:
            security.decode_token(settings, forged)
        except security.InvalidToken:
            continue
        raise AssertionError(f"a token signed with {alg} was accepted")
