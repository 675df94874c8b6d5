"""deploy/: install.sh into a scratch prefix (twice), the rendered nginx site and systemd units."""

import re
import shutil
import subprocess

import pytest

from tests.servers import ROOT

pytestmark = pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is installed by scripts/setup.sh")


def install(prefix, *extra):
    return subprocess.run(
        [
            "bash",
            str(ROOT / "deploy/install.sh"),
            "--host",
            "gikai.example.jp",
            "--prefix",
            str(prefix),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow  # runs the installer twice and nginx -t on what it wrote
def test_install_twice_keeps_the_secret_and_renders_every_file(tmp_path):
    first = install(tmp_path, "--processes", "3", "--upload-max-bytes", str(50 * 1024 * 1024))
    assert first.returncode == 0, first.stdout + first.stderr
    env_file = tmp_path / "etc/gikai/gikai.env"
    secret = re.search(r"^SECRET_KEY=(.+)$", env_file.read_text(), re.M).group(1)
    assert len(secret) >= 50
    second = install(tmp_path, "--processes", "2")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "nginx -t passed" in second.stdout and "keeping" in second.stdout
    assert re.search(r"^SECRET_KEY=(.+)$", env_file.read_text(), re.M).group(1) == secret
    site = (tmp_path / "etc/nginx/sites-available/gikai.conf").read_text()
    assert "@" not in re.sub(
        r"gikai@|\$[a-z_]+|'[^']*'", "", site.split("upstream", 1)[1]
    )  # every value filled
    assert len(re.findall(r"server unix:.*daphne-\d\.sock", site)) == 2  # the second run's process count
    # The upload limit from the kept environment file (50 MB) + 1 MB.
    assert f"client_max_body_size {(50 * 1024 * 1024 + 1024 * 1024) // 1024}k;" in site
    for needle in (
        "ssl_protocols TLSv1.2 TLSv1.3;",
        "internal;",
        "proxy_set_header Upgrade $http_upgrade;",
        "limit_req zone=gikai_signin",
        "limit_conn gikai_ws_conn",
        "return 301 https://$host",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "location /static/",
        "expires 7d;",
    ):
        assert needle in site, needle
    units = tmp_path / "etc/systemd/system"
    names = {p.name for p in units.iterdir()}
    assert {
        "gikai-daphne@.service",
        "gikai-worker.service",
        "gikai-release.timer",
        "gikai-announce.timer",
        "gikai-backup.timer",
        "gikai.target",
    } <= names
    daphne = (units / "gikai-daphne@.service").read_text()
    assert f"-u {tmp_path}/run/gikai/daphne-%i.sock" in daphne and f"EnvironmentFile={env_file}" in daphne
    assert "Nice=19" in (units / "gikai-worker.service").read_text()
    if shutil.which("systemd-analyze"):
        check = subprocess.run(
            ["systemd-analyze", "verify", "--man=no", *sorted(str(units / n) for n in names if "@" not in n)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert check.returncode == 0, check.stdout + check.stderr


def test_install_refuses_bad_arguments(tmp_path):
    assert install(tmp_path, "--processes", "0").returncode == 2
    bad = subprocess.run(
        ["bash", str(ROOT / "deploy/install.sh"), "--prefix", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2 and "--host is required" in bad.stderr
    assert install(tmp_path, "--host", "bad host;name").returncode == 2
