from datetime import timedelta
from typing import Any

from django.db import migrations, models

# A control answering with one of these proves our network reached the internet.
REACHED = {"ok", "degraded"}
# Beat rounds are at least a minute apart and a round's probes land within
# seconds, so a quiet half minute between two samples separates two rounds.
ROUND_GAP = timedelta(seconds=30)


def settle_stored_rounds(apps: Any, schema_editor: Any) -> None:
    """Mark the samples already stored from rounds where every control failed.

    The same rule as ProbeSample.settle_round, with rounds found by the gaps
    between samples (history from before this migration carries no round).
    The daily prune re-rolls the days that still have samples from these marks.
    """
    probe_sample = apps.get_model("diagnostics", "ProbeSample")
    target = apps.get_model("diagnostics", "Target")
    controls = set(target.objects.filter(kind="control").values_list("pk", flat=True))
    if not controls:
        return
    rows = probe_sample.objects.order_by("region", "probed_at").values_list(
        "pk", "region", "probed_at", "target_id", "outcome"
    )
    unmeasured: list[int] = []
    members: list[int] = []
    outcomes: set[str] = set()
    previous: tuple[str, Any] | None = None
    for pk, region, probed_at, target_id, outcome in rows.iterator():
        if previous is None or region != previous[0] or probed_at - previous[1] > ROUND_GAP:
            if outcomes and not outcomes & REACHED:
                unmeasured.extend(members)
            members, outcomes = [], set()
        members.append(pk)
        if target_id in controls:
            outcomes.add(outcome)
        previous = (region, probed_at)
    if outcomes and not outcomes & REACHED:
        unmeasured.extend(members)
    for start in range(0, len(unmeasured), 500):
        chunk = unmeasured[start : start + 500]
        probe_sample.objects.filter(pk__in=chunk).update(measured=False)


class Migration(migrations.Migration):
    dependencies = [
        ("diagnostics", "0004_pasted_page_time"),
    ]

    operations = [
        migrations.AddField(
            model_name="dailyrollup",
            name="unmeasured_samples",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="probesample",
            name="measured",
            field=models.BooleanField(default=True),
        ),
        migrations.RunPython(settle_stored_rounds, migrations.RunPython.noop),
    ]
