"""The registry's standard fields: the one vocabulary every department feed is mapped to.

Seven departments write the same fact seven ways (公民身份号码, ``SFZHM``, ``id_no``,
证件号码, ``lessee_id_no``, ``taxpayer_id`` ...). A feed spec
(:mod:`hukou.registry.spec`) maps each department column to exactly one field of
:data:`STANDARD_FIELDS`; everything after ingestion (matching, authority, the
person view) speaks only these names. A field has a *kind* that says how its
values are read and validated:

=================== ===========================================================
kind                values
=================== ===========================================================
``identity_number`` GB 11643 citizen identity number (18 or legacy 15 digits)
``name``            a person's name (:mod:`hukou.standards.names` keys)
``code``            an official code of a national list (:data:`CODE_LISTS`)
``enum``            one of the registry's own values, listed on the field
``division``        a GB/T 2260 code, or a division name the spec says to look up
``date``            a calendar date
``datetime``        a date and time of day
``text``            free text (addresses, numbers that are not arithmetic)
``integer``         a whole number
``decimal``         a number with a fraction (money in yuan)
``phone``           a telephone number
``boolean``         true or false
=================== ===========================================================

Decisions (documented in ``docs/registry/feed-specs.md``):

* Facts that look alike but are not the same get separate fields, because an
  authority rank is per field: the pension register's 参保状态 and the medical
  register's 参保状态 are ``pension_status`` and ``medical_status``, otherwise the
  later file would overwrite the other's status.
* Department statuses that are not national code lists (人员状态, 参保状态, 险种类型,
  服务类型 ...) are ``enum`` fields whose values are the registry's own English
  words; a spec maps the department's words or digits onto them.
* ``sensitive`` marks what is encrypted at rest: identity numbers and phone numbers
  (they identify and reach a person), and income and tax data (financial
  information, a sensitive category of 个人信息保护法 art. 28). The registry holds no
  health data: a medical-insurance scheme or a chosen clinic is not a diagnosis.
* Dates of a status change are per status (``person_status_date``,
  ``pension_status_date``), for the same reason: 注销日期 and 状态变更日期 are not one fact.
* A department's own record number (个人编号, 学籍号, 备案编号) is ``record_number``:
  it identifies the record in that department, never a person across departments.

>>> STANDARD_FIELDS["birth_date"].kind
'date'
>>> STANDARD_FIELDS["sex"].code_list, code_list_of(STANDARD_FIELDS["sex"]).name
('sex', 'GB/T 2261.1-2003 sex')
>>> sorted(STANDARD_FIELDS["pension_status"].values)
['paying', 'suspended', 'terminated']
>>> [name for name, field in STANDARD_FIELDS.items() if field.kind == "identity_number"]
['identity_number', 'guardian_identity_number']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal, get_args

from hukou.standards.codelists import EDUCATION, ETHNICITY, MARITAL_STATUS, RELATIONSHIP, SEX
from hukou.standards.codelists import CodeList as _CodeList

__all__ = [
    "CODE_LISTS",
    "KINDS",
    "STANDARD_FIELDS",
    "FieldDef",
    "Kind",
    "code_list_of",
]

Kind = Literal[
    "identity_number",
    "name",
    "code",
    "enum",
    "division",
    "date",
    "datetime",
    "text",
    "integer",
    "decimal",
    "phone",
    "boolean",
]
"""How a field's values are read and validated (see the module docstring)."""

KINDS: Final[tuple[Kind, ...]] = get_args(Kind)

CODE_LISTS: Final[Mapping[str, _CodeList]] = MappingProxyType(
    {
        "sex": SEX,
        "ethnicity": ETHNICITY,
        "relationship": RELATIONSHIP,
        "education": EDUCATION,
        "marital_status": MARITAL_STATUS,
    }
)
"""The national code lists a ``code`` field can take, by the name specs use."""

