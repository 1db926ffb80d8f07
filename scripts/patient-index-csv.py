#!/usr/bin/env python3
"""Build a patient-index CSV for a corpus, for `chartscan patients import`.

    python3 scripts/patient-index-csv.py [CORPUS] > patients.csv

CORPUS is a corpus folder (every `*/manifest.jsonl` in it is read: `dev/`, and any other split
beside it), one split's folder (its `manifest.jsonl`), or a manifest file; by default
`../shared/corpus`. The index holds every patient of the manifests with the MRN printed on their
documents, and, as distractors, every other patient of the corpus's `sources/patients.jsonl`
with an MRN made up here in the same formats (seeded, so the file is reproducible). Distractor
MRNs never equal a real one, but may sit one character away from one, as happens in a real index.
"""
from __future__ import annotations

import csv
import json
import os
import random
import re
import sys


def norm(mrn: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", mrn).upper()


def main() -> int:
    given = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "corpus")
    if os.path.isfile(given):
        manifests, split = [given], os.path.dirname(os.path.abspath(given))
        corpus = os.path.dirname(split)
    elif os.path.isfile(os.path.join(given, "manifest.jsonl")):
        manifests, corpus = [os.path.join(given, "manifest.jsonl")], os.path.dirname(os.path.abspath(given))
    else:
        corpus = given
        manifests = sorted(os.path.join(corpus, d, "manifest.jsonl") for d in os.listdir(corpus)
                           if os.path.isfile(os.path.join(corpus, d, "manifest.jsonl")))
    if not manifests:
        print(f"no manifest.jsonl in {given} or its folders", file=sys.stderr)
        return 2
    patients: dict[str, dict] = {}
    for manifest in manifests:
        for line in open(manifest, encoding="utf-8"):
            doc = json.loads(line)
            p = doc.get("patient")
            if p:
                patients[norm(p["mrn"])] = {"mrn": p["mrn_printed"], "last": p["last"], "first": p["first"],
                                            "dob": p["dob"], "sex": "", "aliases": ""}
    known = {(p["last"], p["first"], p["dob"]) for p in patients.values()}
    rng = random.Random(20261124)
    formats = [
        lambda: f"MR{rng.randrange(100000, 999999)}",
        lambda: f"E{rng.randrange(1000000, 9999999)}",
        lambda: f"{rng.randrange(100, 999)}-{rng.randrange(10, 99)}-{rng.randrange(10, 99)}",
        lambda: f"{rng.randrange(1000000, 9999999)}",
    ]
    sources = os.path.join(corpus, "sources", "patients.jsonl")
    if not os.path.isfile(sources):
        print(f"no {sources}: the index holds no distractors", file=sys.stderr)
    for line in open(sources, encoding="utf-8") if os.path.isfile(sources) else []:
        p = json.loads(line)
        if (p["last"], p["first"], p["dob"]) in known:
            continue
        while True:
            mrn = rng.choice(formats)()
            if norm(mrn) not in patients:
                break
        patients[norm(mrn)] = {"mrn": mrn, "last": p["last"], "first": p["first"], "dob": p["dob"],
                               "sex": p.get("gender") or "", "aliases": ""}
    writer = csv.DictWriter(sys.stdout, fieldnames=["mrn", "last", "first", "dob", "sex", "aliases"])
    writer.writeheader()
    for row in sorted(patients.values(), key=lambda r: (r["last"], r["first"])):
        writer.writerow(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
