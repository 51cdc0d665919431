"""PEP 740 interop between keyless and pypi-attestations (0.0.30), against a
keyless testbed, run by tests/it/interop.rs.

    pep740.py verify TRUST_CONFIG DIST ATTESTATION IDENTITY ISSUER
        Load an attestation (written by keyless), convert it to a Sigstore
        bundle and verify it with pypi-attestations' own checks (subject name
        and digest, predicate type) against the testbed's trusted root.
    pep740.py sign TRUST_CONFIG DIST OUTPUT
        Attest DIST with pypi-attestations (token in $SIGSTORE_ID_TOKEN) and
        write the attestation JSON to OUTPUT, for keyless to verify.
"""

import os
import sys
from pathlib import Path

from pypi_attestations import Attestation, Distribution
from pypi_attestations import _impl
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext
from sigstore.verify import Verifier, policy


def trust_config(path: str) -> ClientTrustConfig:
    return ClientTrustConfig.from_json(Path(path).read_text())


def verify(config: str, dist: str, attestation: str, identity: str, issuer: str) -> None:
    trusted_root = trust_config(config).trusted_root
    # pypi-attestations verifies with the public-good instances only; point
    # it at the testbed's root so its whole verify() path runs unchanged.
    _impl.Verifier.production = classmethod(
        lambda cls, offline=False: Verifier(trusted_root=trusted_root)
    )
    att = Attestation.model_validate_json(Path(attestation).read_bytes())
    att.to_bundle()  # the PEP 740 -> bundle conversion must succeed on its own
    predicate_type, _ = att.verify(
        policy.Identity(identity=identity, issuer=issuer),
        Distribution.from_file(Path(dist)),
        offline=True,
    )
    print(f"OK {predicate_type}")


def sign(config: str, dist: str, output: str) -> None:
    ctx = SigningContext.from_trust_config(trust_config(config))
    token = IdentityToken(os.environ["SIGSTORE_ID_TOKEN"])
    with ctx.signer(token) as signer:
        att = Attestation.sign(signer, Distribution.from_file(Path(dist)))
    Path(output).write_text(att.model_dump_json())
    print(f"wrote {output}")


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"verify": verify, "sign": sign}[command](*args)
