#!/usr/bin/env python3
"""Prices the built-in catalog's GCP GPU machines from carried facts (dev-time only).

Reads prices/gcp-gpu-skypilot-catalog-v7.csv (one row per machine type, accelerator and region:
SkyPilot's host row and accelerator row, and the zones SkyPilot lists for both) and rewrites those
machines' rows of providers/catalog/data/gcp/vms.csv: one row per listed zone, priced host plus
accelerators (on demand and spot), as SkyPilot prices them. The shape columns are kept from the
file's existing row for that machine; rows of other machines are left as they are.

Usage: scripts/catalog/gcp_gpu_prices.py [--facts FILE] [--vms FILE]
"""

import argparse
import csv
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def total(a, b):
    return f"{round(float(a) + float(b), 5):.5f}".rstrip("0").rstrip(".")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--facts", default=os.path.join(HERE, "prices",
                                                        "gcp-gpu-skypilot-catalog-v7.csv"))
    parser.add_argument("--vms", default=os.path.join(HERE, "..", "..", "providers", "catalog",
                                                      "data", "gcp", "vms.csv"))
    args = parser.parse_args()
    with open(args.facts, newline="") as f:
        facts = list(csv.DictReader(f))
    with open(args.vms, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    col = {name: i for i, name in enumerate(header)}

    def machine(row):
        return (row[col["InstanceType"]], row[col["AcceleratorName"]],
                row[col["AcceleratorCount"]])

    replaced = {(f["InstanceType"], f["AcceleratorName"], f["AcceleratorCount"], f["Region"])
                for f in facts}
    templates = {}
    for row in rows:
        templates.setdefault(machine(row), row)
    out = []
    written = set()
    for row in rows:
        key = machine(row) + (row[col["Region"]],)
        if key not in replaced:
            out.append(row)
            continue
        if key in written:
            continue
        written.add(key)
        for fact in facts:
            if (fact["InstanceType"], fact["AcceleratorName"], fact["AcceleratorCount"],
                    fact["Region"]) != key:
                continue
            for zone in fact["Zones"].split():
                new = list(templates[machine(row)])
                new[col["Price"]] = total(fact["HostPrice"], fact["AcceleratorPrice"])
                new[col["SpotPrice"]] = total(fact["HostSpotPrice"], fact["AcceleratorSpotPrice"])
                new[col["Region"]] = fact["Region"]
                new[col["AvailabilityZone"]] = zone
                out.append(new)
    missing = replaced - written
    if missing:
        raise SystemExit(f"facts for machines the file does not list: {sorted(missing)}")
    with open(args.vms, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(out)


if __name__ == "__main__":
    main()
