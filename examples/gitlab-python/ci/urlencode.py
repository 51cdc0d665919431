"""Print a GitLab project path URL-encoded for the API's `projects/:id`
(group/project -> group%2Fproject): python urlencode.py PATH."""

import sys
import urllib.parse

if len(sys.argv) != 2:
    sys.exit(__doc__)
print(urllib.parse.quote(sys.argv[1], safe=""))
