"""Versioned database migrations, applied in order by the sinks (see pipeline.sinks_postgres)."""
