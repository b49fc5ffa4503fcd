"""The README's table of subjects names every command and query a service serves, so an
integrator reading it misses none (S1–S10)."""

from pathlib import Path

import pytest
from jianfu.cli.asyncapi import interfaces
from jianfu.events.schemas.paging import PagedQuery
from jianfu.events.settings import Settings

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
SUBJECTS = README.split("### Subjects", 1)[1].split("\n\n", 2)[1]
ROUTERS = [router for interface in interfaces(Settings()) for router in interface.routers]
ROUTES = sorted((router.kind, router.context, name) for router in ROUTERS for name in router.routes)
PAGED = sorted(name for router in ROUTERS for name, route in router.routes.items() if issubclass(route.model, PagedQuery))
PAGING_STEP = README.split("4. Lists that grow with the log come in pages:", 1)[1].split("\n\n", 1)[0]


@pytest.mark.parametrize(("kind", "context", "name"), ROUTES)
def test_the_readme_subjects_table_names_every_route(kind, context, name):
    if kind == "cmd":
        assert f"`jf.cmd.<org>.{context}.{name}`" in SUBJECTS
    else:
        assert f"`{name}`" in SUBJECTS.split(f"`jf.q.<org>.{context}.<Query>`", 1)[1].split("\n", 1)[0]


def test_the_readme_names_every_paged_query_where_it_explains_paging():
    named = {name for name in PAGED if f"`{name}`" in PAGING_STEP}
    assert named == set(PAGED) and len(PAGED) >= 12
