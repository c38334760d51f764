"""Feed specs: the packaged ones load, broken ones are rejected with file, line and key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hukou.registry.feeds_cli import feeds_app
from hukou.registry.fields import CODE_LISTS, KINDS, STANDARD_FIELDS, code_list_of
from hukou.registry.spec import (
    ColumnSpec,
    FeedSpec,
    SpecError,
    UnknownDepartmentError,
    find_spec,
    load_all,
    load_spec,
    parse_spec,
)

runner = CliRunner()
SPECS = Path(__file__).parents[2] / "src" / "hukou" / "registry" / "specs"
DEPARTMENTS = (
    "civil_affairs",
    "education",
    "housing",
    "hr_social_security",
    "medical_insurance",
    "public_security",
    "tax",
)

# A small valid spec the broken variants are made from (line numbers matter: see line_of).
DEMO = """\
department: demo
name_zh: 演示局
name_en: Demo office
authority:
  identity_number: 1
  person_status: 2
files:
  - pattern: "demo_*.csv"
    format: csv
    encoding: utf-8
    record:
      kind: state
      meaning: one person as the demo office knows them
    record_id: 编号
    subject:
      identity: 身份证号
      name: 姓名
    columns:
      - source: 编号
        field: record_number
      - source: 身份证号
        field: identity_number
        required: true
      - source: 姓名
        field: name
      - source: 性别
        field: sex
        code_list: sex
      - source: 出生日期
        field: birth_date
        dates: ["%Y%m%d"]
      - source: 婚姻
        field: marital_status
        values:
          初婚: "21"
      - source: 状态
        field: person_status
        values:
          正常: alive
      - source: 备注
        ignore: true
        reason: free text typed at the counter
"""


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first occurrence of ``needle``."""
    return text[: text.index(needle)].count("\n") + 1


