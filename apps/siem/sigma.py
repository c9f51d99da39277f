"""Evaluate Sigma rules, parsed by pySigma, against security events held in memory.

pySigma parses rules and correlations and turns conditions into a tree of AND/OR/NOT nodes over
field comparisons; backends usually compile that tree into a query language. Here the tree is
walked directly against a flat dict of event fields, so detection runs as events arrive.

Field names are those of ``event_fields()``: the event's columns, ``details.<key>`` for each
detail, and the enrichment fields ``country``, ``country_new_for_actor`` and ``actor_is_staff``.
"""

import ipaddress
import re
from dataclasses import dataclass, field
from functools import lru_cache

import re2
import yaml
from sigma.collection import SigmaCollection
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.correlations import SigmaCorrelationConditionOperator, SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SpecialChars,
)

LEVEL_TO_SEVERITY = {
    "informational": "info", "low": "low", "medium": "medium", "high": "high",
    "critical": "critical",
}  # fmt: skip


class RuleError(ValueError):
    """A rule that cannot be parsed or uses something this evaluator does not support."""


@dataclass
class Correlation:
    kind: str  # "event_count" or "value_count"
    group_by: list[str]
    seconds: int
    operator: str  # gt, gte, lt, lte, eq, neq
    threshold: int
    value_field: str | None


@dataclass
class CompiledRule:
    """A stored rule made ready to run: its base rules' condition trees and its correlation."""

    title: str
    level: str
    conditions: list = field(default_factory=list)
    correlation: Correlation | None = None

    def matches(self, fields: dict) -> bool:
        return any(_evaluate(tree, fields) for tree in self.conditions)


def compile_rule(sigma_yaml: str) -> CompiledRule:
    """Parse Sigma YAML (one rule, or base rules plus one correlation) into a CompiledRule."""
    try:
        collection = SigmaCollection.from_yaml(sigma_yaml)
        collection.resolve_rule_references()
    except SigmaError as error:
        raise RuleError(str(error)) from error
    except yaml.YAMLError as error:
        raise RuleError(f"not valid YAML: {error}") from error
    except (ValueError, TypeError, AttributeError, KeyError) as error:
        raise RuleError(f"not a Sigma rule: {error}") from error

    correlations = [r for r in collection.rules if isinstance(r, SigmaCorrelationRule)]
    base_rules = [r for r in collection.rules if isinstance(r, SigmaRule)]
    if len(correlations) > 1:
        raise RuleError("store one correlation per rule")
    if correlations:
        referenced = [ref.rule for ref in correlations[0].rules]
        base_rules = [r for r in referenced if isinstance(r, SigmaRule)]
    if not base_rules:
        raise RuleError("the YAML holds no detection rule")

    main = correlations[0] if correlations else base_rules[0]
    compiled = CompiledRule(title=main.title, level=_level(main))
    try:
        for rule in base_rules:
            for condition in rule.detection.parsed_condition:
                tree = condition.parsed
                _check_supported(tree)
                compiled.conditions.append(tree)
    except SigmaError as error:
        raise RuleError(str(error)) from error
    if correlations:
        compiled.correlation = _correlation(correlations[0])
    return compiled


@lru_cache(maxsize=256)
def cached_rule(sigma_yaml: str) -> CompiledRule:
    return compile_rule(sigma_yaml)


def _level(rule) -> str:
    return LEVEL_TO_SEVERITY.get(rule.level.name.lower(), "medium") if rule.level else "medium"


def _correlation(rule: SigmaCorrelationRule) -> Correlation:
    kind = rule.type.name.lower()
    if kind not in {"event_count", "value_count"}:
        raise RuleError(
            f"correlation type {kind} is not supported; use event_count or value_count"
        )
    condition = rule.condition
    fieldref = getattr(condition, "fieldref", None)
    if kind == "value_count" and not fieldref:
        raise RuleError("a value_count correlation needs condition.field")
    return Correlation(
        kind=kind, group_by=list(rule.group_by or []), seconds=int(rule.timespan.seconds),
        operator=condition.op.name.lower(), threshold=int(condition.count),
        value_field=fieldref if isinstance(fieldref, str) else None,
    )  # fmt: skip


def threshold_crossed(correlation: Correlation, count: int) -> bool:
    op = SigmaCorrelationConditionOperator[correlation.operator.upper()]
    compare = {
        SigmaCorrelationConditionOperator.GT: count > correlation.threshold,
        SigmaCorrelationConditionOperator.GTE: count >= correlation.threshold,
        SigmaCorrelationConditionOperator.LT: count < correlation.threshold,
        SigmaCorrelationConditionOperator.LTE: count <= correlation.threshold,
        SigmaCorrelationConditionOperator.EQ: count == correlation.threshold,
    }
    return compare.get(op, False)


