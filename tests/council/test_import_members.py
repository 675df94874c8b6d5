"""manage.py import_members: good files import completely; any bad row refuses the whole file."""

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import translation

from council.models import AuditEntry, Caucus, Membership, Person
from tests.factories import make_body, make_council

HEADER = "family_name,given_name,family_name_kana,given_name_kana,seat_number,caucus,kind,title,username,email,bodies\n"
GOOD = HEADER + (
    "佐藤,一郎,さとう,いちろう,1,新生会,councillor,議長,giin01,giin01@example.org,本会議:chair;総務常任委員会\n"
    "鈴木,花子,すずき,はなこ,2,新生会,議員,,giin02,,本会議:vice_chair;総務常任委員会:委員長\n"
    "長谷川,浩,はせがわ,ひろし,,,secretariat,事務局長,jimu,,\n"
    "五十嵐,正,いがらし,ただし,,,official,町長,,,\n"
)


@pytest.fixture
def council(db):
    council = make_council()
    make_body(council, kind="plenary", name="本会議")
    make_body(council, kind="standing", name="総務常任委員会", seats=5)
    return council


def write(tmp_path, text, *, bom=False, encoding="utf-8"):
    path = tmp_path / "members.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return str(path)


def snapshot():
    return (
        Person.objects.count(),
        Membership.objects.count(),
        User.objects.count(),
        Caucus.objects.count(),
        AuditEntry.objects.count(),
    )


@pytest.mark.parametrize("bom", [False, True])
def test_good_file_imports_everything(council, tmp_path, capsys, bom):
    call_command("import_members", write(tmp_path, GOOD, bom=bom), start="2026-04-01")
    assert Person.objects.count() == 4
    sato = Person.objects.get(family_name="佐藤")
    assert sato.seat_number == 1 and sato.caucus.name == "新生会" and sato.user.username == "giin01"
    assert not sato.user.has_usable_password()
    roles = {
        (m.person.family_name, m.body.name, m.role)
        for m in Membership.objects.select_related("person", "body")
    }
    assert roles == {
        ("佐藤", "本会議", "chair"),
        ("佐藤", "総務常任委員会", "member"),
        ("鈴木", "本会議", "vice_chair"),
        ("鈴木", "総務常任委員会", "chair"),
    }
    assert Person.objects.get(family_name="鈴木").kind == "councillor"
    assert Person.objects.get(family_name="五十嵐").user is None
    assert AuditEntry.objects.filter(action="people.import").count() == 1
    assert "4" in capsys.readouterr().out


BAD_ROWS = [
    ("佐藤,一郎,,,1,,mayor,,,,", "unknown kind “mayor”", "不明な種別"),
    ("佐藤,一郎,,,1,,councillor,,,,本会議:boss", "unknown role “boss”", "不明な役職"),
    ("佐藤,一郎,,,x,,councillor,,,,", "is not a positive whole number", "正の整数ではありません"),
    (",一郎,,,1,,councillor,,,,", "family_name is empty", "family_name が空です"),
    ("佐藤,一郎,,,1,,councillor,,,,存在しない委員会", "unknown body “存在しない委員会”", "不明な会議体"),
    (
        "長谷川,浩,,,3,,secretariat,,,,",
        "only councillors have seat numbers",
        "議席番号を持てるのは議員だけです",
    ),
    ("佐藤,一郎,,,1,,councillor,,bad name!,,", "characters that are not allowed", "使えない文字"),
    (
        "佐藤,一郎,,,1,,councillor,,u1,not-an-email,",
        "is not an e-mail address",
        "メールアドレスではありません",
    ),
    ("佐藤,一郎,,,11,,councillor,,,,", "larger than the council", "定数"),
]


@pytest.mark.parametrize("row,english,japanese", BAD_ROWS)
def test_bad_row_refuses_whole_file(council, tmp_path, row, english, japanese):
    text = GOOD + row + "\n"  # the good rows come first: none of them may be imported
    before = snapshot()
    with translation.override("en"), pytest.raises(CommandError) as refused:
        call_command("import_members", write(tmp_path, text))
    assert "Row 6" in str(refused.value) and english in str(refused.value)
    assert snapshot() == before
    with translation.override("ja"), pytest.raises(CommandError) as refused_ja:
        call_command("import_members", write(tmp_path, text))
    assert "6行目" in str(refused_ja.value) and japanese in str(refused_ja.value)


