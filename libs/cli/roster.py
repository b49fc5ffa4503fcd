"""A district's teachers for the demo, generated deterministically: the same directory always
gives the same teachers (ids, names, subjects), so a demo run, its test and a reader of its output
meet the same people.

Names are drawn from common surnames (with the Hui surnames frequent in Ningxia) and given-name
characters; subjects follow what primary and middle schools teach, the main subjects most often.
A teacher's id is the school's id without ``school-`` and a staff number, e.g.
``t-dwk-primary-1-007`` (a subject token, the shape ``TeacherId`` requires).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

TEACHERS_PER_SCHOOL = 40

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
            "吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱"
            "严武戴孔汤海纳撒哈冶")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰红梅建国志文斌辉鹏飞雪琳婷慧颖晨宇浩然"
         "子涵欣怡佳睿博思源嘉欣雨轩梓萱俊杰晓燕海燕春花秀珍永福德成学忠玉霞淑珍金凤丽娟")
PRIMARY_SUBJECTS = (("语文", 10), ("数学", 9), ("英语", 4), ("科学", 3), ("道德与法治", 3), ("音乐", 3),
                    ("体育", 3), ("美术", 3), ("信息科技", 2))
MIDDLE_SUBJECTS = (("语文", 6), ("数学", 6), ("英语", 6), ("物理", 4), ("化学", 3), ("生物", 3), ("历史", 3),
                   ("地理", 3), ("道德与法治", 2), ("体育", 2), ("音乐", 1), ("美术", 1))


@dataclass(frozen=True)
class Teacher:
    teacher_id: str
    school_id: str
    name: str
    subject: str


def teacher_id(school_id: str, number: int) -> str:
    return f"t-{school_id.removeprefix('school-')}-{number:03d}"


def _subjects(school_id: str) -> list[str]:
    table = MIDDLE_SUBJECTS if "middle" in school_id else PRIMARY_SUBJECTS
    return [subject for subject, weight in table for _ in range(weight)]


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def school_teachers(school_id: str, count: int = TEACHERS_PER_SCHOOL) -> list[Teacher]:
    """The ``count`` teachers of one school, the same on every run (seeded by the school's id)."""
    rng = random.Random(f"jianfu-demo-teachers:{school_id}")
    subjects = _subjects(school_id)
    return [Teacher(teacher_id(school_id, number), school_id, _name(rng), rng.choice(subjects))
            for number in range(1, count + 1)]


def district_teachers(school_ids: list[str], per_school: int = TEACHERS_PER_SCHOOL) -> list[Teacher]:
    return [teacher for school_id in school_ids for teacher in school_teachers(school_id, per_school)]
