#!/bin/sh
# Install a keyless release binary in a CI job whose image does not have it:
#
#   sh install-keyless.sh URL SHA256 [DIR]
#
# downloads URL (the release's keyless-<version>-x86_64-linux binary),
# checks that its SHA-256 is exactly SHA256 (published with the release;
# pin it in your pipeline, never fetch it from the same place as the
# binary), and only then installs it as DIR/keyless (default
# /usr/local/bin). A mismatch installs nothing and exits 1. POSIX sh, curl
# and sha256sum only.
set -eu

if [ "$#" -lt 2 ] || [ "$#" -gt 3 ]; then
  echo "usage: install-keyless.sh URL SHA256 [DIR]" >&2
  exit 2
fi
url=$1
want=$2
dir=${3:-/usr/local/bin}
case $want in
  *[!0-9a-f]*|"") echo "install-keyless: SHA256 must be 64 lowercase hex digits" >&2; exit 2 ;;
esac
if [ "${#want}" -ne 64 ]; then
  echo "install-keyless: SHA256 must be 64 lowercase hex digits" >&2
  exit 2
fi

# The URL is data, never a curl option: one starting with `-` (`-K file`
# would read a config naming another URL, plain http, another output file)
# is refused here, and `--` below ends curl's options in any case. Only
# https (and file, for a binary already on disk) are fetched: the SHA-256
# check would catch a tampered download, but a redirect or plain http
# should not get the chance to serve one.
case $url in
  https://?*|file:///?*) ;;
  *) echo "install-keyless: URL must start with https:// (or file:///)" >&2; exit 2 ;;
esac

case $dir in
  -*) dir=./$dir ;;
esac
# A folder made here goes again if nothing is installed in it.
made=
if [ ! -d "$dir" ]; then
  mkdir -p -- "$dir"
  made=$dir
fi
# `mv` onto a folder (or a symlink to one) named keyless would move the
# binary into it, outside DIR.
if [ -d "$dir/keyless" ] || [ -L "$dir/keyless" ]; then
  echo "install-keyless: $dir/keyless is a folder or a symbolic link: not replaced" >&2
  exit 2
fi
# Downloaded straight into a fresh name (mktemp) in the target directory,
# hashed there and renamed into place: never half a binary, and nothing
# between the check and the install can swap the file (a shared TMPDIR).
new=$(mktemp -- "$dir/.keyless.XXXXXX")
trap 'rm -f -- "$new"; if [ -n "$made" ]; then rmdir -- "$made" 2>/dev/null || :; fi' EXIT
# A cancelled job (SIGTERM) runs the EXIT trap too: dash skips it otherwise.
trap 'exit 1' HUP INT TERM
# -q first: no .curlrc (a repository's, under a HOME in the checkout) can
# add downloads, outputs or options. --globoff: `[1-9]` or `{a,b}` in a URL
# is taken literally, not expanded into several downloads written over one
# another into one file.
curl -q --fail --silent --show-error --location --proto '=https,file' \
  --proto-redir '=https' --globoff --output "$new" -- "$url"
got=$(sha256sum -- "$new" | cut -d ' ' -f 1)
if [ "$got" != "$want" ]; then
  echo "install-keyless: $url has SHA-256 $got, expected $want: not installed" >&2
  exit 1
fi
chmod 0755 "$new"
mv -f -- "$new" "$dir/keyless"
new=
made=
"$dir/keyless" --version
