"""Names for the synthetic city: surnames by real frequency, given names by era and sex.

Surname shares are the 2020 household-register figures for the most common surnames
(王 7.1 %, 李 7.0 %, 张 6.4 % …) in round numbers, with the rest spread over a long
tail that deliberately includes surnames with special readings (单 Shan, 曾 Zeng,
解 Xie, 区 Ou, 查 Zha …) and compound surnames (欧阳, 司马, 尉迟 …), because those are
where matching goes wrong. Given-name characters follow the fashions of each era:
建国 and 秀英 in the 1950s, 伟 and 丽 in the 1970s–80s, 子轩 and 欣怡 after 2005.
Every character is in GB 2312, so GBK feeds can carry every name.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ERAS", "MINORITY_NAMES", "SURNAMES", "Era", "era_index"]

# (surname, share in ‰). Top of the 2020 list, then a tail of 1–3 ‰ names.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 71),
    ("李", 70),
    ("张", 64),
    ("刘", 53),
    ("陈", 45),
    ("杨", 31),
    ("黄", 22),
    ("赵", 21),
    ("吴", 20),
    ("周", 19),
    ("徐", 17),
    ("孙", 15),
    ("马", 15),
    ("朱", 14),
    ("胡", 13),
    ("郭", 12),
    ("何", 12),
    ("林", 11),
    ("高", 11),
    ("罗", 11),
    ("郑", 10),
    ("梁", 10),
    ("谢", 8),
    ("宋", 8),
    ("唐", 8),
    ("许", 7),
    ("韩", 7),
    ("邓", 7),
    ("冯", 7),
    ("曹", 7),
    ("彭", 6),
    ("曾", 6),
    ("肖", 6),
    ("田", 6),
    ("董", 6),
    ("潘", 5),
    ("袁", 5),
    ("蔡", 5),
    ("蒋", 5),
    ("余", 5),
    ("于", 5),
    ("杜", 5),
    ("叶", 5),
    ("程", 5),
    ("魏", 5),
    ("苏", 4),
    ("吕", 4),
    ("丁", 4),
    ("任", 4),
    ("卢", 4),
    ("姚", 4),
    ("沈", 4),
    ("钟", 4),
    ("姜", 4),
    ("崔", 4),
    ("谭", 4),
    ("陆", 4),
    ("范", 3),
    ("汪", 3),
    ("廖", 3),
    ("石", 3),
    ("金", 3),
    ("韦", 3),
    ("贾", 3),
    ("夏", 3),
    ("付", 3),
    ("方", 3),
    ("邹", 3),
    ("熊", 3),
    ("白", 3),
    ("孟", 3),
    ("秦", 3),
    ("邱", 3),
    ("侯", 3),
    ("江", 3),
    ("尹", 3),
    ("薛", 3),
    ("闫", 3),
    ("段", 3),
    ("雷", 2),
    ("龙", 2),
    ("黎", 2),
    ("史", 2),
    ("陶", 2),
    ("贺", 2),
    ("毛", 2),
    ("郝", 2),
    ("顾", 2),
    ("龚", 2),
    ("邵", 2),
    ("万", 2),
    ("覃", 2),
    ("武", 2),
    ("钱", 2),
    ("戴", 2),
    ("严", 2),
    ("欧", 2),
    ("莫", 2),
    ("孔", 2),
    ("向", 2),
    ("常", 2),
    ("汤", 2),
    ("单", 1),
    ("解", 1),
    ("仇", 1),
    ("区", 0.5),
    ("查", 1),
    ("朴", 0.5),
    ("盖", 0.5),
    ("缪", 1),
    ("翟", 1),
    ("乐", 0.5),
    ("欧阳", 1),
    ("司马", 0.3),
    ("诸葛", 0.3),
    ("上官", 0.3),
    ("尉迟", 0.2),
    ("令狐", 0.2),
)


@dataclass(frozen=True, slots=True)
class Era:
    """Given-name characters in fashion for people born from ``start`` on."""

    start: int
    male: str
    female: str
    double_share: float  # share of two-character given names


ERAS: tuple[Era, ...] = (
    Era(1900, "福贵德才富荣生根发财宝山林春海明", "秀英兰珍桂凤玉芳淑花梅翠香云", 0.55),
    Era(1950, "建国华军民强明伟忠平德胜利庆新", "秀英兰珍桂芳淑华红玉凤敏丽霞萍", 0.55),
    Era(1966, "军红卫东兵伟勇强斌平建国华文明", "红丽霞艳萍燕芳敏玲秀华英静梅", 0.45),
    Era(1977, "伟勇军磊涛斌超刚强鹏杰明华峰辉", "丽静敏燕艳娟芳婷玲霞丹琳红雪", 0.40),
    Era(1987, "磊浩杰鹏超宇飞帅鑫阳晨俊凯伟涛", "婷静丹雪倩璐琳颖佳娜瑶洁敏晶莹", 0.45),
    Era(1997, "浩宇杰俊博文轩鑫晨昊鹏天睿磊阳", "雪佳欣怡婷琪瑶梦雨晴悦妍萱涵琳", 0.70),
    Era(2005, "子轩浩然宇辰梓睿博文一诺俊熙泽", "欣怡梓涵诗雨桐可馨一诺语若汐萱", 0.85),
)


def era_index(birth_year: int) -> int:
    """The era a birth year belongs to."""
    index = 0
    for position, era in enumerate(ERAS):
        if birth_year >= era.start:
            index = position
    return index


# Names written with the separator U+00B7, for ethnic groups that do not use a surname.
# (given name, father's name) parts, combined as 买买提·艾力.
MINORITY_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # ethnicity code: (male given names, female given names, second parts)
    "05": (
        ("买买提", "艾力", "阿不都", "吐尔逊", "艾买提", "努尔", "亚森", "阿布拉"),
        ("阿依古丽", "古丽", "热依拉", "帕提曼", "米热", "迪丽", "阿娜尔", "玛依拉"),
        ("艾力", "吐尔逊", "买买提", "阿不都", "热合曼", "卡德尔", "司马义", "依明"),
    ),
    "17": (
        ("叶尔兰", "努尔兰", "别克", "达吾列提", "塔斯肯"),
        ("阿依达娜", "古丽娜尔", "沙吾列", "加娜尔"),
        ("哈布都拉", "叶尔肯", "别克", "努尔别克"),
    ),
    "04": (
        ("扎西", "次仁", "多吉", "顿珠", "平措", "格桑"),
        ("卓玛", "央金", "拉姆", "德吉", "措姆", "白玛"),
        ("", "", "", ""),
    ),
}
