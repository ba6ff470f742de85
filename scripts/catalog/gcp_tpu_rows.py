#!/usr/bin/env python3
"""Prints the Cloud TPU rows of providers/catalog/data/gcp/vms.csv (dev-time only).

One row per TPU slice type and zone, InstanceType `TPU-VM` (as SkyPilot names a TPU VM's host),
AcceleratorName as SkyPilot writes it (`tpu-v5litepod-8`, `tpu-v6e-8`), AcceleratorCount 1,
vCPUs and MemoryGiB of ONE host of the slice. Price is the whole slice's on-demand $/h where
Google's Cloud TPU price list states it (per device for v2-8 and v3-8, per chip-hour for v4, v5e,
v5p and v6e, in US regions); everywhere else, and every spot price but v2-8's and v3-8's
preemptible price, is `unknown`. Zones: where Google lists the generation.

    scripts/catalog/gcp_tpu_rows.py >> providers/catalog/data/gcp/vms.csv
"""

# generation: (sizes, chips(size), host vCPUs/GiB by single-host size or 'pod', zones, $/chip-h)
GENERATIONS = {
    "v2": dict(sizes=[8, 32, 128, 256, 512], chips=lambda n: n // 2, chips_per_host=4,
               host={"any": (96, 334)},
               zones={8: ["us-central1-b", "us-central1-c", "us-central1-f", "europe-west4-a",
                          "asia-east1-c"],
                      "pod": ["us-central1-a", "europe-west4-a"]},
               device_price={8: (4.50, 1.35)}, chip_price=None),
    "v3": dict(sizes=[8, 32, 64, 128, 256, 512, 1024, 2048], chips=lambda n: n // 2,
               chips_per_host=4, host={"any": (96, 340)},
               zones={8: ["us-central1-a", "us-central1-b", "us-central1-f", "europe-west4-a"],
                      "pod": ["europe-west4-a"]},
               device_price={8: (8.00, 2.40)}, chip_price=None),
    "v4": dict(sizes=[8, 16, 32, 64, 128, 256, 512], chips=lambda n: n // 2, chips_per_host=4,
               host={"any": (240, 407)}, zones={"any": ["us-central2-b"]}, device_price={},
               chip_price=3.22),
    "v5litepod": dict(sizes=[1, 4, 8, 16, 32, 64, 128, 256], chips=lambda n: n,
                      chips_per_host=4, host={1: (24, 48), 4: (112, 192), 8: (224, 384),
                                              "any": (112, 192)},
                      zones={"any": ["us-central1-a", "us-east1-c", "us-west4-a",
                                     "us-south1-a", "us-east5-b", "europe-west4-b"]},
                      device_price={}, chip_price=1.20),
    "v5p": dict(sizes=[8, 16, 32, 64, 128, 256, 512], chips=lambda n: n // 2, chips_per_host=4,
                host={"any": (208, 448)}, zones={"any": ["us-east5-a", "europe-west4-b"]},
                device_price={}, chip_price=4.20),
    "v6e": dict(sizes=[1, 4, 8, 16, 32, 64, 128, 256], chips=lambda n: n, chips_per_host=4,
                host={1: (44, 176), 4: (180, 720), 8: (180, 1440), "any": (180, 720)},
                zones={"any": ["us-south1-a", "us-east5-b", "europe-west4-a"]},
                device_price={}, chip_price=2.70),
}

def fmt(x):
    return "unknown" if x is None else ("%.2f" % x).rstrip("0").rstrip(".")

for gen, g in GENERATIONS.items():
    for size in g["sizes"]:
        single = g["chips"](size) <= 8 and size in g["host"] or g["chips"](size) <= g["chips_per_host"]
        vcpus, mem = g["host"].get(size, g["host"]["any"])
        zones = g["zones"].get(size) or (g["zones"].get("pod") if not single else None) \
            or g["zones"].get("any") or g["zones"].get(8)
        for zone in zones:
            region = zone.rsplit("-", 1)[0]
            us = region.startswith("us-")
            price, spot = g["device_price"].get(size, (None, None))
            if price is None and g["chip_price"] and us:
                price = g["chip_price"] * g["chips"](size)
            if price is not None and not us and not g["device_price"].get(size):
                price = None
            print(f"TPU-VM,tpu-{gen}-{size},1,{vcpus},{mem},,{fmt(price)},{fmt(spot)},"
                  f"{region},{zone},")
