"""Two worker processes on one database agree: sessions, logouts and throttles are shared."""
import re
import signal
import subprocess
import sys

from .conftest import free_port
from .test_cli import call, environment, wait_until_serving


def test_two_workers_share_sessions_logouts_and_throttles(pg, db, tmp_path):
    port = free_port()
    env = environment(tmp_path, UGENE_DATABASE_URL=pg, UGENE_PORT=str(port))
    process = subprocess.Popen([sys.executable, "-m", "ugene", "serve", "--workers", "2"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        wait_until_serving(process, lines, workers=2)          # both workers report they are serving
        password = next(re.search(r"password (\S+)", l).group(1) for l in lines if "account `admin`" in l)
        token = call(port, "auth", "signin", uname="admin", **{"pass": password})["answer"]["token"]
        # Each request opens a new connection, which the kernel spreads over both workers.
        # A token made by one worker is good on the other: they sign with one key (tests/test_secret.py).
        assert [call(port, "user", "profile", token).get("error") for _ in range(20)] == [None] * 20
        assert call(port, "user", "logout", token)["answer"]["message"] == "100011"
        assert [call(port, "user", "profile", token).get("error") for _ in range(20)] == ["004004"] * 20
        codes = [call(port, "auth", "signin", uname="admin", **{"pass": "Wrong0Password"})["error"]
                 for _ in range(12)]
        assert codes[:10] == ["001404"] * 10 and codes[10:] == ["001417", "001417"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
