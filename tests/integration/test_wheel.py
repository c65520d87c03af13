"""The built wheel carries schemas and manifest: installed in a fresh venv, it loads all five tools."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, green_api_block, green_api_block.contract as c
from green_api_block import GreenApiBlock
b = GreenApiBlock(credentials_from_env=False)
print(json.dumps({"file": green_api_block.__file__, "root": str(c.data_root()),
                  "tools": [t.id for t in b.tools], "manifest": c.load_manifest()["type"],
                  "version": green_api_block.__version__}))
"""


def test_wheel_in_fresh_venv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("green_api_block-*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    # Dependencies come from this test run's environment; the package itself only from the wheel.
    purelib = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = [p for p in site.getsitepackages() if p]
    Path(purelib, "_deps.pth").write_text("\n".join(deps) + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", purelib, str(wheel)],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [str(py), "-c", PROBE],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    info = json.loads(out.stdout)
    assert info["file"].startswith(purelib), "imported from the wheel, not the checkout"
    assert info["root"] == str(Path(purelib, "green_api_block", "_data"))
    assert info["tools"] == [
        "green_api_send_message",
        "green_api_send_file",
        "green_api_send_buttons",
        "green_api_get_notifications",
        "green_api_get_state_instance",
    ]
    assert info["manifest"] == "green_api"
    assert info["version"] == "0.1.0"
