"""Security monitoring's protected model: incidents.

Analysts holding ``incidents:*:all`` (the security-analyst role) work every incident. Anyone
else works exactly the incidents assigned to them: assignment is an object grant, given and
taken back by ``apps.siem.incidents.assign()``.
"""

from apps.rbac.registry import declare
from apps.siem.models import Incident

declare(Incident, resource="incidents")
