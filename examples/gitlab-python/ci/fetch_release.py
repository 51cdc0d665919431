"""Download every file of one release of a package from a PyPI simple index
(PEP 503), as a consumer would: python fetch_release.py INDEX NAME VERSION DEST.

Each file's sha256 from the index is checked (it guards the transfer, not
the publisher: that is what the Sigstore bundle is for). With CI_JOB_TOKEN
set, GitLab's registry is asked as gitlab-ci-token. Standard library only.
"""

import base64
import hashlib
import html.parser
import os
import re
import sys
import urllib.parse
import urllib.request


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def get(url):
    request = urllib.request.Request(url)
    token = os.environ.get("CI_JOB_TOKEN")
    if token:
        basic = base64.b64encode(f"gitlab-ci-token:{token}".encode()).decode()
        request.add_header("Authorization", f"Basic {basic}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def main(index, name, version, dest):
    normalized = re.sub(r"[-_.]+", "-", name).lower()
    page_url = f"{index.rstrip('/')}/{normalized}/"
    links = Links()
    links.feed(get(page_url).decode())
    name_pattern = "[-_.]".join(re.escape(part) for part in normalized.split("-"))
    prefix = re.compile(rf"^{name_pattern}-{re.escape(version)}[-.]", re.I)
    os.makedirs(dest, exist_ok=True)
    fetched = 0
    for href in links.hrefs:
        url, _, fragment = urllib.parse.urljoin(page_url, href).partition("#")
        filename = urllib.parse.unquote(url.rsplit("/", 1)[-1])
        if not prefix.match(filename) or not filename.endswith((".whl", ".tar.gz")):
            continue
        data = get(url)
        algorithm, _, want = fragment.partition("=")
        if algorithm != "sha256" or hashlib.sha256(data).hexdigest() != want:
            sys.exit(f"{filename}: the index's sha256 does not match the download")
        with open(os.path.join(dest, filename), "wb") as out:
            out.write(data)
        print(f"fetched {filename}")
        fetched += 1
    if fetched == 0:
        sys.exit(f"no file of {name} {version} at {page_url}")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
