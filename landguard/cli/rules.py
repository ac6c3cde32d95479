"""``landguard rules``: the rule catalogue (id, 中文名, family, basis, limits with defaults)."""

from __future__ import annotations

import click


@click.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True,
              help="text for the terminal; markdown as in docs/rules.md.")
@click.option("--family", type=click.Choice(["farmland", "homestead", "setback", "siting"]), default=None,
              help="Only one family (text format).")
def command(fmt, family):
    """The rule catalogue: 规则目录（编号、名称、依据、限值及默认值）."""
    import analyses  # noqa: F401  (registers the rules)
    from analyses.catalogue import catalogue_markdown, catalogue_text

    click.echo(catalogue_markdown() if fmt == "markdown" else catalogue_text(family), nl=False)