# --- Walking condition trees ----------------------------------------------------------------

_SUPPORTED_VALUES = (
    SigmaString, SigmaNumber, SigmaBool, SigmaNull, SigmaRegularExpression, SigmaCIDRExpression,
    SigmaCompareExpression, SigmaExists,
)  # fmt: skip


def _check_supported(node) -> None:
    if isinstance(node, ConditionAND | ConditionOR | ConditionNOT):
        for argument in node.args:
            _check_supported(argument)
    elif isinstance(node, ConditionFieldEqualsValueExpression | ConditionValueExpression):
        if not isinstance(node.value, _SUPPORTED_VALUES):
            raise RuleError(f"value type {type(node.value).__name__} is not supported")
        if isinstance(node.value, SigmaRegularExpression):
            _regex(node.value.regexp.to_plain())
    else:
        raise RuleError(f"condition element {type(node).__name__} is not supported")


def _evaluate(node, fields: dict) -> bool:
    if isinstance(node, ConditionAND):
        return all(_evaluate(argument, fields) for argument in node.args)
    if isinstance(node, ConditionOR):
        return any(_evaluate(argument, fields) for argument in node.args)
    if isinstance(node, ConditionNOT):
        return not _evaluate(node.args[0], fields)
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _value_matches(node.value, fields.get(node.field), node.field in fields)
    if isinstance(node, ConditionValueExpression):
        # A keyword matches when any field's text contains it as the pattern says.
        return any(_value_matches(node.value, value, True) for value in fields.values())
    return False


def _value_matches(expected, actual, present: bool) -> bool:  # noqa: PLR0911 - one per type
    if isinstance(expected, SigmaExists):
        return present == expected.exists
    if isinstance(expected, SigmaNull):
        return actual is None or actual == ""
    if actual is None:
        return False
    if isinstance(actual, list):
        return any(_value_matches(expected, item, True) for item in actual)
    if isinstance(expected, SigmaBool):
        return isinstance(actual, bool) and actual == expected.boolean
    if isinstance(expected, SigmaNumber):
        return _number(actual) == expected.number
    if isinstance(expected, SigmaCompareExpression):
        return _compare(expected, actual)
    if isinstance(expected, SigmaCIDRExpression):
        try:
            return ipaddress.ip_address(str(actual)) in expected.network
        except ValueError:
            return False
    if isinstance(expected, SigmaRegularExpression):
        return _regex(expected.regexp.to_plain()).search(_text(actual)) is not None
    return _string_pattern(expected).fullmatch(_text(actual)) is not None


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(expected: SigmaCompareExpression, actual) -> bool:
    number = _number(actual)
    if number is None:
        return False
    target = expected.number.number
    op = expected.op
    operators = SigmaCompareExpression.CompareOperators
    return {
        operators.LT: number < target,
        operators.LTE: number <= target,
        operators.GT: number > target,
        operators.GTE: number >= target,
        operators.NEQ: number != target,
    }[op]


@lru_cache(maxsize=1024)
def _regex(pattern: str):
    """A rule's |re pattern, compiled by RE2, which matches in time linear in the text.

    Rules are written by analysts and tried on the rule tester, and detection runs them on
    every event a partner sends: Python's backtracking engine would let one pattern such as
    (a+)+$ hold a worker or a web process for minutes. RE2 refuses what it cannot run in
    linear time (backreferences, lookaround), which is then a rule error.
    """
    options = re2.Options()
    options.log_errors = False  # a refused pattern is the rule's error, not a line on stderr
    try:
        return re2.compile(pattern, options)
    except re2.error as error:
        reason = error.args[0].decode() if isinstance(error.args[0], bytes) else error.args[0]
        raise RuleError(f"regular expression not supported (RE2 syntax): {reason}") from None


_PATTERNS: dict[tuple[bool, str], re.Pattern] = {}


def _string_pattern(expected: SigmaString) -> re.Pattern:
    # SigmaString is not hashable; its text form (wildcards unescaped, literals escaped) is.
    cased = isinstance(expected, SigmaCasedString)
    key = (cased, str(expected))
    if key not in _PATTERNS:
        _PATTERNS[key] = _build_pattern(expected, cased)
    return _PATTERNS[key]


def _build_pattern(expected: SigmaString, cased: bool) -> re.Pattern:
    parts = []
    for part in expected.s:
        if part == SpecialChars.WILDCARD_MULTI:
            parts.append(".*")
        elif part == SpecialChars.WILDCARD_SINGLE:
            parts.append(".")
        elif isinstance(part, str):
            parts.append(re.escape(part))
    flags = re.DOTALL if cased else re.DOTALL | re.IGNORECASE
    return re.compile("".join(parts), flags)
