#!/usr/bin/env python3
"""Compose laboratory-report training texts from Synthea lab panels.

    python3 scripts/lab-examples.py ../shared/corpus/train/lab_panels.jsonl > labs.jsonl

The transcription set has no laboratory reports, so the classifier learns them from panels
(LOINC name, value, unit) laid out the ways result printouts commonly are: a results table with
or without units, reference ranges and flags, optionally split by specimen or collection time,
sometimes with a short comment. Like the transcriptions, the texts carry no letterhead, patient
block or title. Seeded, so the output is reproducible.
"""
from __future__ import annotations

import json
import random
import sys

HEADERS = [
    ["Test", "Result", "Units"],
    ["Component", "Value", "Units", "Reference Range"],
    ["Analyte", "Result", "Flag", "Units", "Ref. Interval"],
    ["Test Name", "Result", "Reference", "Units"],
    ["Procedure", "Result", "Units"],
]
SPECIMENS = ["Blood", "Serum", "Plasma", "Whole blood", "Venous blood"]
STATUSES = ["Final", "Final report", "Corrected", "Preliminary"]
COMMENTS = [
    "Specimen slightly hemolyzed; potassium may be falsely elevated.",
    "Results verified by repeat analysis.",
    "Fasting specimen.",
    "Reference ranges are for adults.",
    "Critical value called to the ordering provider and read back.",
    "",
]


def fmt_value(value: str, rng: random.Random) -> tuple[str, str, str]:
    try:
        v = float(value)
    except ValueError:
        return value, "", ""
    low, high = round(v * rng.uniform(0.7, 0.95), 1), round(v * rng.uniform(1.05, 1.3), 1)
    flag = rng.choice(["", "", "", "H", "L"])
    return value, f"{low} - {high}" if rng.random() < 0.8 else f"<{high}", flag


def render(panel: dict, rng: random.Random) -> str:
    header = rng.choice(HEADERS)
    lines = []
    when = panel["datetime"][:10]
    yyyy, mm, dd = when.split("-")
    date = rng.choice([f"{mm}/{dd}/{yyyy}", when, f"{dd}-{mm}-{yyyy}"])
    if rng.random() < 0.8:
        lines.append(f"Collected: {date} {rng.randint(6, 18):02d}:{rng.randint(0, 59):02d}   "
                     f"Specimen: {rng.choice(SPECIMENS)}   Status: {rng.choice(STATUSES)}")
    if rng.random() < 0.4:
        lines.append(f"Received: {date}   Ordering provider: on file")
    lines.append("   ".join(header))
    results = list(panel["results"])
    if rng.random() < 0.5:
        results = results[: rng.randint(max(3, len(results) // 2), len(results))]
    for _loinc, name, value, unit in results:
        value, reference, flag = fmt_value(value, rng)
        cells = {"Test": name, "Component": name, "Analyte": name, "Test Name": name, "Procedure": name,
                 "Result": value, "Value": value, "Units": unit, "Flag": flag,
                 "Reference Range": reference, "Ref. Interval": reference, "Reference": reference}
        lines.append("   ".join(cells[h] for h in header).rstrip())
    comment = rng.choice(COMMENTS)
    if comment:
        lines.append(f"Comment: {comment}")
    return "\n".join(lines)


def main() -> int:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rng = random.Random(20261124)
    panels = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
    for panel in panels:
        for _ in range(2):
            print(json.dumps({"text": render(panel, rng), "doc_type": "lab_report"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
