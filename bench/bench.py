"""The benchmark of issue #13, run by bench/run (which installs the peers),
and with --monitor the one of issue #19 (`keyless rekor monitor` over a large
testbed log, `bench/run monitor`; no peers).

Each tool runs as a child of bench/spawn.c, which measures wall time
around it and reads CPU time (user + system) and peak RSS from the kernel's
rusage of the child. A case of several processes sums wall and CPU time and
takes the largest peak RSS. Every figure is the median of BENCH_RUNS runs.
A tool that exits non-zero is reported as failing, with its first error line.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
V2_COUNT = int(os.environ.get("BENCH_V2_COUNT", "500"))
V3_MIB = int(os.environ.get("BENCH_V3_MIB", "1024"))
S1_COUNT = int(os.environ.get("BENCH_S1_COUNT", "100"))
P1_COUNT = int(os.environ.get("BENCH_P1_COUNT", "200"))
LATENCY_MS = int(os.environ.get("BENCH_LATENCY_MS", "50"))
CASES = os.environ.get("BENCH_CASES", "V1 V2 V3 S1 P1").split()
# --monitor: log sizes scanned (each a fresh monitor state scanning the whole
# log for one identity), runs per size, one watched entry per this many.
M1_SIZES = [int(n) for n in os.environ.get("BENCH_M1_SIZES", "10000 50000 100000").split()]
M1_RUNS = int(os.environ.get("BENCH_M1_RUNS", "3"))
M1_WATCHED_EVERY = int(os.environ.get("BENCH_M1_WATCHED_EVERY", "10000"))
LOAD_BEFORE = " ".join(f"{l:.1f}" for l in os.getloadavg())

REPO = Path(__file__).resolve().parent.parent
VECTORS = REPO / "testdata/vectors/sigstore-python"
# A real public-good bundle (sigstore-python's test vector, a wheel).
REAL_FILE = VECTORS / "bundle_v3_github.whl"
REAL_BUNDLE = VECTORS / "bundle_v3_github.whl.sigstore"
REAL_SAN = "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
REAL_ISSUER = "https://token.actions.githubusercontent.com"
# What the testbed's default GitLab token is for.
BED_SAN = "https://gitlab.com/keyless-demo/hello-py//.gitlab-ci.yml@refs/heads/main"
BED_ISSUER = "https://gitlab.com"


# RESULTS.md holds the main table, then the monitor's section: each run
# rewrites its own part and keeps the other.
MONITOR_SECTION = "## Auditors at scale: keyless rekor monitor (issue #19)"


def section_of(out, title):
    """`title`'s section of the results file `out` (to its end), or ""."""
    text = Path(out).read_text() if Path(out).exists() else ""
    at = text.find(title)
    return "" if at < 0 else "\n" + text[at:]


def without_section(out, title):
    """The results file `out` before `title`'s section."""
    text = Path(out).read_text() if Path(out).exists() else "# Benchmark results\n"
    at = text.find(title)
    return (text if at < 0 else text[:at]).rstrip("\n") + "\n"


class Sample:
    def __init__(self, wall, cpu, rss_kib, ok, error):
        self.wall, self.cpu, self.rss_kib, self.ok, self.error = wall, cpu, rss_kib, ok, error


SPAWN = None  # bench/spawn.c, built by bench/run


def run_once(cmds, env=None, before=None):
    """Run `cmds` one after the other, each through the spawn launcher:
    (wall, cpu, max rss KiB, ok, error)."""
    if before:
        before()
    wall = cpu = 0.0
    rss = 0
    for cmd in cmds:
        with tempfile.TemporaryFile() as err:
            out = subprocess.run(
                [str(SPAWN)] + [str(c) for c in cmd],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
                env=env,
                text=True,
            )
            w, c, r, code = out.stdout.split()
            wall += float(w)
            cpu += float(c)
            rss = max(rss, int(r))
            if out.returncode != 0 or code != "0":
                err.seek(0)
                lines = [l for l in err.read().decode(errors="replace").splitlines() if l.strip()]
                first = next((l for l in lines if "rror" in l), lines[0] if lines else "")
                return Sample(wall, cpu, rss, False, f"exit {code}: {first.strip()[:160]}")
    return Sample(wall, cpu, rss, True, None)


