"""The compliance service: the projector that builds the read models (lists, counters, the
violations register) from the log, the S3 detector, and the queries that read them.

Public entry points: ``app`` (composition root), ``projector.Projector``, ``rebuild.rebuild``,
``rebuild.read_model_digest``, ``migrations.migrate``. See README.md.
"""
