"""The roles a user can hold (DOMAIN.md, 'Who uses the service')."""

ADMIN = "admin"
NOMINATOR = "nominator"
JUDGE = "judge"
INSPECTOR = "inspector"
COMMITTEE = "committee"
MENTOR = "mentor"
CANDIDATE = "candidate"

ROLES: tuple[str, ...] = (ADMIN, NOMINATOR, JUDGE, INSPECTOR, COMMITTEE, MENTOR, CANDIDATE)

# Their labels: the catalogue's `Role` entries (service/locale).
