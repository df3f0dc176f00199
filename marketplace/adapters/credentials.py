"""Passwords and failed sign-ins, kept beside the views and never in an event.

Hashes are argon2id (argon2-cffi). Failed sign-ins are counted per account and per address
in the database, so every API process refuses the same guesser.
"""

import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from marketplace.adapters.sql import Database

FAILURE_WINDOW_S = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
# Verifying against this when the email is unknown keeps both answers equally slow.
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a password anyone has")


class Credentials:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS credentials "
                "(person_id TEXT PRIMARY KEY, hash TEXT NOT NULL)"
            )
            cur.execute(
                "CREATE TABLE IF NOT EXISTS sign_in_failures "
                "(subject TEXT NOT NULL, at DOUBLE PRECISION NOT NULL)"
            )
            cur.execute(
                "CREATE INDEX IF NOT EXISTS sign_in_failures_subject "
                "ON sign_in_failures (subject, at)"
            )

    def set_password(self, person_id: str, password: str) -> None:
        with self.db.transaction() as cur:
            cur.upsert(
                "credentials",
                ["person_id", "hash"],
                [[person_id, _hasher.hash(password)]],
                "person_id",
            )

    def verify(self, person_id: str | None, password: str) -> bool:
        stored = None
        if person_id is not None:
            with self.db.transaction() as cur:
                cur.execute("SELECT hash FROM credentials WHERE person_id = %s", [person_id])
                row = cur.fetchone()
            stored = None if row is None else str(row["hash"])
        try:
            return _hasher.verify(stored or _DUMMY, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def locked_for(self, account: str, address: str) -> float:
        """Seconds until a sign-in for this account from this address may be tried again."""
        now = time.time()
        since = now - FAILURE_WINDOW_S
        waits = []
        with self.db.transaction() as cur:
            for subject, most in (
                (f"account:{account}", MAX_FAILURES_PER_ACCOUNT),
                (f"address:{address}", MAX_FAILURES_PER_ADDRESS),
            ):
                cur.execute(
                    "SELECT at FROM sign_in_failures WHERE subject = %s AND at > %s "
                    "ORDER BY at DESC",
                    [subject, since],
                )
                times = [float(r["at"]) for r in cur.fetchall()]
                if len(times) >= most:
                    waits.append(times[most - 1] + FAILURE_WINDOW_S - now)
        return max(waits, default=0.0)

    def failed(self, account: str, address: str) -> None:
        now = time.time()
        with self.db.transaction() as cur:
            cur.executemany(
                "INSERT INTO sign_in_failures (subject, at) VALUES (%s, %s)",
                [[f"account:{account}", now], [f"address:{address}", now]],
            )
            cur.execute("DELETE FROM sign_in_failures WHERE at < %s", [now - FAILURE_WINDOW_S])

    def succeeded(self, account: str) -> None:
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM sign_in_failures WHERE subject = %s", [f"account:{account}"])
