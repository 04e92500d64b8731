"""Start the real `autolearn` binary for the client tests.

Each test gets a fresh data dir (so a fresh registry), the shared artifact
and precompile cache, and a server on an ephemeral port.
"""

import os
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("AUTOLEARN_BIN", ROOT / "target/debug/autolearn"))
ARTIFACT = Path(os.environ.get("AUTOLEARN_ARTIFACT", ROOT / "target/python-wasm/runtime.wasm"))


def server_env(data_dir):
    env = dict(os.environ)
    # No language model unless a test asks for one: `auto` would pick the
    # fetched local model, and most tests are about everything else.
    env.setdefault("AUTOLEARN_LLM", "none")
    env.update(
        AUTOLEARN_DATA_DIR=str(data_dir),
        AUTOLEARN_ARTIFACT=str(ARTIFACT),
        AUTOLEARN_CACHE_DIR=str(ARTIFACT.parent / "cache"),
    )
    return env


class Server:
    def __init__(self, data_dir, extra_args=(), env=None):
        extra_args = list(extra_args)
        self.data_dir = data_dir
        # Logs go to a file: an unread stderr pipe would block a chatty server.
        self.log = open(Path(data_dir) / "server.log", "w+")
        self.proc = subprocess.Popen(
            [str(BIN), "serve", "--addr", "127.0.0.1:0", *extra_args],
            stdout=subprocess.PIPE,
            stderr=self.log,
            env={**server_env(data_dir), **(env or {})},
            text=True,
        )
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.proc.kill()
            self.log.seek(0)
            raise RuntimeError(f"server did not start: {line!r} {self.log.read()}")
        self.url = line.strip().split()[-1]

    def stop(self):
        """SIGTERM, as a service manager would; it must exit cleanly."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=20)
        finally:
            self.close()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=20)
        self.proc.stdout.close()
        self.log.close()


@pytest.fixture
def data_dir():
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


@pytest.fixture
def server(data_dir):
    s = Server(data_dir)
    yield s
    s.close()


@pytest.fixture
def fake():
    """The fake OpenAI endpoint (tests/clients/fake_openai.py)."""
    from fake_openai import FakeOpenAI
    f = FakeOpenAI()
    yield f
    f.close()


@pytest.fixture
def anyio_backend():
    return "asyncio"


def cli(data_dir, *args):
    return subprocess.run([str(BIN), *args], env=server_env(data_dir), capture_output=True, text=True, timeout=60)


# PostgreSQL: the cluster of AUTOLEARN_TEST_PG, or the project's private
# one (deploy/pg.sh starts it; Debian's postgresql package provides it).
PG_PORT = 25432


def pg_admin_url():
    url = os.environ.get("AUTOLEARN_TEST_PG")
    if url:
        return url
    out = subprocess.run(
        [str(ROOT / "deploy/pg.sh"), "start", str(ROOT / "target/pg"), str(PG_PORT)],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, f"PostgreSQL tests need a cluster: {out.stderr}"
    return out.stdout.strip()


def fresh_pg_database(admin_url, name):
    """A new, empty database on the cluster; returns its URL."""
    for sql in (f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", admin_url, "-q", "-c", sql], check=True, capture_output=True, timeout=60)
    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{name}"


@pytest.fixture
def pg_database(request):
    name = "alpy_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:40]
    admin = pg_admin_url()
    url = fresh_pg_database(admin, name)
    yield url
    subprocess.run(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
                   capture_output=True, timeout=60)