def test_duplicate_seat_within_file_and_with_existing(council, tmp_path):
    text = HEADER + "佐藤,一郎,,,1,,councillor,,,,\n鈴木,花子,,,1,,councillor,,,,\n"
    with translation.override("en"), pytest.raises(CommandError) as refused:
        call_command("import_members", write(tmp_path, text))
    assert "Row 3: seat number 1 is also given in row 2" in str(refused.value)
    Person.objects.create(
        council=council, kind="councillor", family_name="既存", given_name="議員", seat_number=5
    )
    text = HEADER + "佐藤,一郎,,,5,,councillor,,,,\n"
    with translation.override("en"), pytest.raises(CommandError) as refused:
        call_command("import_members", write(tmp_path, text))
    assert "Row 2: seat number 5 is already taken" in str(refused.value)
    assert Person.objects.count() == 1


def test_every_bad_row_is_reported(council, tmp_path):
    text = (
        HEADER
        + "佐藤,一郎,,,1,,mayor,,,,\n鈴木,花子,,,2,,councillor,,,,\n高橋,健,,,3,,councillor,,,,委員会X\n"
    )
    with translation.override("en"), pytest.raises(CommandError) as refused:
        call_command("import_members", write(tmp_path, text))
    message = str(refused.value)
    assert "Row 2:" in message and "Row 4:" in message and "Row 3:" not in message
    assert "Nothing was imported" in message
    assert Person.objects.count() == 0


def test_committee_overfull_is_refused_at_write_time(council, tmp_path):
    rows = "".join(f"議員{n},太郎,,,{n},,councillor,,,,総務常任委員会\n" for n in range(1, 7))
    before = snapshot()
    with translation.override("en"), pytest.raises(CommandError) as refused:
        call_command("import_members", write(tmp_path, HEADER + rows))
    assert "Row 7:" in str(refused.value) and "seats are all filled" in str(refused.value)
    assert snapshot() == before


@pytest.mark.parametrize(
    "text,english",
    [
        ("family_name,given_name\n佐藤,一郎\n", "The header lacks the column(s): kind."),
        ("family_name,given_name,kind,shoe_size\n佐藤,一郎,councillor,27\n", "Unknown column(s): shoe_size."),
        (HEADER, "The file has no rows to import."),
        (HEADER + "佐藤,一郎,,,1,,councillor,,,,,extra\n", "more values than columns"),
    ],
)
def test_malformed_files(council, tmp_path, text, english):
    with translation.override("en"), pytest.raises(CommandError) as refused:
        call_command("import_members", write(tmp_path, text))
    assert english in str(refused.value)
    assert Person.objects.count() == 0


def test_not_utf8(council, tmp_path):
    with translation.override("ja"), pytest.raises(CommandError) as refused:
        call_command("import_members", write(tmp_path, GOOD, encoding="shift_jis"))
    assert "UTF-8" in str(refused.value)
    assert Person.objects.count() == 0


def test_existing_username_refused(council, tmp_path):
    User.objects.create_user("giin01")
    with translation.override("en"), pytest.raises(CommandError) as refused:
        call_command("import_members", write(tmp_path, GOOD))
    assert "Row 2: user name “giin01” already exists" in str(refused.value)


def test_several_councils_need_choice(council, tmp_path):
    make_council(name="別の議会")
    with translation.override("en"), pytest.raises(CommandError, match="--council"):
        call_command("import_members", write(tmp_path, GOOD))
    call_command("import_members", write(tmp_path, GOOD), council="磐梯町議会")
    assert Person.objects.filter(council=council).count() == 4


def test_two_chairs_for_one_body_refused(council, tmp_path):
    text = HEADER + "佐藤,一郎,,,1,,councillor,,,,本会議:chair\n鈴木,花子,,,2,,councillor,,,,本会議:議長\n"
    before = snapshot()
    with translation.override("ja"), pytest.raises(CommandError) as refused:
        call_command("import_members", write(tmp_path, text))
    assert "3行目" in str(refused.value) and "議長・委員長" in str(refused.value)
    assert snapshot() == before
