"""What access control costs: decisions, and one restricted page against a plain query.

Builds 100,000 customer records, 10,000 people and 1,000 groups with mixed grants (roles
scoped to a partner or to the person's own records, group and personal object grants), then
measures in one run:

* ``authorize()`` on one object, warm: decisions per second and latency percentiles;
* one page of 50 records through ``restrict()``, against the same partner's page from a plain
  indexed filter with no permission logic, and against stock django-guardian
  (``get_objects_for_user`` with group grants);
* the number of queries each needs, cold and warm, for people with few and with many grants.

Targets: p95 of one decision at most 1 ms warm; restricted page at most 1.5 times the plain
query. Run with `.venv/bin/python bench/authz.py` against PostgreSQL (DATABASE_URL).
"""

import argparse
import os
import random
import statistics
import sys
import time

from _django import describe_database, throwaway_database
from django.db import connection
from django.test.utils import CaptureQueriesContext

PARTNERS = 200
CUSTOMERS = 100_000
PEOPLE = 10_000
GROUPS = 1_000
GROUPS_PER_PERSON = 2
GRANTS_PER_GROUP = 50
GRANTS_PER_PERSON = 5
PAGE = 50
GUARDIAN_PEOPLE = 5
GUARDIAN_REPEAT = 2


def build(rng):
    """Create the data set in bulk; returns the ids the measures need."""
    from django.contrib.auth.models import Group
    from guardian.models import GroupObjectPermission, UserObjectPermission

    from apps.accounts.models import User
    from apps.partners.models import Customer, Partner
    from apps.rbac import versions
    from apps.rbac.models import Role, RoleBinding
    from apps.rbac.services import _auth_permission

    partners = Partner.objects.bulk_create(Partner(name=f"partner {n}") for n in range(PARTNERS))
    people = User.objects.bulk_create(
        (User(email=f"person{n}@bench.test", password="!") for n in range(PEOPLE)),
        batch_size=5000,
    )
    groups = Group.objects.bulk_create(Group(name=f"group {n}") for n in range(GROUPS))
    User.groups.through.objects.bulk_create(
        (
            User.groups.through(user_id=person.pk, group_id=groups[(n * 7 + k) % GROUPS].pk)
            for n, person in enumerate(people)
            for k in range(GROUPS_PER_PERSON)
        ),
        batch_size=10000,
    )
    customers = Customer.objects.bulk_create(
        (
            Customer(
                partner=partners[n % PARTNERS],
                owner=people[n % PEOPLE] if n % 10 == 0 else None,
                reference=f"ref-{n}",
                display_name=f"customer {n}",
            )
            for n in range(CUSTOMERS)
        ),
        batch_size=5000,
    )

    # Roles: 60% customers (own records), 30% partner clients, 1% compliance officers, and
    # a tenth of the groups bound to partner-client for another partner.
    roles = {role.name: role for role in Role.objects.all()}
    bindings = []
    kinds = {}
    for n, person in enumerate(people):
        if n % 100 == 0:
            bindings.append(RoleBinding(role=roles["compliance-officer"], user=person, reason="b"))
            kinds[person.pk] = "officer"
        elif n % 10 < 6:
            bindings.append(RoleBinding(role=roles["customer"], user=person, reason="b"))
            kinds[person.pk] = "customer"
        elif n % 10 < 9:
            partner = partners[n % PARTNERS]
            bindings.append(
                RoleBinding(
                    role=roles["partner-client"],
                    user=person,
                    scope=f"partner:{partner.pk}",
                    reason="b",
                )
            )
            kinds[person.pk] = ("partner", partner.pk)
        else:
            kinds[person.pk] = "grants only"
    for n, group in enumerate(groups[: GROUPS // 10]):
        partner = partners[(n * 13) % PARTNERS]
        bindings.append(
            RoleBinding(
                role=roles["partner-client"],
                group=group,
                scope=f"partner:{partner.pk}",
                reason="b",
            )
        )
    RoleBinding.objects.bulk_create(bindings, batch_size=5000)

    permission = _auth_permission(customers[0], "read")
    content_type_id = permission.content_type_id
    GroupObjectPermission.objects.bulk_create(
        (
            GroupObjectPermission(
                group_id=group.pk,
                permission_id=permission.pk,
                content_type_id=content_type_id,
                object_pk=str(rng.choice(customers).pk),
            )
            for group in groups
            for _ in range(GRANTS_PER_GROUP)
        ),
        batch_size=10000,
        ignore_conflicts=True,
    )
    UserObjectPermission.objects.bulk_create(
        (
            UserObjectPermission(
                user_id=person.pk,
                permission_id=permission.pk,
                content_type_id=content_type_id,
                object_pk=str(rng.choice(customers).pk),
            )
            for person in people
            for _ in range(GRANTS_PER_PERSON)
        ),
        batch_size=10000,
        ignore_conflicts=True,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    versions.bump_all()
    return people, customers, kinds


def counted(action) -> int:
    """Queries one call makes (the log is emptied first: it keeps at most 9,000 entries)."""
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def measure_decisions(rng, people, customers, count):
    from apps.rbac.services import authorize

    sample_people = rng.sample(people, 1000)
    pairs = [(rng.choice(sample_people), rng.choice(customers)) for _ in range(count)]
    # Warm: every pair once, untimed, so grants and object ids are resolved and each binding's
    # hourly "last used" write has happened; the timed pass is what a busy process sees.
    for person, customer in pairs:
        authorize(person, "read", "customers", customer)

    allowed = 0
    latencies = []
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as captured:
        cpu_started = time.process_time()
        started = time.perf_counter()
        for person, customer in pairs:
            before = time.perf_counter_ns()
            allowed += authorize(person, "read", "customers", customer).allowed
            latencies.append((time.perf_counter_ns() - before) / 1e6)
        elapsed = time.perf_counter() - started
        measure_decisions.cpu_ms = (time.process_time() - cpu_started) * 1000 / count
    measure_decisions.queries = len(captured)
    return count / elapsed, latencies, allowed


def timed_ms(action, repeat):
    samples = []
    for _ in range(repeat):
        before = time.perf_counter_ns()
        action()
        samples.append((time.perf_counter_ns() - before) / 1e6)
    return samples


def measure_pages(rng, people, kinds, repeat):
    from guardian.shortcuts import get_objects_for_user

    from apps.partners.models import Customer
    from apps.rbac import versions
    from apps.rbac.services import restrict

    clients = [p for p in people if isinstance(kinds[p.pk], tuple)]
    sample = rng.sample(clients, 40)
    ordered = Customer.objects.order_by("-id")
    results = {"restricted": [], "plain": [], "guardian": [], "restricted query only": []}
    overlaps = []
    queries = {"restricted cold": set(), "restricted warm": set(), "plain": set(),
               "guardian": set()}  # fmt: skip

    def restricted(person):
        return list(restrict(ordered, person, "read")[:PAGE])

    def plain(person):
        return list(ordered.filter(partner_id=kinds[person.pk][1])[:PAGE])

    def guardian(person):
        found = get_objects_for_user(
            person, "partners.view_customer", klass=ordered, use_groups=True,
            with_superuser=False, accept_global_perms=False,
        )  # fmt: skip
        return list(found[:PAGE])

    for number, person in enumerate(sample):
        versions.bump_user(person.pk)  # cold: the person's grants are resolved again
        queries["restricted cold"].add(counted(lambda p=person: restricted(p)))
        measured = [("restricted", restricted), ("plain", plain)]
        if number < GUARDIAN_PEOPLE:
            measured.append(("guardian", guardian))
        for name, action in measured:
            key = "restricted warm" if name == "restricted" else name
            queries[key].add(counted(lambda a=action, p=person: a(p)))
        # Interleaved, so that load elsewhere on the machine weighs on all of them alike. Stock
        # guardian takes seconds per page here, so it is timed for the first few people only.
        measures = [("restricted", restricted), ("plain", plain)]
        for turn in range(repeat):
            if number < GUARDIAN_PEOPLE and turn < GUARDIAN_REPEAT:
                results["guardian"].extend(timed_ms(lambda p=person: guardian(p), 1))
            for name, action in measures:
                results[name].extend(timed_ms(lambda a=action, p=person: a(p), 1))
            # The same SQL with the decision point's work (cache round trip, building the
            # WHERE clause) done beforehand: what the database alone spends on the rules.
            built = restrict(ordered, person, "read")[:PAGE]
            results["restricted query only"].extend(timed_ms(lambda q=built: list(q.all()), 1))
        mine = {c.pk for c in restricted(person)}
        theirs = {c.pk for c in plain(person)}
        overlaps.append(len(mine & theirs) / PAGE)
    return results, queries, overlaps


def explain(rng, people, kinds):
    from guardian.shortcuts import get_objects_for_user

    from apps.partners.models import Customer
    from apps.rbac.services import restrict

    person = rng.choice([p for p in people if isinstance(kinds[p.pk], tuple)])
    ordered = Customer.objects.order_by("-id")
    restricted = restrict(ordered, person, "read")[:PAGE]
    plain = ordered.filter(partner_id=kinds[person.pk][1])[:PAGE]
    stock = get_objects_for_user(
        person, "partners.view_customer", klass=ordered, use_groups=True,
        with_superuser=False, accept_global_perms=False,
    )[:PAGE]  # fmt: skip
    for name, query in (("plain", plain), ("restricted", restricted), ("guardian", stock)):
        print(f"--- {name}\n{query.query}\n{query.explain(analyze=True)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=25, help="page timings per person")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--explain", action="store_true", help="print query plans and stop")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with throwaway_database():
        started = time.perf_counter()
        people, customers, kinds = build(rng)
        built = time.perf_counter() - started
        print(f"built in {built:.0f} s", file=sys.stderr)
        if args.explain:
            explain(rng, people, kinds)
            return

        rate, latencies, allowed = measure_decisions(rng, people, customers, args.decisions)
        print(f"decisions measured: {rate:,.0f}/s", file=sys.stderr)
        pages, queries, overlaps = measure_pages(rng, people, kinds, args.repeat)

    print(f"database: {describe_database()}")
    print(
        f"page timings: {len(pages['plain'])} plain, {len(pages['restricted'])} restricted, "
        f"{len(pages['guardian'])} stock guardian (slow: timed for {GUARDIAN_PEOPLE} people)"
    )
    print(
        f"data: {CUSTOMERS:,} customers, {PEOPLE:,} people, {GROUPS:,} groups, "
        f"{GROUPS * GRANTS_PER_GROUP:,} group and {PEOPLE * GRANTS_PER_PERSON:,} personal "
        f"object grants (built in {built:.0f} s)"
    )
    print(
        f"authorize(), warm: {rate:,.0f} decisions/s over {len(latencies):,} "
        f"({allowed:,} allowed); p50 {percentile(latencies, 0.5):.3f} ms, "
        f"p95 {percentile(latencies, 0.95):.3f} ms, p99 {percentile(latencies, 0.99):.3f} ms "
        f"(target p95 <= 1 ms); database queries during the timed pass: "
        f"{measure_decisions.queries}; CPU time per decision in this process "
        f"{measure_decisions.cpu_ms:.3f} ms"
    )
    print(f"load average at the end (2 cores shared with other work): {os.getloadavg()[0]:.1f}")
    medians = {name: statistics.median(samples) for name, samples in pages.items()}
    p95s = {name: percentile(samples, 0.95) for name, samples in pages.items()}
    counts = {"plain": queries["plain"], "restricted": queries["restricted warm"],
              "guardian": queries["guardian"]}  # fmt: skip
    for name in ("plain", "restricted", "guardian"):
        print(
            f"page of {PAGE}, {name:10}: median {medians[name]:.3f} ms, "
            f"p95 {p95s[name]:.3f} ms, queries {sorted(counts[name])}"
        )
    cold = sorted(queries["restricted cold"])
    print(f"restricted page queries when cold (grants resolved first): {cold}")
    query_only = medians["restricted query only"]
    print(f"page of {PAGE}, restricted SQL alone (rules resolved beforehand): median "
          f"{query_only:.3f} ms, ratio to plain {query_only / medians['plain']:.2f}")  # fmt: skip
    restricted_ratio = medians["restricted"] / medians["plain"]
    guardian_ratio = medians["guardian"] / medians["plain"]
    print(
        f"ratio restricted/plain: {restricted_ratio:.2f} (target <= 1.50); "
        f"guardian/plain: {guardian_ratio:.2f}"
    )
    print(
        f"restricted page shares {statistics.mean(overlaps):.0%} of its rows with the "
        "partner's plain page (the rest are records shared with the person one by one)"
    )


if __name__ == "__main__":
    main()
