"""Demo data, documents part: a realistic Japanese agenda packet.

The bills of 令和8年第4回定例会 (議案第45号〜第48号, each with its reasons and a 新旧対照表), the
explanatory material for the supplementary budget (説明資料) and the petition, rendered with
WeasyPrint and ingested like an upload (checks, text, thumbnails, linearized copy) by
``demo_document``. Which sitting each belongs to is the meetings' business: ``meetings.demo_packet``
links them to the demo sittings' agenda items (found by bill number, not by id).
"""

from __future__ import annotations

import tempfile
from html import escape
from pathlib import Path

from django.contrib.auth import get_user_model

from council.formats import era_date
from council.models import Council, Person
from documents import services
from documents.models import Document

COUNCIL_NAME = "磐梯町議会"
MUNICIPALITY = "磐梯町"

STYLE = """
@page { size: A4; margin: 22mm 20mm 20mm 22mm;
        @bottom-center { content: "－ " counter(page) " －"; font-size: 9pt; } }
body { font-family: "Noto Sans CJK JP", sans-serif; font-size: 10.5pt; line-height: 1.75; color: #111; }
h1 { font-size: 17pt; text-align: center; margin: 0 0 12pt; letter-spacing: 0.1em; }
h2 { font-size: 13pt; margin: 14pt 0 6pt; border-bottom: 1px solid #333; }
.no { text-align: left; font-size: 11pt; }
.date, .by { text-align: right; }
.cover { page-break-after: always; padding-top: 60mm; text-align: center; }
.cover h1 { font-size: 26pt; }
.cover p { font-size: 14pt; }
section { page-break-after: always; }
table { border-collapse: collapse; width: 100%; margin: 8pt 0; font-size: 9.5pt; }
th, td { border: 1px solid #444; padding: 3pt 5pt; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; }
.article { text-indent: 1em; }
.underline { text-decoration: underline; }
"""


def _html(title: str, sections: list[str], *, cover: str | None = None) -> str:
    head = f"<div class='cover'><h1>{escape(cover)}</h1><p>{escape(MUNICIPALITY)}</p></div>" if cover else ""
    body = "".join(f"<section>{s}</section>" for s in sections)
    return (
        f"<!DOCTYPE html><html lang='ja'><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{head}{body}</body></html>"
    )


def _bill(
    number: str, title: str, reason: str, articles: list[str], table: list[tuple[str, str]], proposed: str
) -> list[str]:
    first = (
        f"<p class='no'>{escape(number)}</p><h1>{escape(title)}</h1>"
        f"<p>{escape(title)}を次のように定める。</p>"
        f"<p class='date'>{escape(proposed)}提出</p><p class='by'>{escape(MUNICIPALITY)}長　五十嵐　正</p>"
        f"<h2>提案理由</h2><p class='article'>{escape(reason)}</p>"
    )
    body = "<h2>条文</h2>" + "".join(f"<p class='article'>{escape(a)}</p>" for a in articles)
    rows = "".join(f"<tr><td>{escape(new)}</td><td>{escape(old)}</td></tr>" for new, old in table)
    compare = (
        f"<h2>新旧対照表</h2><p>{escape(title)}</p><table><thead><tr><th>改正後</th><th>改正前</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
        "<p>（注）下線部分は改正部分を示す。</p>"
    )
    return [first, body, compare]


