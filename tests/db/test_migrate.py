"""Migrations against a real, empty PostgreSQL database."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from runloom.db.migrate import MigrationError, default_migrations_dir, discover, migrate

SEED_TABLES = {
    "projects": {
        "id",
        "name",
        "description",
        "created_by",
        "task_queue_name",
        "is_active",
        "created_at",
        "updated_at",
        "total_workflow_executions",
        "total_activity_executions",
        "avg_execution_duration_ms",
        "last_execution_at",
    },
    "workflow_compiled_code": {
        "id",
        "workflow_id",
        "version",
        "workflow_code",
        "activities_code",
        "worker_code",
        "requirements_txt",
        "compiler_options_json",
        "compiled_at",
        "compiled_by",
        "is_active",
        "execution_count",
        "avg_execution_duration_ms",
        "error_count",
        "last_executed_at",
    },
    "workflow_workers": {
        "id",
        "worker_id",
        "project_id",
        "task_queue_name",
        "status",
        "host",
        "port",
        "process_id",
        "started_at",
        "stopped_at",
        "last_heartbeat",
        "total_tasks_completed",
        "total_tasks_failed",
        "avg_task_duration_ms",
        "cpu_usage_percent",
        "memory_usage_mb",
        "metadata",
        "created_at",
        "updated_at",
    },
    "activity_statistics": {
        "id",
        "project_id",
        "activity_name",
        "execution_count",
        "success_count",
        "failure_count",
        "avg_duration_ms",
        "p95_duration_ms",
        "p99_duration_ms",
        "last_executed_at",
        "requires_dedicated_worker",
        "created_at",
        "updated_at",
    },
}
SEED_INDEXES = {
    "idx_projects_task_queue",
    "idx_projects_created_by",
    "idx_workflows_project",
    "idx_compiled_code_workflow",
    "idx_compiled_code_active",
    "idx_workers_project",
    "idx_workers_task_queue",
    "idx_workers_status",
    "idx_one_active_worker_per_project",
    "idx_activity_stats_project",
    "idx_activity_stats_high_usage",
}


def _columns(conn: psycopg.Connection[tuple[object, ...]], table: str) -> set[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s",
        (table,),
    ).fetchall()
    return {str(r[0]) for r in rows}


def _schema_snapshot(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT table_name, column_name, data_type, column_default, is_nullable "
            "FROM information_schema.columns WHERE table_schema IN ('public', 'auth') "
            "UNION ALL SELECT tablename, indexname, indexdef, NULL, NULL FROM pg_indexes "
            "WHERE schemaname = 'public' ORDER BY 1, 2"
        ).fetchall()


def test_empty_database_gets_every_seed_table_column_index_and_function(
    empty_database_url: str,
) -> None:
    applied = migrate(empty_database_url)
    assert [m.name for m in applied] == [m.name for m in discover(default_migrations_dir())]
    with psycopg.connect(empty_database_url) as conn:
        for table, columns in SEED_TABLES.items():
            assert columns <= _columns(conn, table), table
        assert "project_id" in _columns(conn, "workflows")
        indexes = {
            str(r[0])
            for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
        }
        assert indexes >= SEED_INDEXES
        functions = {
            str(r[0])
            for r in conn.execute(
                "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public'"
            )
        }
        assert {"increment_project_stats", "increment_code_stats"} <= functions
        unique_partial = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_one_active_worker_per_project'"
        ).fetchone()
        assert unique_partial is not None
        assert "UNIQUE" in str(unique_partial[0]) and "starting" in str(unique_partial[0])
        history = conn.execute(
            "SELECT version, name FROM supabase_migrations.schema_migrations ORDER BY version"
        ).fetchall()
        assert ("20251117000001", "phase2_temporal_integration") in history


def test_migrating_again_changes_nothing(empty_database_url: str) -> None:
    migrate(empty_database_url)
    before = _schema_snapshot(empty_database_url)
    assert migrate(empty_database_url) == []
    assert _schema_snapshot(empty_database_url) == before


def test_an_edited_applied_migration_is_refused_by_name(
    empty_database_url: str, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(default_migrations_dir(), directory)
    migrate(empty_database_url, directory=directory)
    edited = directory / "20251117000001_phase2_temporal_integration.sql"
    edited.write_text(edited.read_text() + "\nCREATE TABLE sneaky (id int);\n")
    with pytest.raises(MigrationError, match=r"20251117000001_phase2_temporal_integration\.sql"):
        migrate(empty_database_url, directory=directory)


def test_a_failing_migration_leaves_nothing_behind(empty_database_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(default_migrations_dir(), directory)
    (directory / "20991231000000_broken.sql").write_text(
        "CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;\n"
    )
    with pytest.raises(MigrationError, match=r"20991231000000_broken\.sql failed"):
        migrate(empty_database_url, directory=directory)
    with psycopg.connect(empty_database_url) as conn:
        assert conn.execute("SELECT to_regclass('public.half_done')").fetchone() == (None,)
        recorded = conn.execute(
            "SELECT count(*) FROM supabase_migrations.schema_migrations WHERE version = %s",
            ("20991231000000",),
        ).fetchone()
        assert recorded == (0,)


def test_existing_workflows_move_into_a_default_project(empty_database_url: str) -> None:
    directory = default_migrations_dir()
    before_phase2 = [m for m in discover(directory) if m.version < "20251117000001"]
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        for m in before_phase2:
            conn.execute(m.text)  # type: ignore[arg-type]
        user = conn.execute(
            "INSERT INTO users (email) VALUES ('old@example.test') RETURNING id"
        ).fetchone()
        assert user is not None
        conn.execute(
            "INSERT INTO workflows (name, created_by) VALUES ('a', %s), ('b', %s)",
            (user[0], user[0]),
        )
        conn.execute("CREATE SCHEMA supabase_migrations")
        conn.execute(
            "CREATE TABLE supabase_migrations.schema_migrations "
            "(version text PRIMARY KEY, statements text[], name text)"
        )
        for m in before_phase2:
            conn.execute(
                "INSERT INTO supabase_migrations.schema_migrations VALUES (%s, %s, %s)",
                (m.version, [m.text], m.name),
            )
    migrate(empty_database_url)
    with psycopg.connect(empty_database_url) as conn:
        rows = conn.execute(
            "SELECT p.name, p.task_queue_name, p.created_by::text || '-' || p.id::text, "
            "count(w.id) FROM projects p JOIN workflows w ON w.project_id = p.id "
            "GROUP BY p.id"
        ).fetchall()
    assert len(rows) == 1
    name, queue, expected_queue, count = rows[0]
    assert (name, count) == ("Default", 2)
    assert queue == expected_queue