def write(tmp_path: Path, text: str, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def broken(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    assert old in DEMO, old
    text = DEMO.replace(old, new, 1)
    return write(tmp_path, text), text


# --------------------------------------------------------------------------- packaged specs


def test_every_department_has_a_spec() -> None:
    assert tuple(spec.department for spec in load_all()) == DEPARTMENTS
    assert sorted(path.stem for path in SPECS.glob("*.yaml")) == list(DEPARTMENTS)


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_packaged_spec_loads_from_its_file(department: str) -> None:
    spec = load_spec(SPECS / f"{department}.yaml")
    assert spec == find_spec(department)
    assert spec.department == department
    assert spec.name_zh
    assert spec.name_en


@pytest.mark.parametrize("spec", load_all(), ids=lambda spec: spec.department)
def test_packaged_spec_is_coherent(spec: FeedSpec) -> None:
    for kind in spec.files:
        assert kind.subject.identity is not None, kind.pattern  # every feed carries the number
        assert kind.column(kind.subject.identity).field == "identity_number"
        assert kind.subject.name is not None
        assert kind.column(kind.subject.name).field == "name"
        if kind.record_id is not None:
            assert kind.column(kind.record_id).field == "record_number"
        assert kind.format == "xlsx" or kind.encoding is not None
        for column in kind.columns:
            assert column.ignore == (column.field is None)
            if column.ignore:
                assert column.reason
    assert set(spec.authority) <= spec.fields
    assert all(rank >= 1 for rank in spec.authority.values())


def test_authority_for_identity_and_residence() -> None:
    assert find_spec("public_security").rank("identity_number") == 1
    assert find_spec("housing").rank("address") == 1
    assert find_spec("housing").rank("identity_number") is None
    # No field has two departments claiming rank 1: conflicts resolve by rule.
    first: dict[str, str] = {}
    for spec in load_all():
        for name, rank in spec.authority.items():
            if rank == 1:
                assert name not in first, (name, first.get(name), spec.department)
                first[name] = spec.department


def test_department_habits_are_declared() -> None:
    police = find_spec("public_security").files[0]
    assert police.encoding == "gbk"
    assert police.column("人员状态").values == {
        "正常": "alive",
        "死亡": "deceased",
        "迁出": "moved_out",
        "注销": "cancelled",
    }
    assert police.column("出生日期").dates == ("%Y%m%d",)
    pensions = find_spec("hr_social_security").files[0]
    assert pensions.encoding == "utf-8-sig"
    assert pensions.column("CBZT").values == {"1": "paying", "2": "suspended", "3": "terminated"}
    assert pensions.column("RYZT").values == {"1": False, "2": True}
    school = find_spec("education").files[0]
    assert (school.format, school.skip_lines, school.metadata_key) == ("jsonl", 1, "_export")
    assert school.column("ethnicity").values == {"入籍": "98"}
    medical = find_spec("medical_insurance")
    assert [f.pattern for f in medical.files] == ["cbxx_*.csv", "ydjy_ba.csv"]
    assert [f.encoding for f in medical.files] == ["gb18030", "utf-8-sig"]
    civil = find_spec("civil_affairs")
    assert [f.record.kind for f in civil.files] == ["event", "event", "state"]
    assert civil.files[0].column("登记日期").excel_serial
    assert civil.files[1].record.date == "death_date"
    lease = find_spec("housing").files[0]
    assert (lease.record.kind, lease.record.start, lease.record.end) == (
        "period",
        "lease_start",
        "lease_end",
    )
    tax = find_spec("tax").files[0]
    assert tax.column("tax_office").ignore
    assert tax.column("credit_flag").empty_value is False


def test_file_patterns_match_names() -> None:
    medical = find_spec("medical_insurance")
    assert [f.pattern for f in medical.files_for("cbxx_320505.csv")] == ["cbxx_*.csv"]
    assert [f.pattern for f in medical.files_for("ydjy_ba.csv")] == ["ydjy_ba.csv"]
    assert medical.files_for("ydjy_ba_2.csv") == ()


def test_find_spec_unknown_department_suggests() -> None:
    with pytest.raises(UnknownDepartmentError, match="did you mean 'housing'"):
        find_spec("housng")


# --------------------------------------------------------------------------- standard fields


def test_standard_fields_table() -> None:
    assert len(STANDARD_FIELDS) >= 50
    for name, field_def in STANDARD_FIELDS.items():
        assert field_def.name == name
        assert field_def.kind in KINDS
        assert field_def.zh
        assert field_def.en
        if field_def.kind == "code":
            assert code_list_of(field_def) is CODE_LISTS[str(field_def.code_list)]
        if field_def.kind == "enum":
            assert field_def.values
    sensitive = {name for name, f in STANDARD_FIELDS.items() if f.sensitive}
    assert {"identity_number", "guardian_identity_number", "phone", "guardian_phone"} <= sensitive
    assert "name" not in sensitive
    with pytest.raises(ValueError, match="not a code field"):
        code_list_of(STANDARD_FIELDS["name"])


def test_every_standard_field_is_used_by_some_spec() -> None:
    used = set().union(*(spec.fields for spec in load_all()))
    assert set(STANDARD_FIELDS) == used


# --------------------------------------------------------------------------- valid variants


def test_demo_spec_loads(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, DEMO))
    assert spec.source == str(tmp_path / "demo.yaml")
    demo = spec.files[0]
    assert demo.sources == ("编号", "身份证号", "姓名", "性别", "出生日期", "婚姻", "状态", "备注")
    assert len(demo.mapped) == 7
    assert demo.delimiter == ","
    assert demo.column("性别").code_list == "sex"
    assert demo.column("婚姻").code_list == "marital_status"  # implied by the field
    assert demo.column("备注") == ColumnSpec(
        "备注", None, ignore=True, reason="free text typed at the counter"
    )
    assert demo.column_for("birth_date") == demo.column("出生日期")
    assert demo.column_for("phone") is None
    with pytest.raises(KeyError):
        demo.column("电话")
    assert spec.fields == {
        "record_number",
        "identity_number",
        "name",
        "sex",
        "birth_date",
        "marital_status",
        "person_status",
    }


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('dates: ["%Y%m%d"]', "dates: standard"),
        ('dates: ["%Y%m%d"]', 'dates: ["%Y%m%d", standard]'),
        ("encoding: utf-8", "encoding: detect"),
        ("encoding: utf-8", 'encoding: utf-8\n    delimiter: "\\t"'),
        (
            "    subject:\n      identity: 身份证号",
            "    subject:\n      note: matched by name and birth date\n      identity: 身份证号",
        ),
        ('        values:\n          初婚: "21"', "        note: 初婚 etc. resolve by lookup"),
    ],
)
def test_valid_variants(tmp_path: Path, old: str, new: str) -> None:
    load_spec(broken(tmp_path, old, new)[0])


