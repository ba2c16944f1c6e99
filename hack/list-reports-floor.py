#!/usr/bin/env python3
# The API server's own floor for the operator's initial sync: the time to page through every
# VulnerabilityReport (GET with limit/continue, nothing else), for BENCHMARKS.md.
# Usage: hack/list-reports-floor.py https://127.0.0.1:17443 STATEDIR [PAGE_SIZE]
#   (STATEDIR of hack/local-cluster.sh: its pki/ca.crt and admin.token are used)
import json, ssl, sys, time, urllib.request
base, d = sys.argv[1], sys.argv[2]
limit = int(sys.argv[3]) if len(sys.argv) > 3 else 25
ctx = ssl.create_default_context(cafile=f"{d}/pki/ca.crt")
tok = open(f"{d}/admin.token").read().strip()
url = f"{base}/apis/aquasecurity.github.io/v1alpha1/vulnerabilityreports?limit={limit}"
t0, n, nbytes, cont = time.time(), 0, 0, None
while True:
    u = url + (f"&continue={cont}" if cont else "")
    body = urllib.request.urlopen(urllib.request.Request(u, headers={"Authorization": f"Bearer {tok}"}), context=ctx).read()
    nbytes += len(body); j = json.loads(body); n += len(j["items"]); cont = j["metadata"].get("continue")
    if not cont: break
print(f"limit={limit}: {n} reports, {nbytes/1e6:.0f} MB in {time.time()-t0:.1f}s")
