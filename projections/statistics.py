"""Planner statistics for a projection's tables, kept fresh by the projection itself.

Views grow from empty, and PostgreSQL plans from the statistics ANALYZE last gathered. With
autovacuum off or behind (this project's CI turns it off), a table of a million rows can
still be planned as empty, and a join that should touch a few rows per event goes quadratic.
So before each batch the projection analyzes its tables that changed by more than
autovacuum's own default threshold since their last analysis.
"""

from marketplace.adapters.sql import Cursor

# autovacuum_analyze_threshold and autovacuum_analyze_scale_factor, as PostgreSQL defaults them
THRESHOLD = 50
SCALE = 0.1


def refresh_statistics(cur: Cursor, prefix: str) -> list[str]:
    """Analyzes the tables named with `prefix` that are due; returns their names."""
    if cur.dialect != "postgresql":
        return []
    cur.execute(
        "SELECT relname, n_mod_since_analyze, n_live_tup FROM pg_stat_user_tables "
        "WHERE schemaname = current_schema() AND starts_with(relname, %s)",
        [prefix],
    )
    due = [
        str(row["relname"])
        for row in cur.fetchall()
        if row["n_mod_since_analyze"] > THRESHOLD + SCALE * row["n_live_tup"]
    ]
    for table in sorted(due):
        cur.execute(f'ANALYZE "{table}"')
    return due
