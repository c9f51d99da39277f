"""Run the enabled detection rules over newly stored events and raise incidents.

Single-event rules fire on the event that matches. Correlation rules count matching events per
group in a sliding window kept in the database (``CorrelationEntry``), so a worker restart loses
no count, and fire once the count crosses the rule's threshold. Counting is by event time, and
each event is counted once per rule and group however often it is processed.
"""

import functools
import logging
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from apps.siem import incidents
from apps.siem.models import ActorCountry, CorrelationEntry, DetectionRule, SecurityEvent
from apps.siem.sigma import (
    CompiledRule,
    Correlation,
    RuleError,
    cached_rule,
    threshold_crossed,
)

logger = logging.getLogger(__name__)

LOGIN_SUCCESS = "auth.login.success"
# The number of events an incident links when a correlation fires: the newest in the window.
CAUSING_EVENTS_LIMIT = 200


@dataclass
class Firing:
    rule: DetectionRule
    group_key: str
    event_ids: list[int]


# --- Fields a rule can test ---------------------------------------------------------------


def event_fields(event: SecurityEvent, enrichment: dict | None = None) -> dict:
    """The flat field map that Sigma rules see for one event."""
    fields = {
        "event_type": event.event_type, "severity": event.severity, "outcome": event.outcome,
        "actor": event.actor, "subject": event.subject, "service": event.service,
        "ip": event.ip or "", "user_agent": event.user_agent, "request_id": event.request_id,
    }  # fmt: skip
    _flatten("details", event.details or {}, fields)
    fields.update(enrichment or {})
    return fields


def _flatten(prefix: str, value, into: dict) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}", item, into)
    else:
        into[prefix] = value


@functools.cache
def _geoip():
    from geoip2fast import GeoIP2Fast

    return GeoIP2Fast()


def country_of(ip: str | None) -> str:
    if not ip:
        return ""
    code = _geoip().lookup(ip).country_code
    return "" if not code or code.startswith("-") else code


def staff_actors(events) -> set[str]:
    """Which of the events' login actors are staff, in one query for the whole batch."""
    from django.contrib.auth import get_user_model

    ids = {
        int(e.actor[5:])
        for e in events
        if e.event_type == LOGIN_SUCCESS and e.actor.startswith("user:") and e.actor[5:].isdigit()
    }
    if not ids:
        return set()
    staff = get_user_model().objects.filter(pk__in=ids, is_staff=True).values_list("pk", flat=True)
    return {f"user:{pk}" for pk in staff}


def enrich(event: SecurityEvent, staff: set[str]) -> dict:
    """Facts a rule needs that the event alone does not hold: country and admin status.

    Countries are remembered for staff accounts only, the ones the new-country rule watches. A
    login country counts as new when the account has logged in from elsewhere before and never
    from here; an account's first login sets its baseline and is not flagged.
    """
    if event.event_type != LOGIN_SUCCESS:
        return {}
    is_staff = event.actor in staff
    country = country_of(event.ip)
    facts = {"actor_is_staff": is_staff, "country": country, "country_new_for_actor": False}
    if not (country and is_staff):
        return facts

    seen, _ = ActorCountry.objects.get_or_create(
        actor=event.actor, country=country,
        defaults={"first_seen": event.occurred_at, "first_event_id": event.pk},
    )  # fmt: skip
    elsewhere_before = (
        ActorCountry.objects.filter(actor=event.actor, first_event_id__lt=event.pk)
        .exclude(country=country)
        .exists()
    )
    facts["country_new_for_actor"] = seen.first_event_id == event.pk and elsewhere_before
    return facts


# --- Running rules --------------------------------------------------------------------------


def enabled_rules() -> list[tuple[DetectionRule, CompiledRule]]:
    ready = []
    for rule in DetectionRule.objects.filter(enabled=True):
        try:
            ready.append((rule, cached_rule(rule.sigma_yaml)))
        except RuleError:
            logger.warning("detection rule %s does not compile and is skipped", rule.name)
    return ready


def detect(event_ids: list[int]) -> list[Firing]:
    """Evaluate every enabled rule on the given events, record counts, raise incidents.

    1. Match each event against each rule's conditions.
    2. For correlation rules, count the batch's matches per group in one insert, read each
       group's window once, and test the threshold at every matching event's time.
    3. Raise (or feed) one incident per rule and group that fired.
    """
    rules = enabled_rules()
    events = list(SecurityEvent.objects.filter(pk__in=event_ids).order_by("occurred_at", "id"))
    staff = staff_actors(events)
    firings: list[Firing] = []
    counted: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for event in events:
        fields = event_fields(event, enrich(event, staff))
        for rule, compiled in rules:
            if not compiled.matches(fields):
                continue
            if not compiled.correlation:
                firings.append(Firing(rule, _single_group(event), [event.pk]))
                continue
            key, value = _group_of(compiled.correlation, fields)
            if key is not None:
                counted[rule.pk][key].append((event, value))

    by_pk = {rule.pk: (rule, compiled) for rule, compiled in rules}
    for rule_pk, groups in counted.items():
        rule, compiled = by_pk[rule_pk]
        firings.extend(_count(rule, compiled.correlation, groups))

    for firing in firings:
        compiled = by_pk[firing.rule.pk][1]
        incidents.raise_incident(
            rule=firing.rule, group_key=firing.group_key, event_ids=firing.event_ids,
            title=compiled.title, severity=firing.rule.severity or compiled.level,
        )  # fmt: skip
    return firings


