"""Ways mail arrives besides SMTP: provider webhooks and mailbox polling.

Every way ends in :func:`feedback.ingress.accept.accept`, the same durable path as the SMTP
ingest: size limit, token check, the raw message committed (deduplicated), then a parse job.
"""
