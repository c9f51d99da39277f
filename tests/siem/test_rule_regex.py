"""A rule's |re pattern runs on RE2: no pattern can hold a worker or the rule tester for long."""

import pytest

from apps.siem.sigma import RuleError, compile_rule

RULE = """
title: Agent pattern
logsource:
  product: portal
detection:
  selection:
    user_agent|re: '{pattern}'
  condition: selection
level: medium
"""


def test_a_pattern_that_backtracks_for_ever_in_python_answers_at_once():
    # Python's engine tries 2**64 ways to split the a's before giving up on this text; the test
    # would not finish. RE2 answers in time linear in the text.
    rule = compile_rule(RULE.format(pattern="^(a+)+$"))

    assert rule.matches({"user_agent": "a" * 64 + "!"}) is False
    assert rule.matches({"user_agent": "a" * 64}) is True


def test_a_pattern_re2_cannot_run_in_linear_time_is_a_rule_error():
    # A backreference: pySigma checks rules against RE2's syntax as it reads them.
    with pytest.raises(RuleError, match="invalid"):
        compile_rule(RULE.format(pattern=r"(ab)\1"))
