"""Benchmark databases: migrated and filled with `aid-directory generate`, built once and cached.

The cache key is N + seed + migration head + a hash of the generator's code, so a new migration
or a changed generator rebuilds, and nothing else does. A second key, a hash of the search-index
code, only triggers `aid-directory reindex` on the cached data (seconds, not minutes).

- SQLite: one file per key under `bench/out/cache/`.
- PostgreSQL: one schema per N (`bench_n1000`, ...) in the benchmark database (default
  `test_bench`), reached through `search_path`; the key and a fingerprint of the schema (tables,
  indexes, functions) are kept in a `bench_meta` table, so a schema damaged by someone else's
  `DROP SCHEMA public CASCADE` (extensions live in `public`) is detected and rebuilt.
  Only schemas whose name starts with `bench_` are ever dropped, and `public` when it holds
  tables (a test run's), since it is on the search path.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CACHE = OUT / "cache"
#: Files whose content decides what the generator writes (besides the migrations).
DATA_CODE = [
    "directory/demo/generate.py",
    "directory/demo/rows.py",
    "directory/demo/data.py",
    "directory/listings/places.py",
    "directory/listings/taxonomy.py",
]
#: Files whose content decides the search index built from the data (`aid-directory reindex`).
INDEX_CODE = ["directory/search/index.py", "directory/search/keys.py"]
PG_EXTENSIONS = ("pg_trgm", "unaccent")


@dataclass
class Dataset:
    backend: str
    n: int
    seed: int
    url: str
    key: str
    sqlite_path: Path | None = None
    built_now: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    size_bytes: int = 0
    note: str = ""


def cli_command() -> list[str]:
    """`aid-directory` as installed in the environment running the benchmark."""
    script = Path(sys.executable).parent / "aid-directory"
    return [str(script)] if script.exists() else [sys.executable, "-m", "directory"]


def _digest(files: list[str]) -> str:
    digest = hashlib.sha1()
    for rel in files:
        path = ROOT / rel
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def _migrations_digest() -> str:
    # the head id is not enough: a migration may be edited in place before it is released
    files = sorted(
        str(p.relative_to(ROOT)) for p in (ROOT / "migrations" / "versions").glob("*.py")
    )
    return _digest(files)[:6]


def cache_key(n: int, seed: int) -> str:
    from directory.migrate import head_revision

    return f"n{n}-s{seed}-{head_revision()}-m{_migrations_digest()}-g{_digest(DATA_CODE)}"


def _reusable(stale_key: str, key: str) -> bool:
    """An older database can be brought up to date by `migrate` + `reindex` when only the
    generator changed, or when the schema moved to a new head — not when a migration was edited
    in place (same head, other content: `migrate` would do nothing)."""
    old, new = stale_key.split("-"), key.split("-")
    if len(old) != 5 or len(new) != 5:
        return False
    return old[3] == new[3] or old[2] != new[2]


def index_key() -> str:
    return _digest(INDEX_CODE)


def _run_timed(args: list[str], env: dict[str, str], log: Path) -> float:
    started = time.perf_counter()
    with log.open("a") as out:
        out.write(f"$ {' '.join(args)}\n")
        out.flush()
        proc = subprocess.run(args, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-15:])
        raise RuntimeError(f"{' '.join(args[-4:])} failed (exit {proc.returncode}):\n{tail}")
    return time.perf_counter() - started


def _fill(url: str, n: int, seed: int, log: Path) -> dict[str, float]:
    env = {**os.environ, "DIRECTORY_DATABASE_URL": url}
    env.pop("DIRECTORY_TEST_DATABASE_URL", None)
    cmd = cli_command()
    return {
        "migrate_s": _run_timed([*cmd, "migrate"], env, log),
        "generate_s": _run_timed(
            [*cmd, "generate", "--services", str(n), "--seed", str(seed)], env, log
        ),
    }


def _migrate(url: str, log: Path) -> float:
    env = {**os.environ, "DIRECTORY_DATABASE_URL": url}
    env.pop("DIRECTORY_TEST_DATABASE_URL", None)
    return _run_timed([*cli_command(), "migrate"], env, log)


def _reindex(url: str, log: Path) -> float:
    env = {**os.environ, "DIRECTORY_DATABASE_URL": url}
    env.pop("DIRECTORY_TEST_DATABASE_URL", None)
    return _run_timed([*cli_command(), "reindex"], env, log)


# --- SQLite --------------------------------------------------------------------------------------


def sqlite_dataset(
    n: int, seed: int, *, rebuild: bool = False, reuse_stale: bool = False, log: Path
) -> Dataset:
    CACHE.mkdir(parents=True, exist_ok=True)
    key = cache_key(n, seed)
    path = CACHE / f"sqlite-{key}.db"
    current = path
    stale = sorted(
        (
            p
            for p in CACHE.glob(f"sqlite-n{n}-s{seed}-*.db")
            if _reusable(p.stem.removeprefix("sqlite-"), key)
        ),
        key=lambda p: p.stat().st_mtime,
    )
    if reuse_stale and not rebuild and not path.exists() and stale:
        # generated by older generator code: bring its schema and index up to date instead
        path, key = stale[-1], stale[-1].stem.removeprefix("sqlite-")
        ds = Dataset(
            "sqlite",
            n,
            seed,
            f"sqlite:///{path}",
            key,
            sqlite_path=path,
            note="generated by older generator code; migrated and reindexed",
        )
        ds.timings = {"migrate_s": _migrate(ds.url, log)}
        Path(f"{path}.index-key").unlink(missing_ok=True)
    else:
        note_file = Path(f"{path}.note")
        ds = Dataset(
            "sqlite",
            n,
            seed,
            f"sqlite:///{path}",
            key,
            sqlite_path=path,
            note=note_file.read_text() if note_file.exists() else "",
        )
    index_file = Path(f"{path}.index-key")
    if path.exists() and not rebuild:
        if not index_file.exists() or index_file.read_text() != index_key():
            ds.timings["reindex_s"] = _reindex(ds.url, log)
            with sqlite3.connect(path) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            index_file.write_text(index_key())
        if path != current:
            # now at the current head and index: cache it under the current key (with a note)
            for suffix in ("-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            path.rename(current)
            index_file.rename(f"{current}.index-key")
            Path(f"{current}.note").write_text(ds.note)
            ds.url, ds.sqlite_path, ds.key = f"sqlite:///{current}", current, current.stem[7:]
            path = current
        ds.size_bytes = path.stat().st_size
        return ds
    for old in CACHE.glob(f"sqlite-n{n}-s{seed}-*"):
        old.unlink()
    building = CACHE / f"building-{key}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    ds.timings = _fill(f"sqlite:///{building}", n, seed, log)
    with sqlite3.connect(building) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    building.rename(path)
    for suffix in ("-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    index_file.write_text(index_key())
    ds.built_now = True
    ds.size_bytes = path.stat().st_size
    return ds


def datasette_copy(ds: Dataset) -> Path:
    """A copy of the SQLite database with an FTS5 table over service names and descriptions,
    the way a data team would publish it with Datasette (`content="service"` lets Datasette's
    table view offer `?_search=`)."""
    assert ds.sqlite_path is not None
    CACHE.mkdir(parents=True, exist_ok=True)
    dest = CACHE / f"datasette-{ds.key}.db"
    if dest.exists():
        return dest
    for old in CACHE.glob(f"datasette-n{ds.n}-s{ds.seed}-*"):
        old.unlink()
    tmp = CACHE / f"building-datasette-{ds.key}.db"
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{ds.sqlite_path}?mode=ro", uri=True)
    dst = sqlite3.connect(tmp)
    src.backup(dst)
    src.close()
    dst.execute("PRAGMA journal_mode=DELETE")
    dst.execute(
        "CREATE VIRTUAL TABLE datasette_service_fts "
        'USING fts5(name, description, content="service")'
    )
    dst.execute("INSERT INTO datasette_service_fts(datasette_service_fts) VALUES('rebuild')")
    dst.commit()
    dst.close()
    tmp.rename(dest)
    return dest


# --- PostgreSQL ----------------------------------------------------------------------------------


def _pg_engine(base_url: str):  # type: ignore[no-untyped-def]
    return create_engine(make_url(base_url).set(drivername="postgresql+psycopg"))


def ensure_pg_database(base_url: str) -> bool:
    """Create the benchmark's database when the server answers but it does not exist yet.

    Connects to the server's `postgres` maintenance database as the same user. True when it
    created the database. A server that does not answer raises (pg_available says why)."""
    url = make_url(base_url).set(drivername="postgresql+psycopg")
    name = url.database
    if not name:
        raise ValueError(f"no database name in {url.render_as_string(hide_password=True)}")
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if exists:
                return False
            conn.execute(text("CREATE DATABASE " + conn.dialect.identifier_preparer.quote(name)))
            return True
    finally:
        engine.dispose()


def pg_available(base_url: str) -> str | None:
    """None when the server answers, else the reason."""
    try:
        engine = _pg_engine(base_url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "skip PostgreSQL", with the reason
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


def _with_search_path(base_url: str, schemas: list[str]) -> str:
    url = make_url(base_url).set(drivername="postgresql+psycopg")
    url = url.update_query_dict({"options": f"-csearch_path={','.join(schemas)}"})
    return url.render_as_string(hide_password=False)


def _fingerprint(conn, schema: str) -> str:  # type: ignore[no-untyped-def]
    row = conn.execute(
        text(
            "SELECT (SELECT count(*) FROM pg_tables WHERE schemaname = :s"
            "   AND tablename <> 'bench_note'),"
            " (SELECT count(*) FROM pg_indexes WHERE schemaname = :s),"
            " (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            "   WHERE n.nspname = :s)"
        ),
        {"s": schema},
    ).one()
    return f"tables={row[0]} indexes={row[1]} functions={row[2]}"


def postgres_dataset(
    base_url: str,
    n: int,
    seed: int,
    *,
    rebuild: bool = False,
    reuse_stale: bool = False,
    log: Path,
) -> Dataset:
    name = make_url(base_url).database or ""
    if "bench" not in name and "test" not in name:
        raise RuntimeError(
            f"refusing to use database {name!r}: its name must contain 'bench' or 'test'"
        )
    schema = f"bench_n{n}"
    key = cache_key(n, seed)
    engine = _pg_engine(base_url)
    with engine.begin() as conn:
        # `public` must hold nothing but the extensions: it is on every bench schema's
        # search_path, and tables there (left by a test run on this database) would be taken
        # for the bench schema's own (alembic_version first of all).
        if conn.execute(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        ).scalar():
            conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA IF NOT EXISTS public"))
        for ext in PG_EXTENSIONS:
            conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS {ext} WITH SCHEMA public"))
        ext_schemas = list(
            conn.execute(
                text(
                    "SELECT DISTINCT n.nspname FROM pg_extension e"
                    " JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = ANY(:x)"
                ),
                {"x": list(PG_EXTENSIONS)},
            ).scalars()
        )
        cached = None
        if (
            conn.execute(text("SELECT to_regclass(:t)"), {"t": f"{schema}.bench_meta"}).scalar()
            is not None
        ):
            cached = conn.execute(
                text(f"SELECT key, fingerprint, index_key FROM {schema}.bench_meta")
            ).first()
        fingerprint = _fingerprint(conn, schema)
    schemas = [schema, *[s for s in ext_schemas if s != schema]]
    if "public" not in schemas:
        schemas.append("public")
    url = _with_search_path(base_url, schemas)
    ds = Dataset("postgresql", n, seed, url, key)
    if (
        cached is not None
        and not rebuild
        and cached[0] != key
        and cached[1] == fingerprint
        and reuse_stale
        and _reusable(cached[0], key)
    ):
        ds.note = "generated by older generator code; migrated and reindexed"
        ds.timings = {"migrate_s": _migrate(url, log)}
        with engine.begin() as conn:
            fingerprint = _fingerprint(conn, schema)
            conn.execute(
                text(f"UPDATE {schema}.bench_meta SET key = :k, fingerprint = :f, index_key = ''"),
                {"k": key, "f": fingerprint},
            )
            conn.execute(text(f"CREATE TABLE IF NOT EXISTS {schema}.bench_note (note text)"))
            conn.execute(text(f"INSERT INTO {schema}.bench_note VALUES (:n)"), {"n": ds.note})
        cached = (key, fingerprint, "")
    elif cached is not None:
        with engine.connect() as conn:
            if (
                conn.execute(text("SELECT to_regclass(:t)"), {"t": f"{schema}.bench_note"}).scalar()
                is not None
            ):
                ds.note = conn.execute(text(f"SELECT note FROM {schema}.bench_note")).scalar() or ""
    if cached is not None and not rebuild and cached[0] == key and cached[1] == fingerprint:
        if cached[2] != index_key():
            ds.timings["reindex_s"] = _reindex(url, log)
            with engine.begin() as conn:
                _analyze(conn, schema)
                conn.execute(
                    text(f"UPDATE {schema}.bench_meta SET index_key = :i"), {"i": index_key()}
                )
        engine.dispose()
        ds.size_bytes = _pg_size(base_url, schema)
        return ds
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    ds.timings = _fill(url, n, seed, log)
    started = time.perf_counter()
    with engine.begin() as conn:
        # autovacuum would do this within minutes in production; do it now, explicitly
        _analyze(conn, schema)
        conn.execute(
            text(f"CREATE TABLE {schema}.bench_meta (key text, fingerprint text, index_key text)")
        )
        fingerprint = _fingerprint(conn, schema)
        conn.execute(
            text(f"INSERT INTO {schema}.bench_meta VALUES (:k, :f, :i)"),
            {"k": key, "f": fingerprint, "i": index_key()},
        )
    ds.timings["analyze_s"] = time.perf_counter() - started
    engine.dispose()
    ds.built_now = True
    ds.size_bytes = _pg_size(base_url, schema)
    return ds


def _analyze(conn, schema: str) -> None:  # type: ignore[no-untyped-def]
    """VACUUM (ANALYZE) every table of the schema, as autovacuum would within minutes in
    production: a reindex rewrites every search row, and with half the rows dead (and no
    visibility map) PostgreSQL's search pages measured 2–7× slower (one-letter prefix p95 166 ms
    before, 58 ms after, N=100k)."""
    tables = (
        conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema})
        .scalars()
        .all()
    )
    with conn.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as auto:
        for table in tables:  # VACUUM cannot run inside the caller's transaction
            auto.execute(text(f'VACUUM (ANALYZE) {schema}."{table}"'))


def _pg_size(base_url: str, schema: str) -> int:
    engine = _pg_engine(base_url)
    with engine.connect() as conn:
        size = conn.execute(
            text(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = :s AND c.relkind IN ('r', 'm')"
            ),
            {"s": schema},
        ).scalar()
    engine.dispose()
    return int(size or 0)


def empty_database(backend: str, base_url: str, name: str) -> str:
    """A fresh, migrated, empty database (import target). Returns its URL."""
    if backend == "sqlite":
        path = OUT / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        schema = f"bench_{name}"
        engine = _pg_engine(base_url)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
        url = _with_search_path(base_url, [schema, "public"])
    env = {**os.environ, "DIRECTORY_DATABASE_URL": url}
    subprocess.run([*cli_command(), "migrate"], env=env, check=True, capture_output=True)
    return url


def drop_scratch(backend: str, base_url: str, name: str) -> None:
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{OUT / name}.db{suffix}").unlink(missing_ok=True)
        return
    engine = _pg_engine(base_url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS bench_{name} CASCADE"))
    engine.dispose()


def disk_free(path: Path) -> int:
    return shutil.disk_usage(path).free
