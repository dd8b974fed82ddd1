"""The look-ahead helpers and lazy merged rows: what a list asks for before graphql-core completes its page."""

from __future__ import annotations

import asyncio
from datetime import datetime

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from schema.lookahead import fields_of, let_out
from schema.merge import Row, merge_page


def _field(name: str, *selections: object, directives: dict | None = None, **arguments: object) -> SelectedField:
    return SelectedField(name=name, directives=directives or {}, arguments=dict(arguments),
                         selections=list(selections), alias=None)  # type: ignore[arg-type]


def test_fields_of_flattens_fragments_of_matching_types_and_honours_skip_and_include() -> None:
    selections = [
        _field("id"),
        InlineFragment(type_condition="OpenMLRun", directives={}, selections=[_field("flow", _field("name"))]),
        InlineFragment(type_condition="Vantage6Run", directives={}, selections=[_field("result")]),
        FragmentSpread(name="F", type_condition="Run", directives={}, selections=[_field("task")]),
        _field("evaluation", directives={"skip": {"if": True}}, measure="predictive_accuracy"),
        _field("evaluations", directives={"include": {"if": False}}),
        _field("tags", directives={"include": {"if": True}}),
    ]
    names = [f.name for f in fields_of(selections, {"OpenMLRun", "Run", "Node"})]
    assert names == ["id", "flow", "task", "tags"]
    assert [f.name for f in fields_of(selections)] == ["id", "flow", "result", "task", "tags"]


async def test_let_out_returns_once_the_loads_are_done_or_after_its_steps() -> None:
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    done.set_result(1)
    await let_out([done])  # nothing pending: no step at all
    never = loop.create_future()
    steps = 0

    async def count() -> None:
        nonlocal steps
        while not never.done():
            steps += 1
            await asyncio.sleep(0)

    counter = asyncio.ensure_future(count())
    await let_out([never], steps=5)
    assert 4 <= steps <= 6  # the loop ran about five steps for other tasks, then gave up waiting
    never.cancel()
    await counter


def test_merged_rows_make_nodes_only_for_the_page() -> None:
    made: list[int] = []

    def node(i: int) -> int:
        made.append(i)
        return i

    rows = [Row(datetime(2024, 1, 1, 0, 0, i % 60), "openml", str(i), lambda i=i: node(i)) for i in range(1_000)]
    page = merge_page(rows, first=3, after=None)
    assert [e.node for e in page.edges] == [959, 899, 839] and sorted(made) == [839, 899, 959]


def test_page_newest_first_matches_a_plain_sort_for_every_cursor() -> None:
    """The bisecting pager against the obvious definition: dedup by key, sort descending, start after the
    cursor, cut; over random lists with duplicate and missing keys."""
    import random

    from schema.pagination import decode_cursor, page_newest_first

    rng = random.Random(7)
    for _ in range(300):
        rows = [(rng.randrange(60), rng.random()) for _ in range(rng.randrange(0, 40))]
        first = rng.randrange(1, 12)
        expected = sorted({k: (k, v) for k, v in rows}.values(), reverse=True)
        after = None
        for start in range(0, len(expected) + first, first):
            page, has_next, has_prev = page_newest_first(rows, first=first, after=after, prefix="t", key=lambda r: r[0])
            assert [r for _, r in page] == expected[start : start + first]
            assert (has_next, has_prev) == (start + first < len(expected), start > 0)
            if not page:
                break
            after = page[-1][0]
            assert decode_cursor(after, "t") == str(page[-1][1][0])
