"""The operator's commands, run as an operator runs them: real processes."""
import email
import email.policy
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import json

from ugene.embedded_pg import EmbeddedPostgres
from ugene.settings import Settings

from .conftest import free_port
from .helpers import link_in
from .served import Server, eventually


def ugene(*args, env, timeout=120):
    return subprocess.run([sys.executable, "-m", "ugene", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def environment(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("UGENE_")}
    env.update({"UGENE_DATA_DIR": str(tmp_path / "data"), "UGENE_ARGON2_MEMORY_KIB": "8192",
                "UGENE_ARGON2_TIME_COST": "1", **extra})
    return env


def test_modules_lists_modules_and_params(tmp_path):
    result = ugene("modules", env=environment(tmp_path))
    assert result.returncode == 0
    assert "general" in result.stdout and "status" in result.stdout


def test_create_admin_with_database_url(pg, db, tmp_path):
    env = environment(tmp_path, UGENE_DATABASE_URL=pg)
    result = ugene("create-admin", "--uname", "root1", "--email", "root1@example.test", env=env)
    assert result.returncode == 0, result.stderr
    password = re.search(r"password: (\S+)", result.stdout).group(1)
    assert len(password) >= 12
    again = ugene("create-admin", "--uname", "root1", "--email", "other@example.test", env=env)
    assert again.returncode == 1 and "username already taken" in again.stderr
    weak = ugene("create-admin", "--uname", "root2", "--email", "r2@example.test", "--password", "abc", env=env)
    assert weak.returncode == 1 and "too weak" in weak.stderr
    bad = ugene("create-admin", "--uname", "root3", "--email", "not-an-email", env=env)
    assert bad.returncode == 1 and "email" in bad.stderr


def test_create_admin_on_a_fresh_data_dir_starts_the_embedded_database(tmp_path):
    env = environment(tmp_path)
    result = ugene("create-admin", "--uname", "boss", "--email", "boss@example.test", "--password",
                   "Correct7Horse", env=env)
    assert result.returncode == 0, result.stderr
    assert "admin boss created" in result.stdout
    again = ugene("create-admin", "--uname", "boss", "--email", "b2@example.test", env=env)
    assert again.returncode == 1   # the same embedded cluster was found again, with its data


def call(port, module, param, token=None, **args):
    """One POST /api call on a new connection; the envelope, whatever the HTTP status."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api", method="POST",
        data=json.dumps({"module": module, "param": param, "args": args}).encode(),
        headers={"Content-Type": "application/json", "Connection": "close",
                 **({"X-Authorization-Token": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read())


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def wait_until_serving(process, lines, deadline=60, workers=1):
    """Collect the server's output lines until `workers` processes say they serve. The output is read
    straight from the pipe when select says it holds something, so the deadline holds while the server
    prints nothing; one read may bring the lines of several workers."""
    end = time.monotonic() + deadline
    fd, pending = process.stdout.fileno(), b""
    while (left := end - time.monotonic()) > 0:
        if sum("ugene serving on" in line for line in lines) >= workers:
            return
        if not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            raise AssertionError("server exited: " + "".join(lines) + pending.decode(errors="replace"))
        *complete, pending = (pending + chunk).split(b"\n")
        lines.extend(line.decode(errors="replace") + "\n" for line in complete)
    raise AssertionError("server did not start: " + "".join(lines) + pending.decode(errors="replace"))


def test_serve_creates_the_first_admin_serves_and_stops_on_sigterm(pg, db, tmp_path):
    port = free_port()
    env = environment(tmp_path, UGENE_DATABASE_URL=pg, UGENE_PORT=str(port))
    process = subprocess.Popen([sys.executable, "-m", "ugene", "serve"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        wait_until_serving(process, lines)
        assert any(re.search(r"account `admin` with the password \S+", line) for line in lines)
        status = get_json(f"http://127.0.0.1:{port}/api/general/status/en")
        assert status["success"] == 1 and status["answer"]["data"]["App"]["app-name"] == "Ugene"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
    # A second start finds the admin and creates none.
    process = subprocess.Popen([sys.executable, "-m", "ugene", "serve"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        wait_until_serving(process, lines)
        assert not any("password" in line for line in lines)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def test_create_admin_beside_a_running_serve_leaves_its_database_running(tmp_path):
    env = environment(tmp_path, UGENE_PORT=str(free_port()))   # the embedded database in the data dir
    server = Server(env, tmp_path / "ugene.log")
    cluster = EmbeddedPostgres(tmp_path / "data" / "pg")
    try:
        server.start()
        created = ugene("create-admin", "--uname", "boss", "--email", "boss@example.test", "--password",
                        "Correct7Horse", env=env)
        assert created.returncode == 0, created.stderr
        assert cluster.running                                  # serve started it; create-admin found it
        signin = call(server.port, "auth", "signin", uname="boss", **{"pass": "Correct7Horse"})
        assert signin["success"] == 1, signin
        assert server.stop(timeout=30) == 0
        assert not cluster.running                              # the one that started it stopped it
    finally:
        server.stop()
        cluster.stop()
        if cluster.cluster != cluster.root:                     # relocated outside tmp_path
            shutil.rmtree(cluster.cluster, ignore_errors=True)


async def test_serve_on_another_port_mails_links_that_reach_it(pg, db, tmp_path):
    port = free_port()                      # UGENE_PUBLIC_URL unset: links are built from host and port
    server = Server(environment(tmp_path, UGENE_DATABASE_URL=pg, UGENE_PORT=str(port)), tmp_path / "ugene.log")
    try:
        server.start()
        signup = call(port, "reg", "signup", uname="porter", email="porter@example.test", **{"pass": "Francis1992"})
        assert signup["success"] == 1, signup
        [mail] = await eventually(lambda: list((tmp_path / "data" / "mail").glob("*.eml")), 20, "the mail file")
        link = link_in(email.message_from_bytes(mail.read_bytes(), policy=email.policy.default))
        assert link.startswith(f"http://127.0.0.1:{port}/api/reg/confirm-email/")
        assert get_json(link)["answer"]["message"] == "100006"
    finally:
        server.stop()


def test_the_default_public_url_is_where_serve_listens():
    assert Settings().public_url == "http://127.0.0.1:3040"
    assert Settings.from_env({"UGENE_PORT": "3999"}).public_url == "http://127.0.0.1:3999"
    assert Settings.from_env({"UGENE_HOST": "0.0.0.0", "UGENE_PORT": "80"}).public_url == "http://127.0.0.1:80"
    assert Settings(host="::1", port=3040).public_url == "http://[::1]:3040"
    given = {"UGENE_PORT": "3999", "UGENE_PUBLIC_URL": "https://id.example.test/"}
    assert Settings.from_env(given).public_url == "https://id.example.test"
