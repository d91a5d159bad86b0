"""Point in time (R9–R11, R13, R18, R20): a past date's overdue advances are those the ledger knew on that day.

A recovery recorded later — whatever its value date — does not rewrite the Treasury's overdue list, a project's
overdue-advance flag or the quarterly advance report of a past date (issue #11: the flag read 0 at 30/09 while
the Treasury listed 189 tỷ; the 08.a report took today's balances)."""

from __future__ import annotations

from datetime import date

from tests.api.test_treasury_overdue import URL, _world


async def test_a_later_recovery_does_not_rewrite_a_past_date(client, world, set_today):
    # Recorded on 2024-09-25: A-R9 400 tr (contract, full recovery 2024-05-31 → overdue from 2024-08-31),
    # A-R10 300 tr (site clearance 06-05 → overdue 09-05), A-R11 200 tr (other 03-01 → overdue 09-01),
    # A-SOON 100 tr (site clearance 07-20 → overdue 10-20).
    set_today(date(2024, 9, 25))
    project, contract, post = await _world(client, world)
    set_today(date(2024, 10, 11))
    past = {"as_of": "2024-09-30"}
    before = (await client.get(URL, params=past, headers=world.h("treasury"))).json()
    assert before["total_overdue_vnd"] == 400_000_000 + 300_000_000 + 200_000_000

    # A payment recovering the whole R9 advance, value date 2024-09-20, recorded today (known 2024-10-11).
    await post(1_000_000_000, "TT-01", contract_id=contract["id"], advance_recovered_vnd=400_000_000,
               value_date="2024-09-20")
    now = (await client.get(URL, headers=world.h("treasury"))).json()
    assert sorted(i["rule"] for i in now["items"]) == ["R10", "R11"]  # today: R9 recovered

    # 30/09 as known on 30/09: nothing had been recovered yet, so the R9 advance is still overdue with 400 tr.
    then = (await client.get(URL, params=past, headers=world.h("treasury"))).json()
    assert then["total_overdue_vnd"] == 900_000_000
    r9 = next(i for i in then["items"] if i["rule"] == "R9")
    assert r9["outstanding_vnd"] == 400_000_000 and r9["overdue_vnd"] == 400_000_000

    # The project's flag on 30/09 says the same (900 tr overdue), and today's only 500 tr.
    url = f"/api/v1/projects/{project['id']}/indicators"
    for as_of, overdue in (("2024-09-30", 900_000_000), ("2024-10-11", 500_000_000)):
        flags = (await client.get(url, params={"as_of": as_of}, headers=world.h("planner"))).json()["flags"]
        flag = next(f for f in flags if f["code"] == "overdue_advances")
        assert flag["numbers"]["overdue_advance_vnd"] == overdue, (as_of, flag)

    # The Q3 report (08.a) on 30/09: outstanding 400 + 300 + 200 + 100 = 1,000 tr, of which 900 tr overdue.
    report = (await client.get("/api/v1/reports/advances", params={"year": 2024, "quarter": 3},
                               headers=world.h("treasury"))).json()
    assert report["totals"] == {"outstanding_vnd": 1_000_000_000, "overdue_vnd": 900_000_000,
                                "due_soon_vnd": 100_000_000}


async def test_an_advance_recorded_later_is_not_in_a_past_answer(client, world):
    await _world(client, world)  # every row recorded today (2024-10-11), value dates from 03-01
    # By value date the R9, R10 and R11 advances were overdue on 30/09, but as known on 30/09 none existed.
    then = (await client.get(URL, params={"as_of": "2024-09-30"}, headers=world.h("treasury"))).json()
    assert then["items"] == [] and then["total_overdue_vnd"] == 0
    now = (await client.get(URL, headers=world.h("treasury"))).json()
    assert now["total_overdue_vnd"] == 900_000_000
