#!/usr/bin/env python
from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpcenter.settings")
    if sys.argv[1:2] == ["setup"]:
        # Setup makes what the settings only read (the data folder, the secret
        # key), so it runs before Django loads them.
        from helpcenter import datadir

        for made in datadir.prepare(datadir.location()):
            print(f"Created {made}")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
