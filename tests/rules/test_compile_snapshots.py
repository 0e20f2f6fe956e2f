"""The SQL each dialect gets for representative rules, kept as snapshot files.

No engine is needed: the rules compile on unbound tables. A change in the compiler or in
Ibis that changes any dialect's SQL fails here, so portability cannot silently break.
Refresh after an intended change with ``SEGMINT_UPDATE_SNAPSHOTS=1 pytest tests/rules``.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from segmint.engine.dialects import BACKENDS, DIALECTS
from segmint.engine.render import render_sql
from segmint.errors import BackendError
from segmint.rules.compile import MEASURES, Compiler, compile_rule
from segmint.rules.model import NODE_TYPES
from segmint.rules.text import parse
from segmint.rules.validate import _Checker, validate
from tests.rules.catalogs import shop_catalog

SNAPSHOTS = Path(__file__).parent / "snapshots"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
RULES = {
    "mix": 'country = "US" and did order_completed at least 3 times in last 90 days '
    "and not did email_opened in last 30 days",
    "seed_example": 'device_os = "ios" and interests contains "boxing" '
    "and not did app_open in last 90 days",
    "where_in": 'did order_completed where category in ["shoes", "hats"] '
    "at least 3 times in last 90 days",
    "aggregate": "sum(revenue) of order_completed in last 365 days > 500",
    "distinct": "distinct(category) of product_view where price >= 10 "
    "between 2026-01-01 and 2026-07-01 between 2 and 5",
    "recency": "last order_completed more than 60 days ago",
    "first_seen": "days since first app_open <= 7",
    "trend": "trend of order_completed over 60 days <= -0.5",
    "nested": "(vip = true or (loyalty_points > 100 and score between 0.5 and 2.5)) and "
    'not (`Plan Name` starts with "free" or last_login_at more than 30 days ago) '
    "and did product_view from 60 to 30 days ago",
    "timestamps": "created_at after 2025-01-01 and birth_date before 1990-06-30 "
    "and last_login_at within last 7 days",
    "segment_ref": 'in segment vip and country not in ["US", "CA"]',
    "list_property": 'did order_completed where tags contains "gift"',
    "traits": 'rfm_segment = "Champions" and p_alive > 0.5 and lifecycle_stage != "churned" '
    "and days_since_last_seen <= 30",
}
# ibis 12 compiles no JSON array access for these engines; the error must say so.
UNSUPPORTED = {("list_property", "bigquery")}


def _compile(name: str, dialect: str) -> str:
    catalog = shop_catalog({"vip": "loyalty_points > 1000 or vip = true"})
    rule = parse(RULES[name])
    validate(rule, catalog)
    # A rule on the CLV traits reads the stored predictions of one fit (here fit 1).
    expr = compile_rule(rule, catalog, AS_OF, dialect, clv=("clv_predictions", 1))
    sql = render_sql(expr.select("customer_id"), dialect)
    # Ibis names some helper columns with a random suffix (ibis_bq_arr_contains_<26 chars>).
    return re.sub(r"\b(ibis_[a-z_]+?_)[a-z0-9]{26}\b", r"\1N", sql)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", sorted(RULES))
def test_sql_snapshot(name: str, dialect: str) -> None:
    if (name, dialect) in UNSUPPORTED:
        with pytest.raises(BackendError, match=r"list property 'tags' .* not supported on") as e:
            _compile(name, dialect)
        assert e.value.location == "rule.where[0]" and e.value.engine == dialect
        return
    sql = _compile(name, dialect) + "\n"
    path = SNAPSHOTS / f"{name}.{dialect}.sql"
    if os.environ.get("SEGMINT_UPDATE_SNAPSHOTS"):
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(sql, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}; run with SEGMINT_UPDATE_SNAPSHOTS=1"
    assert sql == path.read_text(encoding="utf-8")


def test_every_node_type_has_a_handler_everywhere() -> None:
    compiler = Compiler(shop_catalog(), AS_OF, BACKENDS["duckdb"])
    checker = _Checker(shop_catalog(), [])
    for node in NODE_TYPES:
        assert node in compiler.handlers, node
        assert node in checker.handlers, node
    assert set(MEASURES) <= set(NODE_TYPES)
    assert set(BACKENDS) == set(DIALECTS)


def test_windows_are_utc_literals_not_interval_arithmetic() -> None:
    # shared/STACK.md: `as_of - interval` follows the session calendar across DST.
    for dialect in DIALECTS:
        sql = _compile("mix", dialect).upper()
        assert "INTERVAL" not in sql, dialect