def measure(cmds, env=None, before=None, runs=RUNS):
    """Median figures over `runs` runs; the first failure stops the tool."""
    samples = []
    for _ in range(runs):
        s = run_once(cmds, env, before)
        if not s.ok:
            return s
        samples.append(s)
    med = lambda f: statistics.median(f(s) for s in samples)
    return Sample(med(lambda s: s.wall), med(lambda s: s.cpu), med(lambda s: s.rss_kib), True, None)


class Testbed:
    """A keyless-testbed serving on a free loopback port until stopped."""

    def __init__(self, binary, faults=()):
        self.dir = Path(tempfile.mkdtemp(prefix="keyless-bench-bed-"))
        args = [str(binary), "serve", "--state-dir", str(self.dir / "state")]
        for f in faults:
            args += ["--fault", f]
        self.binary = binary
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        self.trust_config = self.trust_config_v2 = self.url = self.pypi_index = None
        for line in self.proc.stdout:
            line = line.strip()
            if line.startswith("keyless-testbed listening on"):
                self.url = line.rsplit(" ", 1)[1]
            elif line.startswith("PyPI:"):
                self.pypi_index = line.split()[1]
            elif line.startswith("trust config:"):
                self.trust_config = line.split(":", 1)[1].strip()
            elif line.startswith("(Rekor v2 + TSA:"):
                self.trust_config_v2 = line.split(":", 1)[1].strip().rstrip(")")
            elif line.startswith("Stop with"):
                break
        if not self.trust_config:
            raise SystemExit("bench: the testbed did not start")

    def token(self):
        out = subprocess.run(
            [str(self.binary), "token", "--state-dir", str(self.dir / "state"), "--expires-in", "3600"],
            check=True, capture_output=True, text=True,
        )
        return out.stdout.strip()

    def fill(self, log, count, watched_every):
        """POST /admin/fill: `count` valid entries appended to `log`."""
        import urllib.request
        body = json.dumps({"log": log, "count": count, "watched_every": watched_every}).encode()
        req = urllib.request.Request(f"{self.url}/admin/fill", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=3600) as r:
            return json.load(r)

    def cpu_seconds(self):
        """The testbed process's CPU time so far (user + system)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def files(folder, count, size=64, suffix=".tar.gz"):
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        p = folder / f"pkg-{i:04d}{suffix}"
        p.write_bytes(os.urandom(size))
        out.append(p)
    return out


def sha256_hex(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def client_trust_config(root_json, out):
    """A ClientTrustConfig around the public-good trusted root (for the
    peers that take one); its signing config is never used offline."""
    root = json.loads(Path(root_json).read_text())
    doc = {
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": root,
        "signingConfig": {
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [], "oidcUrls": [], "rekorTlogUrls": [], "tsaUrls": [],
            "rekorTlogConfig": {"selector": "ANY"}, "tsaConfig": {"selector": "ANY"},
        },
    }
    Path(out).write_text(json.dumps(doc))
    return out


def monitor_bench(keyless, testbed, out):
    """Issue #19: `keyless rekor monitor` scanning a whole testbed log for
    one identity, on Rekor v1 and on Rekor v2 (tiles), at each of M1_SIZES
    entries. The log is bulk-filled (POST /admin/fill) with valid entries,
    one in M1_WATCHED_EVERY by the watched identity; each run starts from a
    fresh state at --since 1 (after the genesis entry), so it proves and
    reads every entry, and its JSON report must list exactly the watched
    entries."""
    work = Path(tempfile.mkdtemp(prefix="keyless-bench-monitor-"))
    env = dict(os.environ, XDG_CACHE_HOME=str(work / "cache"), HOME=str(work / "home"))
    (work / "home").mkdir()
    bed = Testbed(testbed)
    rows = []
    try:
        for log, tc, extra in [("v1", bed.trust_config, []),
                               ("v2", bed.trust_config_v2, ["--rekor-version", "2"])]:
            size, watched = 1, []  # the genesis entry
            for target in M1_SIZES:
                started = time.monotonic()
                filled = bed.fill(log, target - (size - 1), M1_WATCHED_EVERY)
                fill_s = time.monotonic() - started
                watched += filled["watched"]
                size = filled["to"]
                print(f"M1 {log}: filled to {size} entries in {fill_s:.1f} s", file=sys.stderr, flush=True)
                state, report = work / f"{log}-{size}.json", work / f"{log}-{size}.out.json"

                def fresh():
                    for p in (state, Path(f"{state}.lock"), report):
                        p.unlink(missing_ok=True)

                # Through sh's exec, so the report is kept and the figures
                # are keyless's own (the process is the same).
                cmd = ["sh", "-c", 'out="$1"; shift; exec "$@" > "$out"', "sh", report,
                       keyless, "rekor", "monitor", "--state", state, "--identity", BED_SAN,
                       "--since", "1", "--max-entries", str(size), "--json", "--trust-config", tc, *extra]
                bed_cpu = bed.cpu_seconds()
                s = measure([cmd], env, fresh, runs=M1_RUNS)
                bed_cpu = (bed.cpu_seconds() - bed_cpu) / M1_RUNS
                if s.ok:
                    r = json.loads(report.read_text())
                    found = [m["log_index"] for m in r["scan"]["matches"]]
                    scanned = r["scan"]["to"] - r["scan"]["from"]
                    if (r["scan"]["from"], r["scan"]["to"]) != (1, size) or found != watched:
                        s = Sample(s.wall, s.cpu, s.rss_kib, False,
                                   f"scanned {r['scan']['from']}..{r['scan']['to']}, found {found[:5]}...")
                rows.append((log, size - 1, s, bed_cpu, fill_s, len(watched)))
                status = f"{s.wall:.2f}s wall" if s.ok else f"FAILED {s.error}"
                print(f"  M1 {log} {size - 1}: {status}", file=sys.stderr, flush=True)
    finally:
        bed.stop()
        shutil.rmtree(work, ignore_errors=True)
    monitor_report(rows, out)


def monitor_report(rows, out):
    lines = [
        "| log | entries scanned | wall | CPU (keyless) | CPU (testbed) | peak RSS | entries/s (wall) | entries/s (keyless CPU) | matches |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for log, n, s, bed_cpu, _, matches in rows:
        name = "Rekor v1" if log == "v1" else "Rekor v2 (tiles)"
        if not s.ok:
            lines.append(f"| {name} | {n} | failed | | | | | | {s.error} |")
            continue
        lines.append(f"| {name} | {n} | {s.wall:.2f} s | {s.cpu:.2f} s | {bed_cpu:.2f} s | "
                     f"{s.rss_kib / 1024:.1f} MiB | {n / s.wall:,.0f} | {n / s.cpu:,.0f} | {matches} |")
    table = "\n".join(lines)
    print(table)
    fills = ", ".join(f"{log} to {n}: {fill_s:.1f} s" for log, n, _, _, fill_s, _ in rows)
    section = f"""{MONITOR_SECTION}

