#!/usr/bin/env python3
"""Builds the built-in catalog files (providers/catalog/data/<cloud>/vms.csv) from facts.

Dev-time only: the build and the tests read the generated files, never this script.

AWS shapes and zone offerings come from the EC2 descriptions that the Python `moto` package
carries (instance_types.json.gz: DescribeInstanceTypes' shape; instance_type_offerings/
availability-zone/*.json.gz: DescribeInstanceTypeOfferings per zone). Prices come only from
price files given with --aws-prices (SkyPilot's vms.csv format, e.g. rows carried from
skypilot-org/skypilot-catalog catalogs/v7/aws/vms.csv); a price not found there is written as
`unknown` (never estimated). Types that moto does not describe (EC2's retired P3 shapes) come
from rows given with --aws-rows (SkyPilot's vms.csv format, carried row by row: shape, on-demand
and spot prices, and zones as SkyPilot names them, by zone id such as `use1-az1`, which the
launch sends as Placement.AvailabilityZoneId).

Usage:
  scripts/catalog/generate_catalog.py [--moto DIR] [--aws-prices FILE]... [--aws-rows FILE]...
                                      [--out DIR]
"""

import argparse
import csv
import glob
import gzip
import json
import os
import sys

HEADER = ["InstanceType", "AcceleratorName", "AcceleratorCount", "vCPUs", "MemoryGiB", "GpuInfo",
          "Price", "SpotPrice", "Region", "AvailabilityZone", "EfaSupported", "MaxEfaInterfaces"]
UNKNOWN = "unknown"


def default_moto_dir():
    try:
        import moto  # noqa: F401 (only its data files are read)
        return os.path.join(os.path.dirname(moto.__file__), "ec2", "resources")
    except ImportError:
        return None


def number(value):
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text if text else "0"


def accelerator(description):
    """(name as SkyPilot names it, count, memory MiB per device, manufacturer) or None."""
    gpus = description.get("GpuInfo", {}).get("Gpus", [])
    if gpus:
        gpu = gpus[0]
        count = gpu.get("Count") or 0
        if count == 0:  # a fraction of one GPU (g6f): LogicalGpuCount × GpuPartitionSize
            count = gpu.get("LogicalGpuCount", 1) * gpu.get("GpuPartitionSize", 1)
        memory = gpu.get("MemoryInfo", {}).get("SizeInMiB", 0)
        name = gpu["Name"]
        # SkyPilot tells the large-memory variants apart by name.
        if name == "A100" and memory >= 80 * 1024:
            name = "A100-80GB"
        elif name == "V100" and memory >= 32 * 1024:
            name = "V100-32GB"
        return name, count, memory, gpu.get("Manufacturer", "")
    for device in description.get("NeuronInfo", {}).get("NeuronDevices", []):
        return device["Name"], device["Count"], device.get("MemoryInfo", {}).get("SizeInMiB", 0), "AWS"
    for device in description.get("InferenceAcceleratorInfo", {}).get("Accelerators", []):
        return (device["Name"], device["Count"], device.get("MemoryInfo", {}).get("SizeInMiB", 0),
                device.get("Manufacturer", ""))
    return None


def max_efa_interfaces(description):
    """EFA interfaces the type takes (one per network card on the largest types); "" without EFA."""
    network = description["NetworkInfo"]
    if not network.get("EfaSupported"):
        return ""
    return str(network.get("EfaInfo", {}).get("MaximumEfaInterfaces", 1))


def gpu_info(name, count, memory_mib, manufacturer):
    # SkyPilot's GpuInfo column: a Python-literal dict of the accelerator.
    return ("{'Gpus': [{'Name': '%s', 'Manufacturer': '%s', 'Count': %s, "
            "'MemoryInfo': {'SizeInMiB': %d}}], 'TotalGpuMemoryInMiB': %d}"
            % (name, manufacturer, number(count), memory_mib, int(memory_mib * max(count, 1))))


def read_prices(paths):
    """(instance type, region) → on-demand price; (type, region) → spot sold per SkyPilot."""
    prices = {}
    for path in paths:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                price = row.get("Price", "")
                if price and price.lower() != "nan":
                    prices[(row["InstanceType"], row["Region"])] = float(price)
    return prices


def carried_rows(paths, described):
    """Rows of SkyPilot's vms.csv for types moto lacks, as they are (EFA not stated: none)."""
    rows = []
    for path in paths:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                if row["InstanceType"] in described:
                    continue
                spot = row.get("SpotPrice", "")
                rows.append([
                    row["InstanceType"], row["AcceleratorName"],
                    number(float(row["AcceleratorCount"])) if row["AcceleratorCount"] else "",
                    number(float(row["vCPUs"])), number(float(row["MemoryGiB"])), row["GpuInfo"],
                    number(float(row["Price"])) if row["Price"] else UNKNOWN,
                    number(float(spot)) if spot and spot.lower() != "nan" else "",
                    row["Region"], row["AvailabilityZone"], "", "",
                ])
    return rows


def build_aws(moto_dir, price_paths, row_paths=()):
    with gzip.open(os.path.join(moto_dir, "instance_types.json.gz")) as f:
        types = json.load(f)
    offerings = []
    pattern = os.path.join(moto_dir, "instance_type_offerings", "availability-zone", "*.json.gz")
    for path in sorted(glob.glob(pattern)):
        region = os.path.basename(path)[: -len(".json.gz")]
        with gzip.open(path) as f:
            for offer in json.load(f):
                offerings.append((offer["InstanceType"], region, offer["Location"]))
    prices = read_prices(price_paths)
    rows = []
    missing = set()
    for instance_type, region, zone in sorted(set(offerings)):
        description = types.get(instance_type)
        if description is None:
            missing.add(instance_type)
            continue
        vcpus = description["VCpuInfo"]["DefaultVCpus"]
        memory = description["MemoryInfo"]["SizeInMiB"] / 1024
        acc = accelerator(description)
        price = prices.get((instance_type, region))
        spot_sold = "spot" in description.get("SupportedUsageClasses", [])
        rows.append([
            instance_type,
            acc[0] if acc else "",
            number(acc[1]) if acc else "",
            number(vcpus),
            number(memory),
            gpu_info(*acc) if acc else "",
            number(price) if price is not None else UNKNOWN,
            UNKNOWN if spot_sold else "",
            region,
            zone,
            "True" if description["NetworkInfo"].get("EfaSupported") else "False",
            max_efa_interfaces(description),
        ])
    if missing:
        print(f"aws: {len(missing)} offered types lack a description: {sorted(missing)[:5]}…",
              file=sys.stderr)
    rows.extend(carried_rows(row_paths, types))
    rows.sort(key=lambda row: (row[0], row[8], row[9]))
    return rows


def write(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    print(f"wrote {path}: {len(rows)} rows", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moto", default=default_moto_dir(),
                        help="moto's ec2/resources directory")
    parser.add_argument("--aws-prices", action="append", default=[],
                        help="a vms.csv whose Price column is carried over (repeatable)")
    parser.add_argument("--aws-rows", action="append", default=[],
                        help="SkyPilot vms.csv rows for types moto lacks, carried as they are")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..",
                                                      "providers", "catalog", "data"))
    args = parser.parse_args()
    if not args.moto:
        parser.error("moto is not installed; pass --moto DIR")
    write(os.path.join(args.out, "aws", "vms.csv"), build_aws(args.moto, args.aws_prices,
                                                                 args.aws_rows))


if __name__ == "__main__":
    main()
