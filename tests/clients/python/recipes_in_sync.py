"""RECIPES.md shows exactly the code the checks run: each ```python block of it is one
`# --- recipe: … ---` region of check_sqlalchemy.py or check_django.py, and each region is shown."""
import re
import textwrap

from common import check

SOURCES = ["check_sqlalchemy.py", "check_django.py"]
REGION = re.compile(r"^[ \t]*# --- recipe: (.*?) ---\n(.*?)^[ \t]*# --- end recipe ---", re.S | re.M)


def normalize(code):
    return "\n".join(line.rstrip() for line in textwrap.dedent(code).strip("\n").splitlines())


def run():
    regions = {}
    for source in SOURCES:
        with open(source, encoding="utf-8") as f:
            for m in REGION.finditer(f.read()):
                regions[normalize(m.group(2))] = f"{source}: {m.group(1)}"
    with open("RECIPES.md", encoding="utf-8") as f:
        blocks = [normalize(b) for b in re.findall(r"^```python\n(.*?)^```", f.read(), re.S | re.M)]
    check(len(regions) >= 10, f"recipes: expected the recipe regions of {SOURCES}, found {len(regions)}")
    for block in blocks:
        check(block in regions, f"RECIPES.md shows code that no check runs:\n{block}")
    for region, where in regions.items():
        check(region in blocks, f"RECIPES.md lacks the recipe {where}:\n{region}")
