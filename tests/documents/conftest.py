import pytest

from tests.documents import pdfs

PAGES = [
    "町税条例の一部を改正する条例について、地方税法の改正に伴い所要の改正を行うものです。",
    "第2条中「百分の六」を「百分の五」に改める。附則 この条例は、令和9年4月1日から施行する。",
    "予算の概要 一般会計歳入歳出予算の総額は、それぞれ四十二億三千万円とする。",
]


@pytest.fixture(scope="session")
def pdf_files(tmp_path_factory):
    """Every test file, generated once per session."""
    folder = tmp_path_factory.mktemp("pdfs")
    base = pdfs.japanese_pdf(PAGES)
    changed = pdfs.japanese_pdf(
        [PAGES[0], PAGES[1].replace("百分の五", "百分の四"), PAGES[2], "追加の頁です。参考資料。"]
    )
    return {
        "base": pdfs.write(folder, "議案書.pdf", base),
        "changed": pdfs.write(folder, "議案書_差替.pdf", changed),
        "image": pdfs.write(folder, "photo.pdf", pdfs.renamed_image()),
        "truncated": pdfs.write(folder, "truncated.pdf", pdfs.truncated(base)),
        "encrypted": pdfs.write(folder, "encrypted.pdf", pdfs.encrypted(base)),
        "javascript": pdfs.write(folder, "javascript.pdf", pdfs.with_javascript(base)),
        "launch": pdfs.write(folder, "launch.pdf", pdfs.with_open_action_only(base)),
        "embedded": pdfs.write(folder, "embedded.pdf", pdfs.with_embedded_file(base)),
        "xfa": pdfs.write(folder, "xfa.pdf", pdfs.with_xfa(base)),
        "jpeg2000": pdfs.write(folder, "scan.pdf", pdfs.jpeg2000_scan()),
        "page_action": pdfs.write(folder, "page_action.pdf", pdfs.with_page_action(base)),
        "open_destination": pdfs.write(folder, "open_destination.pdf", pdfs.with_open_destination(base)),
    }


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """The factories hash a dozen passwords; PBKDF2 would make every test take seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