def test_file_without_identity_numbers_is_declared(tmp_path: Path) -> None:
    text = (
        DEMO.replace("      identity: 身份证号", "      identity: null\n      note: by name")
        .replace(
            "      - source: 身份证号\n        field: identity_number\n        required: true\n", ""
        )
        .replace("  identity_number: 1\n", "")
    )
    spec = load_spec(write(tmp_path, text))
    assert spec.files[0].subject.identity is None
    assert spec.files[0].subject.note == "by name"


# --------------------------------------------------------------------------- broken specs


@pytest.mark.parametrize(
    ("old", "new", "where", "key", "message"),
    [
        pytest.param(
            "field: birth_date",
            "field: birthdate",
            "field: birthdate",
            "files[0].columns[4].field",
            "unknown standard field 'birthdate' (did you mean 'birth_date'?)",
            id="unknown-field",
        ),
        pytest.param(
            '初婚: "21"',
            '初婚: "2"',
            '初婚: "2"',
            "files[0].columns[5].values.初婚",
            "'2' is not a GB/T 2261.2-2003 marital status code",
            id="bad-code-in-value-map",
        ),
        pytest.param(
            '初婚: "21"',
            "初婚: 初婚",
            "初婚: 初婚",
            "files[0].columns[5].values.初婚",
            "'初婚' is not a GB/T 2261.2-2003 marital status code; did you mean '21' (初婚)?",
            id="spelling-instead-of-code",
        ),
        pytest.param(
            "正常: alive",
            "正常: living",
            "正常: living",
            "files[0].columns[6].values.正常",
            "'living' is not a value of person_status (alive, deceased, moved_out, cancelled)",
            id="bad-enum-value",
        ),
        pytest.param(
            "    record_id: 编号\n",
            "",
            "  - pattern",
            "files[0].record_id",
            "required key is missing",
            id="missing-required-key",
        ),
        pytest.param(
            "name_zh: 演示局\n",
            "",
            "department: demo",
            "name_zh",
            "required key is missing",
            id="missing-top-level-key",
        ),
        pytest.param(
            "      - source: 姓名\n",
            "      - source: 性别\n",
            "      - source: 性别\n        field: sex",
            "files[0].columns[3].source",
            "duplicate source '性别' (already columns[2])",
            id="duplicate-source",
        ),
        pytest.param(
            "        required: true\n",
            '        required: "yes"\n',
            'required: "yes"',
            "files[0].columns[1].required",
            "must be true or false, not text ('yes')",
            id="wrong-type-bool",
        ),
        pytest.param(
            "      kind: state\n",
            "      kind: [state]\n",
            "kind: [state]",
            "files[0].record.kind",
            "must be text, not a list",
            id="wrong-type-list",
        ),
        pytest.param(
            "    format: csv\n",
            "    format: csv\n    colour: red\n",
            "colour: red",
            "files[0].colour",
            "unknown key",
            id="unknown-key",
        ),
        pytest.param(
            "    encoding: utf-8\n",
            "    encodng: utf-8\n",
            "encodng: utf-8",
            "files[0].encodng",
            "unknown key (did you mean 'encoding'?)",
            id="misspelt-key",
        ),
        pytest.param(
            '初婚: "21"',
            '初婚: "21"\n          1: "10"',
            '1: "10"',
            "files[0].columns[5].values",
            "YAML reads the department value 1 as a number: quote it ('1')",
            id="unquoted-numeric-value",
        ),
        pytest.param(
            "format: csv",
            "format: xls",
            "format: xls",
            "files[0].format",
            "must be one of csv, xlsx, jsonl, parquet, not 'xls'",
            id="unknown-format",
        ),
        pytest.param(
            "encoding: utf-8",
            "encoding: utf-9",
            "encoding: utf-9",
            "files[0].encoding",
            "unknown encoding 'utf-9'",
            id="unknown-encoding",
        ),
        pytest.param(
            'dates: ["%Y%m%d"]',
            'dates: ["%y%m%d"]',
            '"%y%m%d"',
            "files[0].columns[4].dates[0]",
            "%y is a two-digit year",
            id="two-digit-year",
        ),
        pytest.param(
            '        dates: ["%Y%m%d"]\n',
            "",
            "      - source: 出生日期",
            "files[0].columns[4].dates",
            "a date field needs dates",
            id="date-without-format",
        ),
        pytest.param(
            "        code_list: sex\n",
            "        code_list: sex\n        dates: standard\n",
            "dates: standard",
            "files[0].columns[3].dates",
            "a code field has no date formats",
            id="dates-on-code-field",
        ),
        pytest.param(
            "        code_list: sex\n",
            "        code_list: ethnicity\n",
            "code_list: ethnicity",
            "files[0].columns[3].code_list",
            "field 'sex' takes the code list 'sex', not 'ethnicity'",
            id="wrong-code-list",
        ),
        pytest.param(
            "        field: name\n",
            "        field: name\n        values:\n          x: y\n",
            "          x: y",
            "files[0].columns[2].values",
            "a name field takes no value map",
            id="value-map-on-name",
        ),
        pytest.param(
            "record_id: 编号",
            "record_id: 序号",
            "record_id: 序号",
            "files[0].record_id",
            "'序号' is not a column of this file",
            id="record-id-not-a-column",
        ),
        pytest.param(
            "      identity: 身份证号",
            "      identity: 姓名",
            "identity: 姓名",
            "files[0].subject.identity",
            "column '姓名' must map 'identity_number', not 'name'",
            id="subject-not-identity",
        ),
        pytest.param(
            "      identity: 身份证号",
            "      identity: null",
            "identity: null",
            "files[0].subject.identity",
            "column '身份证号' maps identity_number: name it here",
            id="identity-declared-absent-but-mapped",
        ),
        pytest.param(
            "        field: record_number\n",
            "        field: identity_number\n",
            "      - source: 身份证号",
            "files[0].columns[1].field",
            "'identity_number' is already carried by column '编号'",
            id="two-identity-columns",
        ),
        pytest.param(
            "  person_status: 2\n",
            "  person_status: 2\n  phone: 1\n",
            "phone: 1",
            "authority.phone",
            "no column of this spec maps 'phone'",
            id="authority-unmapped",
        ),
        pytest.param(
            "  person_status: 2\n",
            "  person_status: first\n",
            "person_status: first",
            "authority.person_status",
            "must be a whole number",
            id="authority-rank-type",
        ),
        pytest.param(
            "  person_status: 2\n",
            "  person_status: 0\n",
            "person_status: 0",
            "authority.person_status",
            "must be at least 1, not 0",
            id="authority-rank-zero",
        ),
        pytest.param(
            "        reason: free text typed at the counter\n",
            "",
            "      - source: 备注",
            "files[0].columns[7].reason",
            "an ignored column needs a reason",
            id="ignore-without-reason",
        ),
        pytest.param(
            "    format: csv\n",
            "    format: csv\n    sheet: Sheet1\n",
            "sheet: Sheet1",
            "files[0].sheet",
            "only XLSX has sheets, not csv",
            id="sheet-on-csv",
        ),
        pytest.param(
            "    format: csv\n",
            "    format: csv\n    metadata_key: _export\n",
            "metadata_key: _export",
            "files[0].metadata_key",
            "only a JSON Lines metadata line has keys, not csv",
            id="metadata-on-csv",
        ),
        pytest.param(
            "      kind: state\n",
            "      kind: event\n",
            "      kind: event",
            "files[0].record.date",
            "required for an event",
            id="event-without-date",
        ),
        pytest.param(
            "department: demo",
            "department: Demo",
            "department: Demo",
            "department",
            "'Demo' is not a department code",
            id="department-code",
        ),
        pytest.param(
            "department: demo",
            "department: other",
            "department: other",
            "department",
            "'other' does not match the file name: name it other.yaml",
            id="department-vs-file-name",
        ),
        pytest.param(
            "name_en: Demo office\n",
            "name_en: Demo office\nname_en: Demo\n",
            "name_en: Demo\n",
            "name_en",
            "appears twice",
            id="duplicate-yaml-key",
        ),
    ],
)
def test_broken_spec_names_file_line_and_key(
    tmp_path: Path, old: str, new: str, where: str, key: str, message: str
) -> None:
    path, text = broken(tmp_path, old, new)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    error = caught.value
    problem = next((p for p in error.problems if p.key == key), None)
    assert problem is not None, str(error)
    assert problem.file == str(path)
    assert problem.line == line_of(text, where), str(error)
    assert message in problem.message
    assert f"{path}:{problem.line}: {key}: " in str(error)