def _single_group(event: SecurityEvent) -> str:
    return f"actor={event.actor}" if event.actor else f"ip={event.ip or ''}"


def _group_of(correlation: Correlation, fields: dict) -> tuple[str | None, str]:
    values = [fields.get(name) for name in correlation.group_by]
    if any(value in (None, "") for value in values):
        return None, ""
    pairs = zip(correlation.group_by, values, strict=True)
    key = "|".join(f"{name}={value}" for name, value in pairs)[:255]
    value = ""
    if correlation.value_field:
        value = str(fields.get(correlation.value_field) or "")[:255]
        if not value:
            return None, ""
    return key, value


def _count(rule, correlation: Correlation, groups: dict[str, list]) -> list[Firing]:
    """Count a batch's matches of one correlation rule; return the groups that crossed.

    Two queries per rule and batch, whatever the number of groups: one insert of the entries
    (each event counted once per rule and group, however often it is processed), one read of
    the windows of every group the batch touched.
    """
    CorrelationEntry.objects.bulk_create(
        [
            CorrelationEntry(
                rule=rule, group_key=key, value=value, event_id=event.pk,
                occurred_at=event.occurred_at,
            )
            for key, items in groups.items()
            for event, value in items
        ],
        ignore_conflicts=True,
    )  # fmt: skip
    span = timedelta(seconds=correlation.seconds)
    times = [event.occurred_at for items in groups.values() for event, _ in items]
    windows: dict[str, list] = defaultdict(list)
    rows = (
        CorrelationEntry.objects.filter(
            rule=rule,
            group_key__in=list(groups),
            occurred_at__gt=min(times) - span,
            occurred_at__lte=max(times),
        )
        .order_by("occurred_at", "event_id")
        .values_list("group_key", "occurred_at", "value", "event_id")
    )
    for key, at, value, event_id in rows:
        windows[key].append((at, value, event_id))

    firings = []
    for key, items in groups.items():
        window = windows[key]
        stamps = [row[0] for row in window]
        fired_in = None
        for event, _ in items:
            first = bisect_right(stamps, event.occurred_at - span)
            last = bisect_right(stamps, event.occurred_at)
            inside = window[first:last]
            count = (
                len({row[1] for row in inside})
                if correlation.kind == "value_count"
                else len(inside)
            )
            if threshold_crossed(correlation, count):
                fired_in = inside
        if fired_in is not None:
            causing = [row[2] for row in fired_in][-CAUSING_EVENTS_LIMIT:]
            firings.append(Firing(rule, key, causing))
    return firings


def try_rules(sample_events: list[dict]) -> list[dict]:
    """Run every rule's conditions on pasted sample events, for the admin's rule tester.

    Nothing is stored. Single-event rules report the samples they match; correlation rules
    report how many samples per group matched and whether that crosses the threshold.
    """
    results = []
    for rule in DetectionRule.objects.order_by("name"):
        try:
            compiled = cached_rule(rule.sigma_yaml)
        except RuleError as error:
            results.append({"rule": rule.name, "error": str(error), "fires": False})
            continue
        results.append({"rule": rule.name, **evaluate_samples(compiled, sample_events)})
    return results


def evaluate_samples(compiled: CompiledRule, sample_events: list[dict]) -> dict:
    matched = [i for i, sample in enumerate(sample_events) if compiled.matches(_sample(sample))]
    if not compiled.correlation:
        return {"title": compiled.title, "matched": matched, "fires": bool(matched)}
    correlation = compiled.correlation
    seen: dict[str, list] = defaultdict(list)
    for index in matched:
        key, value = _group_of(correlation, _sample(sample_events[index]))
        if key is not None:
            seen[key].append(value)
    # Samples carry no reliable times: the tester counts them as if all fell in one window.
    groups = {
        key: len(set(values)) if correlation.kind == "value_count" else len(values)
        for key, values in seen.items()
    }
    fires = any(threshold_crossed(correlation, n) for n in groups.values())
    return {"title": compiled.title, "matched": matched, "groups": groups, "fires": fires}


def _sample(sample: dict) -> dict:
    fields = {}
    for key, value in sample.items():
        if key == "details" and isinstance(value, dict):
            _flatten("details", value, fields)
        else:
            fields[key] = value
    return fields
