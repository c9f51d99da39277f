"""Second factors: the login stage, enrolment, verification, throttling and lockout.

The devices live in django-otp (apps.accounts.models holds our backup-code device); this
package joins them to allauth's login and to the account pages.
"""