def test_error_string_format(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "field: birth_date", "field: birthdate")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    line = line_of(text, "field: birthdate")
    assert str(caught.value) == (
        f"{path}:{line}: files[0].columns[4].field: unknown standard field 'birthdate' "
        "(did you mean 'birth_date'?)"
    )
    error = caught.value
    assert (error.file, error.line, error.key) == (str(path), line, "files[0].columns[4].field")


def test_every_problem_is_reported_in_line_order(tmp_path: Path) -> None:
    text = (
        DEMO.replace("format: csv", "format: xls")
        .replace("field: birth_date", "field: birthdate")
        .replace("  person_status: 2", "  person_status: 0")
    )
    with pytest.raises(SpecError) as caught:
        load_spec(write(tmp_path, text))
    keys = [problem.key for problem in caught.value.problems]
    assert keys == ["authority.person_status", "files[0].format", "files[0].columns[4].field"]
    lines = [problem.line or 0 for problem in caught.value.problems]
    assert lines == sorted(lines)
    assert 0 not in lines
    assert len(str(caught.value).splitlines()) == 3


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "format: csv", "format: [csv")
    with pytest.raises(SpecError, match="not valid YAML") as caught:
        load_spec(path)
    assert caught.value.line is not None
    assert caught.value.line >= line_of(text, "format: [csv")


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "the file is empty"), ("- a\n- b\n", "must be a mapping, not a list")],
)
def test_not_a_spec(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load_spec(write(tmp_path, text))


def test_unreadable_spec(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read the file") as caught:
        load_spec(tmp_path / "missing.yaml")
    assert caught.value.line is None
    path = tmp_path / "demo.yaml"
    path.write_bytes(DEMO.encode("gbk"))
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(path)


def test_duplicate_patterns(tmp_path: Path) -> None:
    second = DEMO[DEMO.index("  - pattern") :]
    text = DEMO + second
    with pytest.raises(SpecError) as caught:
        load_spec(write(tmp_path, text))
    [problem] = caught.value.problems
    assert problem.key == "files[1].pattern"
    assert problem.line == DEMO.count("\n") + 1
    assert "'demo_*.csv' is already the pattern of files[0]" in problem.message


def test_parse_spec_without_a_file_name() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(DEMO.replace("format: csv", "format: xls"))
    assert caught.value.file == "<spec>"


# --------------------------------------------------------------------------- the CLI


def test_cli_list_json() -> None:
    result = runner.invoke(feeds_app, ["list", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [entry["department"] for entry in payload] == list(DEPARTMENTS)
    medical = next(entry for entry in payload if entry["department"] == "medical_insurance")
    assert [f["pattern"] for f in medical["files"]] == ["cbxx_*.csv", "ydjy_ba.csv"]
    assert medical["files"][0]["columns"] == medical["files"][0]["mapped"] == 12
    tax = next(entry for entry in payload if entry["department"] == "tax")
    assert (tax["files"][0]["columns"], tax["files"][0]["mapped"]) == (16, 15)
    assert tax["files"][0]["record"] == "state"


def test_cli_list_table() -> None:
    result = runner.invoke(feeds_app, ["list"])
    assert result.exit_code == 0, result.output
    for department in DEPARTMENTS:
        assert department in result.stdout
    assert "hjdj_*.csv" in result.stdout
    assert "12/12" in result.stdout


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_cli_check_packaged(department: str) -> None:
    result = runner.invoke(feeds_app, ["check", department])
    assert result.exit_code == 0, result.output
    assert f"spec ok: {department}" in result.stdout


def test_cli_check_file(tmp_path: Path) -> None:
    result = runner.invoke(feeds_app, ["check", str(write(tmp_path, DEMO))])
    assert result.exit_code == 0, result.output
    path, text = broken(tmp_path, "field: birth_date", "field: birthdate")
    result = runner.invoke(feeds_app, ["check", str(path)])
    assert result.exit_code == 1
    line = line_of(text, "field: birthdate")
    assert f"{path}:{line}: files[0].columns[4].field: unknown standard field" in result.stderr


def test_cli_check_unknown_department() -> None:
    result = runner.invoke(feeds_app, ["check", "police"])
    assert result.exit_code == 1
    assert "no spec for department 'police'" in result.stderr


def test_docs_list_every_standard_field() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "registry" / "feed-specs.md").read_text("utf-8")
    for name in STANDARD_FIELDS:
        assert f"| `{name}` |" in doc, name
