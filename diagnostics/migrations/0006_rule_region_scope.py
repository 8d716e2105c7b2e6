from typing import Any

from django.db import migrations, models


def down_for_everyone_from_every_region(apps: Any, schema_editor: Any) -> None:
    """The starter "down for everyone" rule now holds only when every region heard nothing.

    With several regions, one region's silence beside another's answer is no
    outage; the rule's claim checker refuses that text without this scope.
    """
    rule = apps.get_model("diagnostics", "Rule")
    rule.objects.filter(
        code="down-for-everyone", vantage="server", controls_failed=False, region_scope=""
    ).update(region_scope="every")


class Migration(migrations.Migration):
    dependencies = [
        ("diagnostics", "0005_measured_samples"),
    ]

    operations = [
        migrations.AddField(
            model_name="rule",
            name="region_scope",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "From any region"),
                    ("some", "From some regions only (another region got the page)"),
                    ("every", "From every region that checked the target"),
                ],
                help_text="With several check regions: where our server must have seen the "
                "observation above.",
                max_length=5,
            ),
        ),
        migrations.RunPython(down_for_everyone_from_every_region, migrations.RunPython.noop),
    ]
