"""Generated test files: small Japanese PDFs (WeasyPrint) and hostile variants (pypdf)."""

from __future__ import annotations

import io
from pathlib import Path

STYLE = "@page{size:A4;margin:20mm} body{font-family:'Noto Sans CJK JP',sans-serif;font-size:12pt}"


def japanese_pdf(pages: list[str], *, title: str = "議案書") -> bytes:
    """One A4 page per entry of ``pages`` (each a paragraph of Japanese text)."""
    import weasyprint

    sections = "".join(
        f"<section style='page-break-after:always'><h1>{title} {i}</h1><p>{text}</p></section>"
        for i, text in enumerate(pages, start=1)
    )
    html = f"<html lang='ja'><head><meta charset='utf-8'><style>{STYLE}</style></head><body>{sections}</body></html>"
    return weasyprint.HTML(string=html).write_pdf()


def _rewrite(data: bytes, change) -> bytes:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted(data: bytes) -> bytes:
    return _rewrite(
        data, lambda w: w.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    )


def with_javascript(data: bytes) -> bytes:
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

    def change(w):
        action = DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert(1)"),
            }
        )
        ref = w._add_object(action)
        w._root_object[NameObject("/Names")] = DictionaryObject(
            {
                NameObject("/JavaScript"): DictionaryObject(
                    {
                        NameObject("/Names"): ArrayObject([TextStringObject("x"), ref]),
                    }
                ),
            }
        )
        w._root_object[NameObject("/OpenAction")] = ref

    return _rewrite(data, change)


def with_open_action_only(data: bytes) -> bytes:
    """An /OpenAction that runs a script, without a /Names /JavaScript tree."""
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    def change(w):
        w._root_object[NameObject("/OpenAction")] = DictionaryObject(
            {
                NameObject("/S"): NameObject("/Launch"),
                NameObject("/F"): TextStringObject("calc.exe"),
            }
        )

    return _rewrite(data, change)


def with_embedded_file(data: bytes) -> bytes:
    return _rewrite(data, lambda w: w.add_attachment("payload.exe", b"MZ not really"))


def renamed_image() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 40), "red").save(out, "PNG")
    return out.getvalue()


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def with_xfa(data: bytes) -> bytes:
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject

    def change(w):
        w._root_object[NameObject("/AcroForm")] = DictionaryObject(
            {
                NameObject("/Fields"): ArrayObject(),
                NameObject("/XFA"): ArrayObject(),
            }
        )

    return _rewrite(data, change)


def with_open_destination(data: bytes) -> bytes:
    """An /OpenAction that only says where to open (as office exports write): harmless."""
    from pypdf.generic import ArrayObject, NameObject

    def change(w):
        w._root_object[NameObject("/OpenAction")] = ArrayObject(
            [w.pages[0].indirect_reference, NameObject("/Fit")]
        )

    return _rewrite(data, change)


def with_page_action(data: bytes) -> bytes:
    """A page-open action (/AA) that runs a script."""
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    def change(w):
        w.pages[0][NameObject("/AA")] = DictionaryObject(
            {
                NameObject("/O"): DictionaryObject(
                    {
                        NameObject("/S"): NameObject("/JavaScript"),
                        NameObject("/JS"): TextStringObject("app.alert(2)"),
                    }
                )
            }
        )

    return _rewrite(data, change)


def jpeg2000_scan() -> bytes:
    """A one-page "scan": a JPEG 2000 image (as some scanners write) with a red band across it."""
    import pikepdf
    from PIL import Image

    image = Image.new("RGB", (200, 200), "white")
    image.paste((200, 0, 0), (0, 80, 200, 120))
    data = io.BytesIO()
    image.save(data, "JPEG2000")
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(300, 300))
    page = pdf.pages[0]
    stream = pikepdf.Stream(pdf, data.getvalue())
    stream.Type, stream.Subtype, stream.Filter = (
        pikepdf.Name.XObject,
        pikepdf.Name.Image,
        pikepdf.Name.JPXDecode,
    )
    stream.Width, stream.Height = 200, 200
    name = page.add_resource(stream, pikepdf.Name.XObject)
    page.contents_add(pikepdf.Stream(pdf, f"q 300 0 0 300 0 0 cm {name} Do Q".encode()))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()
