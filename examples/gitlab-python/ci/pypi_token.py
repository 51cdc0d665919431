"""Trusted Publishing: exchange this job's PyPI id_token for a short-lived
PyPI API token, python pypi_token.py PYPI_URL (e.g. https://pypi.org).

The OIDC token comes from $PYPI_ID_TOKEN (`id_tokens: PYPI_ID_TOKEN: aud:
pypi`); PyPI checks it against the project's Trusted Publisher (this GitLab
project, its CI file, and environment when set) and answers an API token
valid for a few minutes, printed on stdout for twine's TWINE_PASSWORD. PyPI
accepts PEP 740 attestations only from uploads authenticated this way.
Neither token is ever printed anywhere else. Standard library only.
"""

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


def main(pypi_url):
    oidc = os.environ.get("PYPI_ID_TOKEN")
    if not oidc:
        sys.exit("PYPI_ID_TOKEN is not set (id_tokens: PYPI_ID_TOKEN: aud: pypi)")
    scheme = urllib.parse.urlsplit(pypi_url).scheme
    host = urllib.parse.urlsplit(pypi_url).hostname or ""
    if scheme != "https" and host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"refusing to send the id_token over {scheme!r}: use https")
    request = urllib.request.Request(
        f"{pypi_url.rstrip('/')}/_/oidc/mint-token",
        data=json.dumps({"token": oidc}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as e:
        # PyPI's errors name what is wrong with the claims, never the token.
        sys.exit(f"PyPI refused the token exchange: HTTP {e.code} {e.read()[:2000]!r}")
    token = answer.get("token")
    if not answer.get("success") or not token:
        sys.exit("PyPI's answer carries no API token")
    print(token)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
