"""The roles a user can hold (DOMAIN.md, 'Who uses the service')."""

ADMIN = "admin"
NOMINATOR = "nominator"
JUDGE = "judge"
INSPECTOR = "inspector"
COMMITTEE = "committee"
MENTOR = "mentor"
CANDIDATE = "candidate"

ROLES: tuple[str, ...] = (ADMIN, NOMINATOR, JUDGE, INSPECTOR, COMMITTEE, MENTOR, CANDIDATE)

ROLE_LABELS: dict[str, tuple[str, str]] = {
    ADMIN: ("组织部门/党委工作人员", "Organization department staff"),
    NOMINATOR: ("推荐单位（党、政、工、团）", "Nominating body"),
    JUDGE: ("面议评委", "Interview judge"),
    INSPECTOR: ("考察组成员", "Inspection team member"),
    COMMITTEE: ("党委委员", "Party committee member"),
    MENTOR: ("培养导师", "Mentor"),
    CANDIDATE: ("参选人", "Candidate"),
}
