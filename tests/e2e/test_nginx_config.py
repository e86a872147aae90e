"""The sample nginx configuration (deploy/nginx/infusync.conf) is one nginx accepts, and
its body limits are the app's own."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from server.config import SETTINGS

CONF = Path(__file__).parents[2] / "deploy" / "nginx" / "infusync.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "infusync.example.org")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")
def test_nginx_accepts_the_sample_configuration(tmp_path):
    cert, key = _self_signed(tmp_path)
    site = CONF.read_text().replace("/etc/ssl/infusync/fullchain.pem", str(cert)).replace(
        "/etc/ssl/infusync/privkey.pem", str(key)).replace(
        "/var/log/nginx/infusync.access.log", str(tmp_path / "access.log"))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"error_log {tmp_path / 'error.log'};\npid {tmp_path / 'nginx.pid'};\n"
        f"events {{}}\nhttp {{\n include {tmp_path / 'site.conf'};\n}}\n")
    checked = subprocess.run([str(NGINX), "-t", "-p", str(tmp_path), "-c",
                              str(tmp_path / "nginx.conf")],
                             capture_output=True, text=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr


def test_the_body_limits_are_the_apps():
    defaults = {setting.key: setting.default for setting in SETTINGS}
    limits = {name: size for size, name in re.findall(
        r"client_max_body_size (\d+)m;\s+# INFUSYNC_(\w+)", CONF.read_text())}
    assert int(limits["MAX_BODY_BYTES"]) * 2**20 == defaults["MAX_CONTENT_LENGTH"]
    assert int(limits["SYNC_MAX_BODY_BYTES"]) * 2**20 == defaults["SYNC_MAX_BODY_BYTES"]
    assert int(limits["TRAINING_ASSET_MAX_BYTES"]) * 2**20 == \
        defaults["TRAINING_ASSET_MAX_BYTES"]
