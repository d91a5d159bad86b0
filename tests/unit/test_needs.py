"""R18 open needs (app.monitoring.needs): capital given answers the needs registered before it, its own pool's first."""

from __future__ import annotations

from datetime import date

from app.monitoring.needs import Grant, Need, open_needs

B = 1_000_000_000


def test_a_grant_answers_its_own_pool_first_then_the_projects_other_pools():
    needs = [Need("central", 10 * B, date(2024, 9, 1)), Need("local", 10 * B, date(2024, 9, 2))]
    # a 10 tỷ local tranche answers the local need, not the central one that sorts first
    assert open_needs(needs, [Grant("local", 10 * B, date(2024, 10, 8))]) == {"central": 10 * B, "local": 0}
    # a district project's need answered by the province's tranche in a provincial pool (R1: another holder)
    assert open_needs([Need("district", 6 * B, date(2024, 9, 1))], [Grant("province", 4 * B, date(2024, 10, 8))]) \
        == {"district": 2 * B}


def test_a_grant_answers_only_needs_registered_before_it_and_its_rest_answers_nothing_later():
    needs = [Need("p", 5 * B, date(2024, 9, 1)), Need("p", 10 * B, date(2024, 10, 20))]
    # 20 tỷ on 08/10 answers the 5 tỷ of 01/09; the 15 left over do not answer the need of 20/10
    assert open_needs(needs, [Grant("p", 20 * B, date(2024, 10, 8))]) == {"p": 10 * B}
    # in decision order: 3 on 01/10 (answers 3 of the first), 12 on 25/10 (the first's 2, then 10 of the second)
    grants = [Grant("p", 12 * B, date(2024, 10, 25)), Grant("p", 3 * B, date(2024, 10, 1))]
    assert open_needs(needs, grants) == {"p": 0}
    # the same day counts: a need registered on the decision's day is answered by it
    assert open_needs([Need("p", B, date(2024, 10, 8))], [Grant("p", B, date(2024, 10, 8))]) == {"p": 0}


def test_no_grant_leaves_every_need_open():
    assert open_needs([Need("p", 7 * B, date(2024, 9, 1)), Need("q", B, date(2024, 9, 2))], []) == {
        "p": 7 * B, "q": B}
