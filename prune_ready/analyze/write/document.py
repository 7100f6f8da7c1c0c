"""A report as a list of blocks, rendered to Markdown and to HTML, so both always say the same.

Text may hold `code` spans and **bold** runs; everything else is escaped. No templating dependency: the HTML is a
single self-contained page (figures are linked, as SVG, from the report's own folder).
"""

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: list[str]
    ordered: bool = False


@dataclass(frozen=True)
class Table:
    caption: str  # "Table 3: ..."
    table: pd.DataFrame


@dataclass(frozen=True)
class Image:
    caption: str  # "Figure 1: ..."
    png: str  # paths relative to the report
    svg: str


Block = Heading | Paragraph | Bullets | Table | Image

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.45; color: #222; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.5rem; }
ol, ul { padding-left: 1.6rem; } li { margin: 0.45rem 0; }
ol.findings { background: #f6f8fa; border-left: 4px solid #3a6ea5; padding: 0.6rem 1rem 0.6rem 2.4rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.85rem; display: block;
        overflow-x: auto; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; }
caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
figure { margin: 1rem 0 2rem; } figure img { max-width: 100%; max-height: 85vh; }
h2 + figure { margin: 0.5rem 0 1rem; } h2 + figure img { max-height: 52vh; }
figcaption { font-weight: 600; } code { background: #f4f4f4; padding: 0 0.2rem; }
"""


def to_markdown(blocks: Sequence[Block]) -> str:
    parts = []
    for block in blocks:
        match block:
            case Heading(text, level):
                parts.append(f"{'#' * level} {text}")
            case Paragraph(text):
                parts.append(text)
            case Bullets(items, ordered):
                parts.append(
                    "\n".join(
                        f"{f'{i}.' if ordered else '-'} {item}" for i, item in enumerate(items, 1)
                    )
                )
            case Table(caption, table):
                parts.append(f"**{caption}**\n\n{markdown_table(table)}")
            case Image(caption, png, svg):
                parts.append(f"![{caption}]({png})\n\n**{caption}** ([SVG]({svg}))")
    return "\n\n".join(parts) + "\n"


def markdown_table(table: pd.DataFrame) -> str:
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in table.columns) + " |"]
    lines.append("|" + "---|" * len(table.columns))
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)
    ]
    return "\n".join(lines)


def to_html(blocks: Sequence[Block], title: str) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
    ]
    for block in blocks:
        match block:
            case Heading(text, level):
                parts.append(f"<h{level}>{inline(text)}</h{level}>")
            case Paragraph(text):
                parts.append(f"<p>{inline(text)}</p>")
            case Bullets(items, ordered):
                tag = 'ol class="findings"' if ordered else "ul"
                rows = "".join(f"<li>{inline(item)}</li>" for item in items)
                parts.append(f"<{tag}>{rows}</{tag.split()[0]}>")
            case Table(caption, table):
                parts.append(html_table(caption, table))
            case Image(caption, png, svg):
                parts.append(
                    f'<figure><img src="{html.escape(svg)}" alt="{html.escape(caption)}">'
                    f'<figcaption>{html.escape(caption)} (<a href="{html.escape(png)}">PNG</a>)'
                    "</figcaption></figure>"
                )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def html_table(caption: str, table: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False)
    )
    return (
        f"<table><caption>{html.escape(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    )


def inline(text: str) -> str:
    """Escaped text with `code` spans as <code> and **bold** runs as <strong>."""
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
