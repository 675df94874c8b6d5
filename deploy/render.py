"""Fill a deploy/ template: ``python3 deploy/render.py TEMPLATE KEY=VALUE ...`` prints the result.

Standard library only (it runs before the virtual environment exists). Every ``@KEY@`` must be
given; derived values are computed here: ``UPSTREAM_SERVERS`` from ``SOCKET_DIR`` and
``PROCESSES``, ``CLIENT_MAX_BODY`` from ``UPLOAD_MAX_BYTES`` (+1 MB), ``HTTPS_PORT_SUFFIX`` from
``HTTPS_PORT``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def derive(values: dict[str, str]) -> dict[str, str]:
    values = dict(values)
    if "SOCKET_DIR" in values and "PROCESSES" in values:
        count = int(values["PROCESSES"])
        if count < 1:
            raise SystemExit("PROCESSES must be at least 1")
        values["UPSTREAM_SERVERS"] = "\n".join(
            f"    server unix:{values['SOCKET_DIR']}/daphne-{i}.sock max_fails=1 fail_timeout=5s;"
            for i in range(1, count + 1)
        )
    if "UPLOAD_MAX_BYTES" in values:
        values["CLIENT_MAX_BODY"] = f"{(int(values['UPLOAD_MAX_BYTES']) + 1024 * 1024 + 1023) // 1024}k"
    if "HTTPS_PORT" in values:
        values["HTTPS_PORT_SUFFIX"] = "" if values["HTTPS_PORT"] == "443" else f":{values['HTTPS_PORT']}"
    return values


def render(template: str, values: dict[str, str]) -> str:
    values = derive(values)
    missing = sorted(set(re.findall(r"@([A-Z_]+)@", template)) - set(values))
    if missing:
        raise SystemExit(f"render.py: no value for {', '.join(missing)}")
    return re.sub(r"@([A-Z_]+)@", lambda m: values[m.group(1)], template)


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit(__doc__)
    pairs = dict(arg.split("=", 1) for arg in argv[2:])
    sys.stdout.write(render(Path(argv[1]).read_text(), pairs))


if __name__ == "__main__":
    main(sys.argv)
