"""pypi-attestations (0.0.30) verifying a release from a PyPI index, as
`pypi-attestations verify pypi` does, run by tests/it/pypi_interop.rs
against the keyless testbed's PyPI stand-in:

    pypi_index.py INDEX_URL PROJECT VERSION REPOSITORY_URL [TRUST_CONFIG]

Every file the PEP 691 JSON page lists for VERSION is downloaded (its
sha256 checked against the page) with the Integrity API answer its
`provenance` URL gives, and verified by pypi-attestations' own `verify
pypi` code (`_cli._verify_pypi`: the publisher's repository against
REPOSITORY_URL, each attestation against the publisher's policy and the
file), offline. Public-good trust, or the testbed's trusted root when
TRUST_CONFIG is given. Prints `OK <file>` or `FAIL <file>: <reason>` per
file; exit status 0 when every file passed, 1 otherwise.
"""

import argparse
import hashlib
import json
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from pypi_attestations import _cli, _impl
from sigstore.models import ClientTrustConfig
from sigstore.verify import Verifier


def get(url, accept):
    req = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.read()


def verify_file(entry, folder, repository):
    name = entry["filename"]
    data = get(entry["url"], "*/*")
    if hashlib.sha256(data).hexdigest() != entry["hashes"]["sha256"]:
        return "the file's sha256 is not the index's"
    dist = folder / name
    dist.write_bytes(data)
    if not entry.get("provenance"):
        return "no provenance"
    try:
        prov = get(entry["provenance"], "application/vnd.pypi.integrity.v1+json")
    except urllib.error.HTTPError as e:
        return f"provenance: HTTP {e.code}"
    prov_path = folder / f"{name}.provenance"
    prov_path.write_bytes(prov)
    args = argparse.Namespace(
        distribution_file=str(dist),
        provenance_file=prov_path,
        repository=repository,
        gcp_service_account=None,
        circleci_project_id=None,
        circleci_pipeline_definition_id=None,
        staging=False,
        offline=True,
    )
    try:
        _cli._verify_pypi(args)
    except SystemExit as e:
        if e.code:
            return "refused by pypi-attestations (its reason is on stderr)"
    return None


def main(index, project, version, repository, trust=None):
    if trust:
        root = ClientTrustConfig.from_json(Path(trust).read_text()).trusted_root
        # pypi-attestations verifies with the public-good instances only;
        # point it at the testbed's root so its whole verify path runs.
        _impl.Verifier.production = classmethod(
            lambda cls, offline=False: Verifier(trusted_root=root)
        )
    page = json.loads(get(f"{index.rstrip('/')}/{project}/", "application/vnd.pypi.simple.v1+json"))
    files = [f for f in page["files"] if version_of(f["filename"]) == version]
    if not files:
        print(f"FAIL {project}=={version}: no file on the index")
        return 1
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for entry in files:
            reason = verify_file(entry, Path(tmp), repository)
            if reason is None:
                print(f"OK {entry['filename']}")
            else:
                failed += 1
                print(f"FAIL {entry['filename']}: {reason}")
    return 1 if failed else 0


def version_of(filename):
    if filename.endswith(".whl"):
        return filename.split("-")[1]
    stem = filename.removesuffix(".tar.gz").removesuffix(".zip")
    return stem.rsplit("-", 1)[1]


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
