"""Runs every Python client check through the proxy; prints PASS <n> checks when all held."""
import sys

import common

SECTIONS = [
    ("psycopg 3", "check_psycopg"),
    ("asyncpg", "check_asyncpg"),
    ("SQLAlchemy", "check_sqlalchemy"),
    ("Django", "check_django"),
    ("RECIPES.md in sync with the checks", "recipes_in_sync"),
]


def main(only=None):
    for name, module in SECTIONS:
        if only and module not in only:
            continue
        common.run_section(name, lambda m=module: __import__(m).run())
    if common.failures or common.checks == 0:
        print(f"FAILED: {', '.join(common.failures)} ({common.checks} checks ran)")
        return 1
    print(f"PASS {common.checks} checks")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
