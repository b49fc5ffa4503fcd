"""S7: what the borrowing unit is told before a secondment's last day (借用到期提醒).

The compliance sweep decides when (``SecondmentEndingSoon``, on the ``DayEnded`` that is
``notice_days_before_end`` days before the end); this only words it. The teacher is named by id:
alerts carry no names (issue 10), a person who needs the name looks it up in the secondment list.
"""

from __future__ import annotations

from jianfu.events.organisations import Directory
from jianfu.events.schemas.secondments import SecondmentEndingSoon

SECONDMENT_ENDING = "secondment_ending"  # the alert's kind, the third token of its subject


def days_left(notice: SecondmentEndingSoon) -> int:
    return (notice.ends_on - notice.noticed_on).days


def notice_summary(notice: SecondmentEndingSoon, directory: Directory) -> str:
    """The notice in the unit's words: which teacher, back to which school, by when, and what a
    longer stay needs (a renewal decided again, within the half-year counted over renewals)."""
    school = directory.get(notice.school_id)
    school_name = school.name if school is not None else notice.school_id
    return (f"【借用到期提醒】借用教师（编号{notice.teacher_id}，{school_name}）的借用期限至{notice.ends_on.isoformat()}，"
            f"还有{days_left(notice)}天到期。请按期安排其返回原学校；确需续借的，须重新报区教体局同意、"
            f"人社部门审批备案，连续借用不得超过半年（S7）。")