_EMPTY: Final[Mapping[str, str]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One standard field: its name, kind, meaning in both languages, and handling.

    ``code_list`` names an entry of :data:`CODE_LISTS` (``code`` fields only);
    ``values`` maps each allowed value of an ``enum`` field to its Chinese label
    (empty for other kinds). ``sensitive`` fields are encrypted at rest.
    """

    name: str
    kind: Kind
    zh: str
    en: str
    sensitive: bool = False
    code_list: str | None = None
    values: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}")
        if (self.kind == "code") != (self.code_list is not None):
            raise ValueError(f"{self.name}: a code list is required exactly for code fields")
        if self.code_list is not None and self.code_list not in CODE_LISTS:
            raise ValueError(f"{self.name}: unknown code list {self.code_list!r}")
        if (self.kind == "enum") != bool(self.values):
            raise ValueError(f"{self.name}: values are required exactly for enum fields")
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))


def code_list_of(field_def: FieldDef) -> _CodeList:
    """The national code list of a ``code`` field; ``ValueError`` for other kinds."""
    if field_def.code_list is None:
        raise ValueError(f"{field_def.name} is a {field_def.kind} field, not a code field")
    return CODE_LISTS[field_def.code_list]


def _enum(**labels: str) -> Mapping[str, str]:
    return MappingProxyType(labels)


_FIELDS: Final[tuple[FieldDef, ...]] = (
    # --- who the person is (public security is the authority) ---
    FieldDef(
        "identity_number",
        "identity_number",
        "公民身份号码",
        "The person's GB 11643 citizen identity number: the key that links departments.",
        sensitive=True,
    ),
    FieldDef(
        "identity_type",
        "enum",
        "身份证件类型",
        "The kind of identity document the number is from.",
        values=_enum(
            resident_id_card="居民身份证",
            household_booklet="户口簿",
            passport="护照",
            hk_macao_permit="港澳居民来往内地通行证",
            taiwan_permit="台湾居民来往大陆通行证",
            foreign_permanent_residence="外国人永久居留身份证",
            other="其他",
        ),
    ),
    FieldDef("name", "name", "姓名", "The person's name, as the department wrote it."),
    FieldDef("sex", "code", "性别", "Sex (GB/T 2261.1).", code_list="sex"),
    FieldDef("birth_date", "date", "出生日期", "Date of birth."),
    FieldDef("ethnicity", "code", "民族", "Ethnic group (GB/T 3304).", code_list="ethnicity"),
    FieldDef(
        "phone",
        "phone",
        "联系电话",
        "A telephone number to reach the person (for a child often a parent's).",
        sensitive=True,
    ),
    FieldDef(
        "education",
        "code",
        "文化程度",
        "Highest level of education (GB/T 4658).",
        code_list="education",
    ),
    FieldDef(
        "marital_status",
        "code",
        "婚姻状况",
        "Marital status (GB/T 2261.2).",
        code_list="marital_status",
    ),
    FieldDef(
        "age",
        "integer",
        "年龄",
        "Age in full years on the export day, as the department computed it.",
    ),
    # --- the household register (户籍) ---
    FieldDef(
        "household_number",
        "text",
        "户号",
        "The number of the registered household (户) the person belongs to.",
    ),
    FieldDef(
        "relationship",
        "code",
        "与户主关系",
        "Relationship to the head of the registered household (GB/T 4761).",
        code_list="relationship",
    ),
    FieldDef(
        "registered_division",
        "division",
        "户籍地",
        "The division where the person's hukou is registered (GB/T 2260).",
    ),
    FieldDef(
        "registered_address",
        "text",
        "户籍地址",
        "The registered address (户籍地址), which may not be where the person lives.",
    ),
    FieldDef(
        "person_status",
        "enum",
        "人员状态",
        "Whether the person's registration is current (正常) or cancelled, and why.",
        values=_enum(alive="正常", deceased="死亡", moved_out="迁出", cancelled="其他注销"),
    ),
    FieldDef(
        "person_status_date",
        "date",
        "注销日期",
        "The day person_status took effect: when the registration was cancelled.",
    ),
    # --- where the person lives ---
    FieldDef("address", "text", "居住地址", "The address where the person actually lives."),
    FieldDef(
        "residence_division",
        "division",
        "居住地",
        "The division where the person actually lives (GB/T 2260).",
    ),
    # --- work and pensions (人社) ---
    FieldDef("employer_name", "text", "单位名称", "The employer (or withholding agent)."),
    FieldDef(
        "employer_code",
        "text",
        "统一社会信用代码",
        "The employer's unified social credit code (GB 32100).",
    ),
    FieldDef(
        "employer_division",
        "division",
        "单位所在地",
        "The division where the employer is (GB/T 2260).",
    ),
    FieldDef(
        "pension_insured_since",
        "date",
        "养老保险参保日期",
        "When the person's workers' pension account was opened.",
    ),
    FieldDef(
        "contribution_months",
        "integer",
        "累计缴费月数",
        "Months of pension contributions paid, in total.",
    ),
    FieldDef(
        "pension_status",
        "enum",
        "养老保险参保状态",
        "Status of the workers' pension account.",
        values=_enum(paying="参保缴费", suspended="暂停缴费", terminated="终止参保"),
    ),
    FieldDef(
        "pension_status_date",
        "date",
        "状态变更日期",
        "The day pension_status or retired last changed (retirement, suspension, death).",
    ),
    FieldDef("retired", "boolean", "是否退休", "Whether the person draws a pension (退休)."),
    # --- school (教育) ---
    FieldDef("school_id", "text", "学校标识码", "The school's 10-digit identifier."),
    FieldDef("school_name", "text", "学校名称", "The school's name."),
    FieldDef("grade", "integer", "年级", "School grade, 1 to 12."),
    FieldDef("enrol_date", "date", "入学日期", "When the pupil started at this school stage."),
    FieldDef(
        "migrant_child",
        "boolean",
        "随迁子女",
        "Whether the pupil is a migrant's child registered outside the city.",
    ),
    FieldDef("guardian_name", "name", "监护人姓名", "The pupil's guardian on file."),
    FieldDef(
        "guardian_identity_number",
        "identity_number",
        "监护人身份证件号",
        "The guardian's identity number (a link to another person, not the subject).",
        sensitive=True,
    ),
    FieldDef("guardian_phone", "phone", "监护人电话", "The guardian's phone.", sensitive=True),
    # --- medical insurance (医保) ---
    FieldDef(
        "medical_scheme",
        "enum",
        "险种类型",
        "The basic medical insurance scheme the person is in.",
        values=_enum(employee="职工基本医疗保险", resident="城乡居民基本医疗保险"),
    ),
    FieldDef(
        "medical_status",
        "enum",
        "医保参保状态",
        "Status of the medical insurance enrolment.",
        values=_enum(paying="参保缴费", suspended="暂停", terminated="终止"),
    ),
    FieldDef(
        "medical_insured_since",
        "date",
        "医保参保日期",
        "When the person was first enrolled in medical insurance.",
    ),
    FieldDef(
        "insured_division",
        "division",
        "参保地",
        "The division whose medical insurance fund the person is insured in.",
    ),
    FieldDef(
        "care_division",
        "division",
        "就医地",
        "The division where a person insured elsewhere filed to be treated (异地就医).",
    ),
    FieldDef(
        "clinic_id",
        "text",
        "定点医疗机构",
        "The community health centre chosen for outpatient pooling (门诊统筹).",
    ),
    FieldDef(
        "filing_type",
        "enum",
        "备案类型",
        "Why a person insured elsewhere filed for treatment here (异地就医备案类型).",
        values=_enum(
            working_elsewhere="常驻异地工作",
            living_elsewhere="异地长期居住",
            retired_resettled="异地安置退休",
            referral="转诊转院",
            temporary="临时外出就医",
        ),
    ),
    FieldDef("filing_date", "date", "备案日期", "When the filing (备案) was made."),
    # --- rental registration (住建) ---
    FieldDef("lease_start", "date", "租赁起始日期", "First day of a registered lease."),
    FieldDef("lease_end", "date", "租赁终止日期", "Last day of a registered lease."),
    FieldDef("rent", "decimal", "月租金", "Monthly rent in yuan."),
    FieldDef(
        "registered_at",
        "datetime",
        "登记时间",
        "When the record was registered or filed in the department's system.",
    ),
    # --- income tax (税务) ---
    FieldDef("tax_year", "integer", "所属年度", "The tax year a declaration belongs to."),
    FieldDef(
        "tax_period",
        "date",
        "税款所属期",
        "The last month a declaration covers, as the first day of that month.",
    ),
    FieldDef(
        "income_type",
        "enum",
        "所得项目",
        "The category of income (个人所得税法 art. 2).",
        values=_enum(
            wages="工资薪金所得",
            labour="劳务报酬所得",
            authorship="稿酬所得",
            royalties="特许权使用费所得",
            business="经营所得",
            interest_dividends="利息、股息、红利所得",
            property_lease="财产租赁所得",
            property_transfer="财产转让所得",
            incidental="偶然所得",
        ),
    ),
    FieldDef(
        "income",
        "decimal",
        "累计收入额",
        "Income in yuan (year to date for cumulative declarations).",
        sensitive=True,
    ),
    FieldDef(
        "basic_deduction",
        "decimal",
        "累计减除费用",
        "The basic allowance deducted, in yuan (5,000 a month declared).",
    ),
    FieldDef(
        "special_deduction",
        "decimal",
        "累计专项扣除",
        "Social-insurance and housing-fund contributions deducted (三险一金), in yuan.",
        sensitive=True,
    ),
    FieldDef("tax_paid", "decimal", "累计已预缴税额", "Tax withheld, in yuan.", sensitive=True),
    FieldDef(
        "tax_violator",
        "boolean",
        "重大税收违法失信主体",
        "Whether the taxpayer is on the list of serious tax-law violators.",
        sensitive=True,
    ),
    # --- civil affairs (民政): events and subsidies ---
    FieldDef(
        "event_type",
        "enum",
        "登记类型",
        "What a registered event was.",
        values=_enum(
            marriage="结婚登记",
            divorce="离婚登记",
            death="死亡登记",
            birth="出生登记",
        ),
    ),
    FieldDef("event_date", "date", "登记日期", "The day a registered event took place."),
    FieldDef(
        "event_division",
        "division",
        "发生地",
        "The division where an event took place (e.g. the place of death).",
    ),
    FieldDef("registry_office", "text", "登记机关", "The office that registered an event."),
    FieldDef("death_date", "date", "死亡日期", "Date of death."),
    FieldDef(
        "cremation_number",
        "text",
        "火化证明编号",
        "The cremation certificate; absent when the body was taken elsewhere.",
    ),
    FieldDef(
        "subsidy_type",
        "enum",
        "服务类型",
        "A subsidy the person receives.",
        values=_enum(old_age_allowance="高龄津贴", home_care_subsidy="居家养老服务补贴"),
    ),
    FieldDef("subsidy_amount", "decimal", "补贴金额", "Subsidy in yuan per month."),
    # --- the record itself ---
    FieldDef(
        "record_number",
        "text",
        "记录编号",
        "The department's own number for the record (account, certificate, contract); "
        "rows of one multi-person record share it. Never a key across departments.",
    ),
)

STANDARD_FIELDS: Final[Mapping[str, FieldDef]] = MappingProxyType({f.name: f for f in _FIELDS})
"""Every standard field by name, in the order of the table above."""

assert len(STANDARD_FIELDS) == len(_FIELDS), "a standard field is defined twice"
