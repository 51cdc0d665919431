"""Download every file of one release of a package from a PyPI simple index
(PEP 503), as a consumer would: python fetch_release.py INDEX NAME VERSION DEST.

Each file's sha256 from the index is checked (it guards the transfer, not
the publisher: that is what the Sigstore bundle is for). With CI_JOB_TOKEN
set, GitLab's registry is asked as gitlab-ci-token: the token goes to the
index's origin (scheme, host, port) only. GitLab redirects package
downloads to object storage on another host; a redirect there is followed
without the token. A file name that could leave DEST (a `/`, `\\` or `..`)
is refused. Standard library only.
"""

import base64
import hashlib
import html.parser
import os
import re
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def origin(url):
    parts = urllib.parse.urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


class TokenForOneOrigin(urllib.request.HTTPRedirectHandler):
    """Attaches the job token to requests for one origin only.

    The header is "unredirected": urllib never copies it to a redirected
    request, and this handler adds it back only when the redirect stays on
    the token's origin. A redirect from https to http is refused.
    """

    def __init__(self, token_origin, token):
        super().__init__()
        self.token_origin = token_origin
        self.basic = None
        if token:
            pair = f"gitlab-ci-token:{token}".encode()
            self.basic = "Basic " + base64.b64encode(pair).decode()

    def authorize(self, request):
        if self.basic and origin(request.full_url) == self.token_origin:
            request.add_unredirected_header("Authorization", self.basic)
        return request

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if origin(req.full_url)[0] == "https" and origin(newurl)[0] != "https":
            raise urllib.error.HTTPError(
                newurl, code, "refusing a redirect from https to http", headers, fp
            )
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        return None if new is None else self.authorize(new)


def safe_filename(filename):
    """The name as is, if it stays inside DEST; else exit."""
    if (
        not filename
        or filename.startswith(".")
        or "/" in filename
        or "\\" in filename
        or ".." in filename
        or "\0" in filename
    ):
        sys.exit(f"refusing the file name {filename!r} from the index")
    return filename


def main(index, name, version, dest):
    normalized = re.sub(r"[-_.]+", "-", name).lower()
    page_url = f"{index.rstrip('/')}/{normalized}/"
    tokens = TokenForOneOrigin(origin(page_url), os.environ.get("CI_JOB_TOKEN"))
    opener = urllib.request.build_opener(tokens)

    def get(url):
        request = tokens.authorize(urllib.request.Request(url))
        with opener.open(request, timeout=60) as response:
            return response.read()

    links = Links()
    links.feed(get(page_url).decode())
    name_pattern = "[-_.]".join(re.escape(part) for part in normalized.split("-"))
    prefix = re.compile(rf"^{name_pattern}-{re.escape(version)}[-.]", re.I)
    os.makedirs(dest, exist_ok=True)
    fetched = 0
    for href in links.hrefs:
        url, _, fragment = urllib.parse.urljoin(page_url, href).partition("#")
        filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
        if not prefix.match(filename) or not filename.endswith((".whl", ".tar.gz")):
            continue
        filename = safe_filename(filename)
        data = get(url)
        algorithm, _, want = fragment.partition("=")
        if algorithm != "sha256" or hashlib.sha256(data).hexdigest() != want:
            sys.exit(f"{filename}: the index's sha256 does not match the download")
        # A temporary file, then a rename: never half a file under its name.
        fd, tmp = tempfile.mkstemp(dir=dest, prefix=".fetch-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, os.path.join(dest, filename))
        print(f"fetched {filename}")
        fetched += 1
    if fetched == 0:
        sys.exit(f"no file of {name} {version} at {page_url}")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
