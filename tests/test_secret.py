"""The signing key generated into the data dir: one key for every process that starts on it."""
import multiprocessing
import stat

from ugene.services import load_secret
from ugene.settings import Settings

from .test_cli import environment, ugene


def _load_after(barrier, data_dir, keys):
    barrier.wait()                        # every process reaches the empty data dir at the same moment
    keys.put(load_secret(Settings(data_dir=data_dir)))


def test_processes_starting_together_on_a_fresh_data_dir_share_one_key(tmp_path):
    context = multiprocessing.get_context("fork")
    for attempt in range(10):
        data_dir = tmp_path / f"data{attempt}"
        barrier, keys = context.Barrier(4), context.Queue()
        processes = [context.Process(target=_load_after, args=(barrier, data_dir, keys)) for _ in range(4)]
        for process in processes:
            process.start()
        found = [keys.get(timeout=30) for _ in processes]
        for process in processes:
            process.join(timeout=30)
        kept = (data_dir / "secret").read_text()
        assert found == [kept] * 4 and len(kept) >= 64
        assert stat.S_IMODE((data_dir / "secret").stat().st_mode) == 0o600
        assert [path.name for path in data_dir.iterdir()] == ["secret"]     # no draft left behind


def test_the_kept_key_is_used_again_and_a_configured_one_wins(tmp_path):
    first = load_secret(Settings(data_dir=tmp_path))
    assert load_secret(Settings(data_dir=tmp_path)) == first
    configured = "configured-" + "k" * 40
    assert load_secret(Settings(data_dir=tmp_path / "other", secret=configured)) == configured
    assert not (tmp_path / "other").exists()


def test_serve_refuses_an_empty_key_file_and_says_what_to_do(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret").write_text("\n")
    result = ugene("serve", env=environment(tmp_path, UGENE_PORT="1"), timeout=60)
    assert result.returncode == 1
    assert "is empty" in result.stderr and "UGENE_SECRET" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "pg").exists()             # refused before anything was started
