"""Alembic migrations of the tracking schema, driven programmatically by :mod:`wayline.store.sql.migrate`."""
