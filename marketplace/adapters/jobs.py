"""Running import jobs, noted beside the views so that a restart finds the ones a crash cut
off (their lines were spooled by the process that died)."""

from uuid import UUID

from marketplace.adapters.sql import Database


class JobTable:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS import_jobs_running "
                "(job_id TEXT PRIMARY KEY, owner_id TEXT NOT NULL)"
            )

    def started(self, job_id: UUID, owner_id: UUID) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO import_jobs_running (job_id, owner_id) VALUES (%s, %s) "
                "ON CONFLICT (job_id) DO NOTHING",
                [str(job_id), str(owner_id)],
            )

    def ended(self, job_id: UUID) -> None:
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM import_jobs_running WHERE job_id = %s", [str(job_id)])

    def noted(self) -> list[tuple[UUID, UUID]]:
        with self.db.transaction() as cur:
            cur.execute("SELECT job_id, owner_id FROM import_jobs_running ORDER BY job_id")
            return [(UUID(r["job_id"]), UUID(r["owner_id"])) for r in cur.fetchall()]
