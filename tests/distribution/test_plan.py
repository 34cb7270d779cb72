"""The order an invoice tries methods: override, preferred method, the tenant's run, the default run."""

from __future__ import annotations

from distribution.run.plan import DEFAULT_RUN, Plan, Step, make_plan

ALL = {"ehf", "email", "autopost", "cloudprint", "vipps"}
RUN = [{"method": "email", "template": "short"}, {"method": "ehf"}, {"method": "autopost"}]


def methods(plan: Plan) -> list[str]:
    return [step.method for step in plan.steps]


def test_no_saved_run_uses_the_default_run() -> None:
    plan = make_plan(None, available=ALL)
    assert methods(plan) == ["ehf", "email", "autopost"] == [entry["method"] for entry in DEFAULT_RUN]
    assert plan.skipped == ()


def test_tenant_run_order_and_settings_kept() -> None:
    plan = make_plan(RUN, available=ALL)
    assert methods(plan) == ["email", "ehf", "autopost"]
    assert plan.steps[0].settings == {"template": "short"}
    assert plan.to_json() == RUN


def test_preferred_method_goes_first_once() -> None:
    plan = make_plan(RUN, available=ALL, preferred="autopost")
    assert methods(plan) == ["autopost", "email", "ehf"]


def test_preferred_method_not_in_run_is_skipped_with_reason() -> None:
    plan = make_plan(RUN, available=ALL, preferred="vipps")
    assert methods(plan) == ["email", "ehf", "autopost"]
    assert [(s.method, "not enabled" in s.reason) for s in plan.skipped] == [("vipps", True)]


def test_override_is_the_only_method_with_run_settings() -> None:
    plan = make_plan(RUN, available=ALL, preferred="ehf", override="email")
    assert plan.steps == (Step("email", {"template": "short"}),)


def test_override_outside_run_has_no_settings() -> None:
    assert make_plan(RUN, available=ALL, override="cloudprint").steps == (Step("cloudprint"),)


def test_unavailable_methods_are_skipped_with_reason() -> None:
    plan = make_plan(None, available={"email"})
    assert methods(plan) == ["email"]
    assert [s.method for s in plan.skipped] == ["ehf", "autopost"]
    assert all("not available" in s.reason for s in plan.skipped)
    override = make_plan(None, available={"email"}, override="ehf")
    assert override.steps == () and override.skipped[0].method == "ehf"


def test_step_json_round_trip() -> None:
    entry = {"method": "email", "template": "x", "attach": True}
    assert Step.from_json(entry).to_json() == entry