Written by `bench/run monitor`. `keyless rekor monitor --identity <testbed GitLab identity>
--since 1 --max-entries N --json` from a fresh state, scanning the whole testbed log: every entry
fetched, proven (Rekor v1: SET, signed checkpoint, inclusion proof bound to the verified
checkpoint; Rekor v2: inclusion proof computed from the tiles against the verified checkpoint)
and its certificate read. The log is bulk-filled with valid hashedrekord entries (`POST
/admin/fill`: testbed-issued certificates, real signatures), one in {M1_WATCHED_EVERY} by the
watched identity; each run's report must list exactly those. Medians of {M1_RUNS} runs;
the testbed serves on the same machine (its CPU time per run is shown: the two share the cores).
Before commit 1246ce2 the scan fetched every entry before proving any (and a Rekor v2 scan
re-hashed tile nodes for each proof): peak RSS grew with the entries scanned, 53 to 472 MiB
(Rekor v1) and 34 to 235 MiB (Rekor v2) from 10k to 100k, and Rekor v2 scanned about 4,000
entries/s.

- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}
- commit: {commit_line()}
- machine: {machine_line()}
- fills (wall): {fills}

{table}
"""
    Path(out).write_text(without_section(out, MONITOR_SECTION) + "\n" + section)


def commit_line():
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                            ":!bench/RESULTS.md"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    return commit + (" (with uncommitted changes)" if dirty else "")


def machine_line():
    cpuinfo = Path("/proc/cpuinfo").read_text()
    cpu_model = next((l.split(":", 1)[1].strip() for l in cpuinfo.splitlines()
                      if l.startswith("model name")), platform.processor())
    return (f"{cpu_model}, {os.cpu_count()} cores, SHA-NI {'yes' if 'sha_ni' in cpuinfo else 'no'}, "
            f"{platform.system()} {platform.release()};\n  load average {LOAD_BEFORE} before the run, "
            f"{' '.join(f'{l:.1f}' for l in os.getloadavg())} after\n  (other work on the machine shows as wall time well above CPU time: compare the CPU columns)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keyless", required=True)
    ap.add_argument("--testbed", required=True)
    ap.add_argument("--sigstore-python")
    ap.add_argument("--go-bin")
    ap.add_argument("--spawn", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--monitor", action="store_true", help="issue #19's monitor bench instead")
    a = ap.parse_args()
    global SPAWN
    SPAWN = Path(a.spawn).resolve()
    if a.monitor:
        return monitor_bench(Path(a.keyless).resolve(), Path(a.testbed).resolve(), a.out)
    if not (a.sigstore_python and a.go_bin):
        ap.error("--sigstore-python and --go-bin are required (but for --monitor)")
    keyless = Path(a.keyless).resolve()
    testbed = Path(a.testbed).resolve()
    spy = Path(a.sigstore_python).resolve()
    go = Path(a.go_bin)
    cosign, sgo_verify = go / "cosign", go / "sigstore-go-verification"
    work = Path(tempfile.mkdtemp(prefix="keyless-bench-"))
    # keyless must not pick up a TUF cache refreshed on this machine: the
    # embedded root is what it ships with.
    env = dict(os.environ, XDG_CACHE_HOME=str(work / "cache"), HOME=str(work / "home"))
    (work / "home").mkdir()
    prod_root = next(spy.parent.parent.glob(
        "lib/python*/site-packages/sigstore/_store/https%3A%2F%2Ftuf-repo-cdn.sigstore.dev/trusted_root.json"))
    prod_config = client_trust_config(prod_root, work / "prod-trust-config.json")
    rows = []  # (case, tool, Sample, note)

    def row(case, tool, sample, note=""):
        rows.append((case, tool, sample, note))
        status = f"{sample.wall:.3f}s wall" if sample.ok else f"FAILED {sample.error}"
        print(f"  {case} {tool}: {status}", file=sys.stderr, flush=True)

    if "V1" in CASES:
        print("V1: one small real public-good bundle, one process", file=sys.stderr)
        row("V1", "keyless", measure([[keyless, "verify", REAL_FILE, "--bundle", REAL_BUNDLE,
            "--certificate-identity", REAL_SAN, "--certificate-oidc-issuer", REAL_ISSUER]], env))
        row("V1", "sigstore-go", measure([[sgo_verify, "-trustedrootJSONpath", prod_root,
            "-expectedSAN", REAL_SAN, "-expectedIssuer", REAL_ISSUER, "-artifact", REAL_FILE, REAL_BUNDLE]], env))
        row("V1", "cosign", measure([[cosign, "verify-blob", "--bundle", REAL_BUNDLE, "--trusted-root", prod_root,
            "--certificate-identity", REAL_SAN, "--certificate-oidc-issuer", REAL_ISSUER, REAL_FILE]], env))
        row("V1", "sigstore-python", measure([[spy, "--trust-config", prod_config, "verify", "identity",
            "--offline", "--bundle", REAL_BUNDLE, "--cert-identity", REAL_SAN,
            "--cert-oidc-issuer", REAL_ISSUER, REAL_FILE]], env))

    if "V2" in CASES or "V3" in CASES:
        bed = Testbed(testbed)
        token = bed.token()
        tc = bed.trust_config

    if "V2" in CASES:
        print(f"V2: {V2_COUNT} testbed-signed bundles by digest", file=sys.stderr)
        folder = work / "v2"
        signed = files(folder, V2_COUNT)
        subprocess.run([keyless, "sign", "--trust-config", tc, "--identity-token", token, "-q", *signed],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        sums = folder / "SHA256SUMS"
        sums.write_text("".join(f"{sha256_hex(p)}  {p.name}\n" for p in signed))
        ident = ["--certificate-identity", BED_SAN, "--certificate-oidc-issuer", BED_ISSUER]
        row("V2", "keyless", measure([[keyless, "verify", "--from", sums, "--trust-config", tc, *ident]], env),
            "one process, --from SHA256SUMS")
        pairs = []
        for p in signed:
            pairs += ["--bundle", f"{p}.sigstore.json", f"sha256:{sha256_hex(p)}"]
        row("V2", "keyless --bundle pairs", measure([[keyless, "verify", *pairs, "--trust-config", tc, *ident]], env),
            "one process, --bundle B sha256:D per input")
        row("V2", "keyless --jobs 1", measure([[keyless, "verify", "--jobs", "1", "--from", sums,
            "--trust-config", tc, *ident]], env), "one process, one thread")
        row("V2", "keyless per process", measure([[keyless, "verify", f"sha256:{sha256_hex(p)}", "--bundle",
            f"{p}.sigstore.json", "--trust-config", tc, *ident] for p in signed], env, runs=min(RUNS, 3)),
            f"{V2_COUNT} processes")
        row("V2", "sigstore-python", measure([[spy, "--trust-config", tc, "verify", "identity", "--offline",
            "--cert-identity", BED_SAN, "--cert-oidc-issuer", BED_ISSUER, *signed]], env),
            "one process, all files (reads them)")
        bed_root = work / "bed-trusted-root.json"
        bed_root.write_text(json.dumps(json.loads(Path(tc).read_text())["trustedRoot"]))
        # One process each; tried once first, so a peer that cannot read
        # testbed bundles (issue #12) costs one run, not 500 x RUNS.
        sgo = lambda p: [sgo_verify, "-trustedrootJSONpath", bed_root, "-expectedSAN", BED_SAN,
                         "-expectedIssuer", BED_ISSUER, "-artifact-digest", sha256_hex(p), f"{p}.sigstore.json"]
        first = run_once([sgo(signed[0])], env)
        row("V2", "sigstore-go", first if not first.ok else
            measure([sgo(p) for p in signed], env, runs=min(RUNS, 3)), f"{V2_COUNT} processes")

    if "V3" in CASES:
        print(f"V3: one {V3_MIB} MiB artifact", file=sys.stderr)
        big = work / "v3" / "big.tar.gz"
        big.parent.mkdir()
        with open(big, "wb") as f:
            block = os.urandom(1 << 20)
            for _ in range(V3_MIB):
                f.write(block)
        sign = [keyless, "sign", "--trust-config", tc, "--identity-token", token, "-q", "--overwrite", big]
        row("V3", "keyless sign", measure([sign], env))
        row("V3", "keyless verify", measure([[keyless, "verify", big, "--trust-config", tc,
            "--certificate-identity", BED_SAN, "--certificate-oidc-issuer", BED_ISSUER]], env))
        row("V3", "sha256sum", measure([["sha256sum", big]], env))
        row("V3", "openssl dgst -sha256", measure([["openssl", "dgst", "-sha256", big]], env))
        bed_root = work / "bed-trusted-root.json"
        bed_root.write_text(json.dumps(json.loads(Path(tc).read_text())["trustedRoot"]))
        row("V3", "sigstore-go verify", measure([[sgo_verify, "-trustedrootJSONpath", bed_root,
            "-expectedSAN", BED_SAN, "-expectedIssuer", BED_ISSUER, "-artifact", big,
            f"{big}.sigstore.json"]], env))
        big.unlink()

    if "V2" in CASES or "V3" in CASES:
        bed.stop()

    if "S1" in CASES:
        print(f"S1: sign {S1_COUNT} files, {LATENCY_MS} ms latency on Fulcio, Rekor and the TSA", file=sys.stderr)
        delay = f"delay:{LATENCY_MS}"
        bed = Testbed(testbed, [f"fulcio={delay}", f"rekor-v1={delay}", f"rekor-v2={delay}", f"tsa={delay}"])
        token = bed.token()
        folder = work / "s1"
        signed = files(folder, S1_COUNT)
        for name, tc in [("Rekor v2 + TSA", bed.trust_config_v2), ("Rekor v1", bed.trust_config)]:
            row("S1", f"keyless ({name})", measure([[keyless, "sign", "--trust-config", tc, "--identity-token",
                token, "-q", "--overwrite", *signed]], env), "default --jobs 32")
            row("S1", f"sigstore-python ({name})", measure([[spy, "--trust-config", tc, "sign",
                "--identity-token", token, "--overwrite", *signed]], env))
        bed.stop()

    if "P1" in CASES:
        print(f"P1: a pylock.toml of {P1_COUNT} files verified from the PyPI stand-in", file=sys.stderr)
        bed = Testbed(testbed)
        lock, index = publish_to_pypi(bed, keyless, work / "p1", env)
        row("P1", "keyless verify pypi --lock", measure([[keyless, "verify", "pypi", "--lock", lock,
            "--index-url", index, "--trust-config", bed.trust_config, "-q"]], env),
            f"one process, {P1_COUNT} files (index pages, Integrity API, verification)")
        # pypi-attestations has no lock input: its `verify pypi` code per
        # release (one file), from the same index, against the testbed root.
        peer = [spy.parent / "python", REPO / "crates/keyless-cli/tests/interop/pypi_index.py", index,
                "bench-pkg-0000", "1.0", "https://gitlab.com/keyless-demo/hello-py", bed.trust_config]
        row("P1", "pypi-attestations verify pypi", measure([peer], env),
            f"one file, one process (x{P1_COUNT} for the lock)")
        bed.stop()

    shutil.rmtree(work, ignore_errors=True)
    report(rows, a.out)


def publish_to_pypi(bed, keyless, folder, env):
    """P1_COUNT one-file releases attested by keyless and uploaded to the
    stand-in as twine does; the pylock.toml that pins them."""
    import base64
    import urllib.request
    folder.mkdir(parents=True)
    dists = []
    for i in range(P1_COUNT):
        p = folder / f"bench_pkg_{i:04d}-1.0.tar.gz"
        p.write_bytes(os.urandom(64))
        dists.append(p)
    subprocess.run([keyless, "attest", "--trust-config", bed.trust_config, "--identity-token", bed.token(),
                    "-q", *dists], check=True, env=env, stdout=subprocess.DEVNULL)
    auth = "Basic " + base64.b64encode(b"__token__:bench").decode()
    lock = ['lock-version = "1.0"', 'created-by = "keyless bench"', ""]
    for i, p in enumerate(dists):
        att = (p.parent / f"{p.name}.publish.attestation").read_text()
        fields = [(":action", "file_upload"), ("protocol_version", "1"), ("name", f"bench-pkg-{i:04d}"),
                  ("version", "1.0"), ("attestations", f"[{att}]")]
        body = b"".join(f'--B\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                        for k, v in fields)
        body += f'--B\r\nContent-Disposition: form-data; name="content"; filename="{p.name}"\r\n\r\n'.encode()
        body += p.read_bytes() + b"\r\n--B--\r\n"
        req = urllib.request.Request(f"{bed.url}/legacy/", data=body, method="POST", headers={
            "Authorization": auth, "Content-Type": "multipart/form-data; boundary=B"})
        urllib.request.urlopen(req, timeout=60).read()
        lock += [
            "[[packages]]", f'name = "bench-pkg-{i:04d}"', 'version = "1.0"', f'index = "{bed.pypi_index}"',
            f'sdist = {{ name = "{p.name}", url = "{bed.url}/packages/bench-pkg-{i:04d}/{p.name}", '
            f'hashes = {{ sha256 = "{sha256_hex(p)}" }} }}',
            'attestation-identities = [{ kind = "GitLab", repository = "keyless-demo/hello-py" }]', "",
        ]
    path = folder / "pylock.toml"
    path.write_text("\n".join(lock))
    return path, bed.pypi_index


def report(rows, out):
    def mib(kib):
        return f"{kib / 1024:.1f} MiB"

    base = {}
    for case, tool, s, _ in rows:
        if tool == "keyless" or (tool.startswith("keyless") and case not in base and s.ok):
            base.setdefault(case, s)
    lines = [
        "| case | tool | wall | CPU | peak RSS | wall / keyless | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for case, tool, s, note in rows:
        if not s.ok:
            lines.append(f"| {case} | {tool} | failed | | | | {s.error} |")
            continue
        b = base.get(case)
        ratio = f"{s.wall / b.wall:.2f}x" if b and b.ok and b.wall > 0 else ""
        wall = f"{s.wall * 1000:.1f} ms" if s.wall < 1 else f"{s.wall:.2f} s"
        cpu = f"{s.cpu * 1000:.1f} ms" if s.cpu < 1 else f"{s.cpu:.2f} s"
        lines.append(f"| {case} | {tool} | {wall} | {cpu} | {mib(s.rss_kib)} | {ratio} | {note} |")
    table = "\n".join(lines)
    print(table)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                            capture_output=True, text=True).stdout.strip()
    # The results file itself does not count as a change to what was measured.
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                            ":!bench/RESULTS.md"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    cpu_model = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                      if l.startswith("model name")), platform.processor())
    sha_ni = "sha_ni" in Path("/proc/cpuinfo").read_text()
    header = f"""# Benchmark results

