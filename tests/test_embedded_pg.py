"""End-to-end check of the private PostgreSQL cluster used by the server and tests."""
from __future__ import annotations

import asyncio
import pathlib
import shutil

import asyncpg
import pytest

from ugene.embedded_pg import EmbeddedPostgres, PostgresMissing


async def _fetch(dsn: str, *sql: str) -> list:
    conn = await asyncpg.connect(dsn)
    try:
        return [await conn.fetchval(q) for q in sql]
    finally:
        await conn.close()


def test_cluster_lifecycle(tmp_path: pathlib.Path) -> None:
    root = tmp_path / "data" / "pg"
    lines: list[str] = []
    try:
        pg = EmbeddedPostgres(root, log=lines.append, fast=True)
    except PostgresMissing as exc:
        pytest.skip(str(exc))
    try:
        dsn = pg.start()
        assert pg.running
        assert any(str(pg.cluster) in line for line in lines)
        # Unix sockets cap the path at ~107 bytes; pytest's tmp_path is long.
        assert len(str(pg.socket_dir)) < 80

        one, trgm, listen = asyncio.run(_fetch(
            dsn, "SELECT 1", "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            "SHOW listen_addresses"))
        assert one == 1
        assert listen == ""
        asyncio.run(_fetch(dsn, "CREATE TABLE survivor (id int)",
                           "INSERT INTO survivor VALUES (42)"))

        assert pg.start() == dsn  # idempotent while running
        pg.create_database("x", template="ugene")
        pg.create_database("x", template="ugene")  # no error when it exists
        assert asyncio.run(_fetch(pg.dsn("x"), "SELECT id FROM survivor")) == [42]

        pg.stop()
        assert not pg.running
        pg.stop()  # no error when not running

        # A fresh object on the same root must find the same cluster and data.
        again = EmbeddedPostgres(root, log=lines.append, fast=True)
        assert again.cluster == pg.cluster
        assert again.start() == dsn
        assert asyncio.run(_fetch(dsn, "SELECT id FROM survivor")) == [42]
        again.stop()
        assert not again.running
    finally:
        pg.stop()
        if pg.cluster != root:  # relocated outside tmp_path; pytest won't clean it
            shutil.rmtree(pg.cluster, ignore_errors=True)


def test_an_empty_location_file_is_ignored(tmp_path: pathlib.Path) -> None:
    root = tmp_path / "data" / "pg"
    root.mkdir(parents=True)
    (root / "LOCATION").write_text("\n")            # what a start cut off mid-write could have left
    try:
        pg = EmbeddedPostgres(root, fast=True)
    except PostgresMissing as exc:
        pytest.skip(str(exc))
    # Where a fresh root would go: the root itself, or a folder of its own in the temp dir when root
    # must hand the cluster to `postgres` and the root's parents are closed to it.
    assert pg.cluster == root.resolve() or pg.cluster.name.startswith("ugene-pg-"), pg.cluster
