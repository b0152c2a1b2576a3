"""Render: how documents are drawn, with no domain knowledge.

Generic writers only: XLSX tables, the Jinja environment and its one template folder, SVG
charts. Callers decide what a document says; this package decides how it looks."""