Written by `bench/run` (issue #13). Medians of {RUNS} runs (the
many-process rows of V2: of {min(RUNS, 3)}); wall and CPU time summed over a
case's processes, peak RSS the largest of them. Ratios are wall time over
keyless's first row of the case.

- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}
- commit: {commit}{' (with uncommitted changes)' if dirty else ''}
- machine: {cpu_model}, {os.cpu_count()} cores, SHA-NI {'yes' if sha_ni else 'no'}, {platform.system()} {platform.release()};
  load average {LOAD_BEFORE} before the run, {" ".join(f"{l:.1f}" for l in os.getloadavg())} after (other work on the
  machine shows as wall time well above CPU time)
- V1: sigstore-python's real public-good vector `bundle_v3_github.whl`, public-good trusted root.
- V2: {V2_COUNT} small files signed on the testbed (Rekor v1), verified by digest (the real
  release bundles are not in testdata/vectors); sigstore-python reads the files.
- V3: {V3_MIB} MiB of random bytes, warm in the page cache; signed and verified on the testbed.
- S1: {S1_COUNT} files of 64 bytes, {LATENCY_MS} ms injected on every Fulcio, Rekor and TSA answer.
- P1: a pylock.toml of {P1_COUNT} one-file releases (64-byte sdists attested by `keyless attest`, uploaded
  to the testbed's PyPI stand-in with their attestations), verified from the index: PEP 691 pages, Integrity
  API answers and attestations (target: 1 s on 2 cores). pypi-attestations has no lock input; its row is
  its `verify pypi` code on one release of one file (tests/interop/pypi_index.py).

"""
    Path(out).write_text(header + table + "\n" + section_of(out, MONITOR_SECTION))


if __name__ == "__main__":
    main()
