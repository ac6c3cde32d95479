"""Rules -> findings: the rule registry, one module per family, the findings schema."""

from . import roads  # noqa: F401  (register the shared intermediates)
from . import farmland, homestead, setback, siting  # noqa: F401  (register the rules)
from . import homestead_form, homestead_plan  # noqa: F401  (register the rules)
from . import farmland_space, siting_land  # noqa: F401  (second edition: FARM-SPACE, SITE-*)
from .findings import FINDING_COLUMNS, concat_findings, empty_findings, finalise
from .registry import CATALOGUE, FAMILIES, RULES, Rule, implements, rules_of
from .runner import RuleOutcome, run_rules

__all__ = ["CATALOGUE", "RULES", "FAMILIES", "Rule", "implements", "rules_of", "FINDING_COLUMNS",
           "finalise", "empty_findings", "concat_findings", "run_rules", "RuleOutcome"]
