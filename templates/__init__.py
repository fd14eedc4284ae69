"""Shipped email templates (Jinja2). Admins override them with ``feedback templates edit``.

Each ``NAME.j2`` defines three blocks: ``subject``, ``text`` and ``html``.
"""