def packet(today) -> list[dict]:
    """The packet's entries: ``bill`` (the agenda item's bill number), ``title``, ``sections``,
    ``visibility`` and an optional ``cover``."""
    proposed = era_date(today)
    tax = _bill(
        "議案第45号",
        "磐梯町税条例の一部を改正する条例",
        "地方税法等の一部を改正する法律の施行に伴い、個人町民税における扶養控除の適用要件及び"
        "固定資産税の課税標準の特例の規定を整備するため、この条例を制定しようとするものである。",
        [
            f"第{n}条　磐梯町税条例（昭和三十年{MUNICIPALITY}条例第十二号）の一部を次のように改正する。"
            f"第{n + 33}条の{n}第1項中「百分の六」を「百分の五」に改め、同条第2項中「前年の合計所得金額が"
            "四十八万円以下」を「前年の合計所得金額が五十八万円以下」に改める。"
            for n in range(1, 7)
        ]
        + ["附　則　この条例は、令和9年4月1日から施行する。ただし、第2条の規定は、公布の日から施行する。"],
        [
            (
                "第34条の2　所得割の納税義務者が控除対象扶養親族を有する場合には、百分の五を乗じて得た額",
                "第34条の2　所得割の納税義務者が控除対象扶養親族を有する場合には、百分の六を乗じて得た額",
            ),
            (
                "第34条の6　前年の合計所得金額が五十八万円以下である者",
                "第34条の6　前年の合計所得金額が四十八万円以下である者",
            ),
            ("附則第10条の2　特例割合は三分の二とする。", "附則第10条の2　特例割合は二分の一とする。"),
        ],
        proposed,
    )
    budget_rows = [
        ("1 町税", "1,820,000", "12,000", "1,832,000"),
        ("10 地方交付税", "2,105,000", "21,500", "2,126,500"),
        ("14 国庫支出金", "412,300", "8,400", "420,700"),
        ("19 繰越金", "98,600", "6,300", "104,900"),
    ]
    budget = [
        "<p class='no'>議案第46号</p><h1>令和8年度磐梯町一般会計補正予算（第5号）</h1>"
        "<p class='article'>令和8年度磐梯町の一般会計補正予算（第5号）は、次に定めるところによる。</p>"
        "<p class='article'>（歳入歳出予算の補正）第1条　既定の歳入歳出予算の総額に歳入歳出それぞれ"
        "48,200千円を追加し、歳入歳出予算の総額を歳入歳出それぞれ5,234,100千円とする。</p>"
        f"<p class='date'>{escape(proposed)}提出</p><p class='by'>{MUNICIPALITY}長　五十嵐　正</p>",
        "<h2>第1表　歳入歳出予算補正（歳入）</h2><table><thead><tr><th>款</th><th>補正前の額（千円）</th>"
        "<th>補正額（千円）</th><th>計（千円）</th></tr></thead><tbody>"
        + "".join(
            f"<tr><td>{a}</td><td class='num'>{b}</td><td class='num'>{c}</td><td class='num'>{d}</td></tr>"
            for a, b, c, d in budget_rows
        )
        + "</tbody></table><h2>第1表　歳入歳出予算補正（歳出）</h2><table><thead><tr><th>款</th><th>補正額（千円）</th>"
        "<th>主な内容</th></tr></thead><tbody><tr><td>2 総務費</td><td class='num'>9,800</td><td>庁舎空調設備改修工事</td></tr>"
        "<tr><td>3 民生費</td><td class='num'>14,600</td><td>物価高騰対策給付金</td></tr>"
        "<tr><td>8 土木費</td><td class='num'>17,500</td><td>町道除雪経費の追加</td></tr>"
        "<tr><td>10 教育費</td><td class='num'>6,300</td><td>小学校タブレット端末の更新</td></tr></tbody></table>",
    ]
    explanation = [
        "<h1>補正予算の概要（説明資料）</h1><p class='date'>総務課</p>"
        "<h2>1　補正の趣旨</h2><p class='article'>物価高騰の影響を受ける住民生活を支援するとともに、"
        "降雪期を前に町道除雪経費を確保し、老朽化した庁舎空調設備を改修するため、所要の補正を行うものです。</p>"
        "<h2>2　主な歳出</h2><p class='article'>（1）物価高騰対策給付金　14,600千円　住民税非課税世帯に対し、"
        "1世帯あたり3万円を給付します。対象はおよそ480世帯を見込んでいます。</p>"
        "<p class='article'>（2）町道除雪経費　17,500千円　今冬の降雪に備え、委託料及び燃料費を追加します。</p>",
        "<h2>3　財源</h2><p class='article'>地方交付税21,500千円、国庫支出金8,400千円、繰越金6,300千円、"
        "町税12,000千円を充てます。基金の取崩しは行いません。</p><h2>4　今後の見通し</h2>"
        "<p class='article'>年度末の財政調整基金残高は約12億4千万円となる見込みです。</p>",
    ]
    pay = _bill(
        "議案第47号",
        "磐梯町職員の給与に関する条例の一部を改正する条例",
        "人事院勧告及び福島県人事委員会勧告に準じ、職員の給料月額及び期末手当の支給割合を改定するため、"
        "この条例を制定しようとするものである。",
        [
            "第1条　磐梯町職員の給与に関する条例の一部を次のように改正する。第15条第2項中「百分の百二十五」を"
            "「百分の百三十」に改める。",
            "別表第1を別紙のとおり改める。",
            "附　則　この条例は、公布の日から施行し、令和8年4月1日から適用する。",
        ],
        [
            ("第15条第2項　百分の百三十", "第15条第2項　百分の百二十五"),
            ("別表第1　1級1号給　166,600円", "別表第1　1級1号給　154,600円"),
        ],
        proposed,
    )
    manager = [
        "<p class='no'>議案第48号</p><h1>指定管理者の指定について</h1><p class='article'>次のとおり指定管理者を"
        "指定したいので、地方自治法第244条の2第6項の規定により、議会の議決を求める。</p>"
        "<table><tbody><tr><th>公の施設の名称</th><td>磐梯町農村環境改善センター</td></tr>"
        "<tr><th>指定管理者</th><td>一般社団法人ばんだい地域振興協会</td></tr>"
        "<tr><th>指定の期間</th><td>令和9年4月1日から令和14年3月31日まで</td></tr></tbody></table>"
        f"<p class='date'>{escape(proposed)}提出</p><p class='by'>{MUNICIPALITY}長　五十嵐　正</p>",
    ]
    petition = [
        "<p class='no'>請願第2号</p><h1>少人数学級の推進を求める請願</h1><h2>請願の趣旨</h2><p class='article'>"
        "子どもたち一人ひとりに目の行き届いた教育を行うため、小中学校における35人以下学級を着実に進め、"
        "さらに30人以下学級の実現に向けて国及び県に働きかけることを求めます。</p><h2>請願事項</h2>"
        "<p class='article'>1　国に対し、少人数学級の推進と教職員定数の改善を求める意見書を提出すること。</p>"
        "<p class='by'>請願者　磐梯町教育を考える会　代表　星野　恵子</p><p class='by'>紹介議員　渡辺　美咲</p>",
    ]
    V = Document.Visibility
    return [
        {
            "bill": "議案第45号",
            "title": "議案第45号 磐梯町税条例の一部を改正する条例",
            "sections": tax,
            "visibility": V.PUBLIC,
        },
        {
            "bill": "議案第46号",
            "title": "議案第46号 令和8年度磐梯町一般会計補正予算（第5号）",
            "sections": budget,
            "visibility": V.PUBLIC,
            "cover": "令和8年度磐梯町一般会計補正予算書",
        },
        {
            "bill": "議案第46号",
            "title": "補正予算の概要（説明資料）",
            "sections": explanation,
            "visibility": V.MEMBERS,
        },
        {
            "bill": "議案第47号",
            "title": "議案第47号 磐梯町職員の給与に関する条例の一部を改正する条例",
            "sections": pay,
            "visibility": V.PUBLIC,
        },
        {
            "bill": "議案第48号",
            "title": "議案第48号 指定管理者の指定について",
            "sections": manager,
            "visibility": V.PUBLIC,
        },
        {
            "bill": "請願第2号",
            "title": "請願第2号 少人数学級の推進を求める請願",
            "sections": petition,
            "visibility": V.PUBLIC,
        },
    ]


def clerk_of(council: Council):
    """The user the demo documents are uploaded as: a secretariat member, else a superuser."""
    person = (
        Person.objects.filter(council=council, kind=Person.Kind.SECRETARIAT, user__isnull=False, active=True)
        .select_related("user")
        .first()
    )
    if person is not None:
        return person.user
    return get_user_model().objects.filter(is_superuser=True).first()


def demo_document(*, council: Council, body, entry: dict, actor) -> tuple[Document, bool]:
    """The document of one packet entry, rendered and ingested the first time; (document, created)."""
    import weasyprint

    document = Document.objects.filter(council=council, title=entry["title"]).first()
    if document is not None:
        return document, False
    with tempfile.TemporaryDirectory(prefix="council-demo-") as folder:
        path = Path(folder) / "packet.pdf"
        weasyprint.HTML(string=_html(entry["title"], entry["sections"], cover=entry.get("cover"))).write_pdf(
            path
        )
        document = services.document_create(
            body=body,
            title=entry["title"],
            path=path,
            original_name=f"{entry['bill']}.pdf",
            actor=actor,
            visibility=entry["visibility"],
            release_now=True,
        )
    return document, True
